"""The error answers every operation can give, added to the OpenAPI document.

Views document their successful answers; the errors follow from how the API is built
(Bearer tokens, role permissions, reach, strict input) and are the same everywhere, so
they are described once here rather than on every view.
"""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class SignInTokenScheme(KnoxTokenScheme):
    """The product's Bearer tokens are knox's, with their last use noted."""

    target_class = "clinic.sign_ins.TokenAuthentication"


ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "description": "What went wrong, for a person to read.",
}
BAD_INPUT = {
    "type": "object",
    "additionalProperties": {},
    "description": (
        'Either `{"detail": message}`, or a list of messages per input field, e.g. '
        '`{"pain_before": ["Ensure this value is less than or equal to 10."]}` '
        "(nested for lists and objects)."
    ),
}


def _answer(description: str, name: str) -> dict:
    schema = {"$ref": f"#/components/schemas/{name}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def add_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook; answers a view documents itself are kept, and
    given the shared body when they describe none (every error answer has one)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("BadInput", BAD_INPUT)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            queries = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            signed_in = any(operation.get("security", [{}]))
            if not signed_in:
                # drf-spectacular writes `[{}]` ("anonymous allowed") for a view without
                # authentication; `[]` says it takes no credentials at all, which typed
                # clients read as callable without a token.
                operation["security"] = []
            for status, answer in responses.items():
                if status.startswith("4") and "content" not in answer:
                    shared = "BadInput" if status == "400" else "Error"
                    answer["content"] = _answer(answer["description"], shared)["content"]
            wanted = {}
            if queries or "requestBody" in operation or method in ("post", "patch"):
                wanted["400"] = _answer("Bad input, or not possible in this state.", "BadInput")
            if signed_in:
                wanted["401"] = _answer("No valid Bearer token.", "Error")
                wanted["403"] = _answer("This role may not do this.", "Error")
            if "{" in path or "page" in queries:
                wanted["404"] = _answer("Outside the caller's reach, or no such page.", "Error")
            if "requestBody" in operation:
                wanted["413"] = _answer("The body is over the size limit.", "Error")
                wanted["415"] = _answer("The body is not JSON.", "Error")
            # Sign-in throttles callers by address, every other operation by user.
            wanted["429"] = _answer("Too many requests; wait and retry.", "Error")
            for status, answer in wanted.items():
                responses.setdefault(status, answer)
    return result
