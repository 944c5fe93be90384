"""A bounded crawler for the server-rendered pages: from a few landing pages it follows
every link and reads every form it finds, then sends each query parameter, form field and
id in a path hostile values. It reports every answer a user must never see: a 500, or
Django's own page (its debug page, or its bare error pages) instead of the product's."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from django.test import Client

# Where the crawler may go; everything else (static files, downloads of other sites,
# the API, which has its own fuzzing) is out of its reach.
PREFIXES = ("/staff/", "/my/", "/c/", "/stop/", "/admin/", "/healthz")
# Links and forms that end the session or would lead the crawl astray.
SKIP = ("logout", "/delete/", "/admin/password_change", "/admin/jsi18n", "/history/")

DJANGO_OWN_PAGES = (
    "You're seeing this error because you have <code>DEBUG = True</code>",
    "<h1>Server Error (500)</h1>",
    "<h1>Bad Request (400)</h1>",
    "<h1>Forbidden <span>(403)</span></h1>",
    "<h1>Not Found</h1>",
    "Traceback",
)

HUGE = "x" * 20_000


def hostile_values(other_ids: list[int], full: bool) -> list[str]:
    """Values no form or link sends. The quick set covers each kind of trouble once."""
    quick = ["\x00x", HUGE, "-1", "99999999999999999999999", "abc", "9999-12-31"]
    if not full:
        return [*quick, str(other_ids[0])]
    more = ["", "0", "1.5", "2026-02-30", "0001-01-01", "<script>alert(1)</script>", "🦴 ü"]
    return [*quick, *more, *map(str, other_ids)]


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)


class PageParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = Form(attrs.get("action") or "", (attrs.get("method") or "get").lower())
            self.forms.append(self._form)
        elif self._form is None or (not attrs.get("name") and tag != "option"):
            return
        elif tag in ("input", "button"):
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if tag == "button" and "value" not in attrs:
                return
            self._form.fields.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "select":
            self._select, self._select_first = attrs["name"], None
        elif tag == "option" and self._select is not None:
            if self._select_first is None or "selected" in attrs:
                self._select_first = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._form.fields.append((attrs["name"], ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._form.fields.append((self._select, self._select_first or ""))
            self._select = None


def reachable(path: str) -> bool:
    return path.startswith(PREFIXES) and not any(skip in path for skip in SKIP)


def problem(response) -> str | None:
    """What is wrong with this answer, or None."""
    if response.status_code >= 500:
        return f"status {response.status_code}"
    try:
        raw = b"".join(response.streaming_content) if response.streaming else response.content
    except Exception as error:  # a streamed body (the CSV) fails after its 200 went out
        return f"{type(error).__name__} while streaming: {error}"
    body = raw.decode(errors="replace")
    for marker in DJANGO_OWN_PAGES:
        if marker in body:
            return f"Django's own page ({marker!r})"
    html = response["Content-Type"].startswith("text/html")
    # A method the page does not take: an empty 405 naming the allowed ones (Allow).
    if response.status_code == 405 and not body and response.has_header("Allow"):
        return None
    if response.status_code >= 400 and html and 'rel="stylesheet"' not in body:
        return f"status {response.status_code} without the product's page"
    return None


@dataclass
class Crawl:
    client: Client
    start: list[str]
    other_ids: list[int]
    max_pages: int = 40
    full: bool = False
    findings: list[str] = field(default_factory=list)
    requests: int = 0
    pages: set[str] = field(default_factory=set)

    def send(self, method: str, url: str, data=None):
        self.requests += 1
        if method == "get":
            response = self.client.get(url)
        else:
            response = getattr(self.client, method)(url, data or {})
        if found := problem(response):
            shown = {k: (v[:40] + "…" if len(v) > 40 else v) for k, v in (data or {}).items()}
            self.findings.append(f"{method.upper()} {url[:160]} {shown or ''} → {found}")
        return response

    def run(self) -> "Crawl":
        queue = list(self.start)
        forms: dict[tuple[str, str], Form] = {}
        while queue and len(self.pages) < self.max_pages:
            url = queue.pop(0)
            if url in self.pages:
                continue
            self.pages.add(url)
            response = self.send("get", url)
            if response.status_code in (301, 302) and reachable(response["Location"]):
                queue.append(urljoin(url, response["Location"]))
                continue
            if not response["Content-Type"].startswith("text/html"):
                continue
            parser = PageParser()
            parser.feed(response.content.decode(errors="replace"))
            for href in parser.links:
                target = urljoin(url, href)
                parts = urlsplit(target)
                if not parts.netloc and reachable(parts.path) and target not in self.pages:
                    queue.append(target)
            for form in parser.forms:
                action = urljoin(url, form.action or url)
                if reachable(urlsplit(action).path):
                    forms.setdefault((form.method, urlsplit(action).path), form)
                    form.action = action
        # One page of each shape (ids written as N) stands for the others, with every
        # query parameter seen on any of them.
        shapes: dict[str, tuple[str, set[str]]] = {}
        for url in sorted(self.pages):
            parts = urlsplit(url)
            shape = "/".join("N" if s.isdigit() else s for s in parts.path.split("/"))
            _, names = shapes.setdefault(shape, (parts.path, set()))
            names.update(name for name, _ in parse_qsl(parts.query, keep_blank_values=True))
        for path, names in shapes.values():
            self.fuzz_query(path, names)
            self.fuzz_path(path)
        for form in forms.values():
            self.fuzz_form(form)
        return self

    def fuzz_query(self, path: str, names: set[str]):
        for name in sorted(names | {"page", "sort", "q", "from", "to"}):
            for value in hostile_values(self.other_ids, self.full):
                self.send("get", f"{path}?{urlencode({name: value})}")

    def fuzz_path(self, path: str):
        segments = path.split("/")
        for index, segment in enumerate(segments):
            if segment.isdigit():
                for other in [*map(str, self.other_ids), "0", "99999999999999999999"]:
                    self.send("get", "/".join([*segments[:index], other, *segments[index + 1 :]]))
        for suffix in ("%00", "%0A", "x%00y/"):
            self.send("get", path + suffix)
        for method in ("put", "patch", "delete", "options"):
            self.send(method, path)

    def fuzz_form(self, form: Form):
        send = self.send if form.method == "post" else self._get_form
        honest = dict(form.fields)
        send(form.method, form.action, {})  # every field missing
        send(form.method, form.action, honest)
        send(form.method, form.action, honest)  # the same form sent twice
        for name in honest:
            missing = {k: v for k, v in honest.items() if k != name}
            send(form.method, form.action, missing)
            for value in hostile_values(self.other_ids, self.full):
                send(form.method, form.action, {**honest, name: value})

    def _get_form(self, method: str, url: str, data=None):
        return self.send("get", f"{urlsplit(url).path}?{urlencode(data or {})}")
