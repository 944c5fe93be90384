"""The one JSON parser every API view uses: it refuses what would otherwise fail deep
inside the code (a 500) or at the database, with a 400 a client can read."""

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

# Far deeper than any body the API takes (a check-in nests two levels), far shallower
# than Python's recursion limit, which serialising or validating a deep body would hit.
MAX_DEPTH = 32


def unstorable(text: str) -> str | None:
    """Why a database cannot store this text (PostgreSQL refuses NUL, every UTF-8 store
    refuses a lone surrogate such as "\\ud800"), or None."""
    if "\x00" in text:
        return "NUL characters are not allowed."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Unpaired surrogate characters are not allowed."
    return None


def _bad_input(name: str | None, problem: str) -> exceptions.APIException:
    if name is None:
        return exceptions.ParseError(problem)
    return exceptions.ValidationError({name: [problem]})


def check_text(value, name: str | None = None, depth: int = 0) -> None:
    """Raises a 400 naming `name` (the body as a whole when None) when `value`, or any text
    nested in it, cannot be stored, or when it nests deeper than MAX_DEPTH. Iterative, so
    a deep body costs no recursion."""
    pending = [(value, depth)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _bad_input(name, f"Nest at most {MAX_DEPTH} levels deep.")
        if isinstance(item, str):
            if problem := unstorable(item):
                raise _bad_input(name, problem)
        elif isinstance(item, dict):
            for key, child in item.items():
                if problem := unstorable(key):
                    raise _bad_input(name, problem)
                pending.append((child, depth + 1))
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)


class SafeJSONParser(JSONParser):
    """JSON bodies nested at most MAX_DEPTH levels, with texts a database can store. (The
    size of a body is checked before it is read, by clinic.middleware.EdgeMiddleware.)"""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                f"JSON parse error - nested more than {MAX_DEPTH} levels deep."
            ) from None
        if isinstance(data, dict):
            for key, value in data.items():
                check_text(key)
                check_text(value, key, depth=1)
        else:
            check_text(data)
        return data
