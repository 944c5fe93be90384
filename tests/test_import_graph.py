"""The modules' imports run one way, so each can be read (and changed) without the others.

Every import statement counts, those inside functions too: a cycle hidden in a function is
still a cycle.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("clinic", "patients", "prescriptions", "outcomes", "webhooks", "config")


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


# A model named by a string ("prescriptions.Prescription") is an import of its app's models.
RELATIONS = {"ForeignKey", "OneToOneField", "ManyToManyField"}


def _string_model(call: ast.Call) -> str | None:
    """The app a call names a model of by string: apps.get_model("app", "Model"),
    apps.get_model("app.Model"), or a relation field's ForeignKey("app.Model")."""
    func = call.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    texts = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if called == "get_model" and texts:
        return texts[0].partition(".")[0]
    if called in RELATIONS and texts and "." in texts[0]:
        return texts[0].partition(".")[0]
    return None


def imports_of(source: str, name: str, *, package: bool, modules) -> set[str]:
    """The project modules the module `name` (a package when `package`) imports: absolute
    and relative imports, inside functions too, and models named by string."""
    here = name.split(".") if package else name.split(".")[:-1]
    targets = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = here[: len(here) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            # `from a import b` names module a.b when b is one, else something in a.
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        elif isinstance(node, ast.Call) and (app := _string_model(node)):
            names = [f"{app}.models"]
        else:
            continue
        targets |= {target for target in names if target in modules}
    return targets - {name}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {
        name: imports_of(
            path.read_text(), name, package=path.name == "__init__.py", modules=modules
        )
        for name, path in modules.items()
    }


# --- Edges and domain ---------------------------------------------------------------------
# The edges speak HTTP (the API, the pages, their forms, the admin); the domain (models,
# services, selectors, the rules) never imports them, so it can be called from a task, a
# command or another app without a request. Wiring ties both together.

# `public`: the pages the signed links open.
EDGE_NAMES = {"views", "urls", "web_urls", "web", "admin", "middleware", "forms", "public"}


def is_edge(name: str) -> bool:
    parts = name.split(".")
    last = parts[-1]
    return (
        bool({"api", "web", "staff_web", "patient_web", "templatetags"} & set(parts[1:]))
        or last in EDGE_NAMES
        or last.endswith(("_web", "_forms"))
    )


def is_wiring(name: str) -> bool:
    parts = name.split(".")
    return (
        parts[0] == "config"
        or "management" in parts
        or parts[-1] in {"apps", "hooks", "tasks"}
        or len(parts) == 1  # an app's package itself
    )


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting, done = [], set()

    def visit(module: str) -> list[str] | None:
        if module in visiting:
            return [*visiting[visiting.index(module) :], module]
        if module in done:
            return None
        visiting.append(module)
        for target in sorted(graph[module]):
            if cycle := visit(target):
                return cycle
        visiting.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if cycle := visit(module):
            return cycle
    return None


def test_it_finds_a_cycle_when_there_is_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_it_reads_relative_imports_and_models_named_by_string():
    modules = {"app", "app.models", "app.rules", "app.sub", "app.sub.deep", "other.models"}
    source = """
from . import rules
from .sub import deep
from .. import nothing_here
def later():
    from app.sub import deep
apps.get_model("other", "Thing")
parent = models.ForeignKey("other.Thing", on_delete=models.CASCADE)
"""
    found = imports_of(source, "app.models", package=False, modules=modules)
    assert found == {"app", "app.rules", "app.sub", "app.sub.deep", "other.models"}
    assert imports_of("from .deep import x", "app.sub", package=True, modules=modules) == {
        "app.sub.deep"
    }


def test_it_tells_the_edges_from_the_domain():
    assert is_edge("prescriptions.api.views")
    assert is_edge("prescriptions.web.actions")
    assert is_edge("prescriptions.staff_web.actions")
    assert is_edge("prescriptions.staff_web")
    assert is_edge("prescriptions.patient_web.public")
    assert is_edge("outcomes.staff_web")
    assert is_edge("prescriptions.patient_forms")
    assert is_edge("prescriptions.patient_web.forms")
    assert is_edge("clinic.middleware")
    assert not is_edge("prescriptions.services")
    assert not is_edge("prescriptions.charts")
    assert is_wiring("outcomes.hooks") and is_wiring("config.urls")


def test_it_keeps_the_domain_from_importing_the_edges():
    """Models, services, selectors and rules never reach up into the API or the pages."""
    crossings = sorted(
        f"{name} -> {target}"
        for name, targets in import_graph().items()
        if not is_edge(name) and not is_wiring(name)
        for target in targets
        if is_edge(target)
    )
    assert crossings == []


def test_it_has_no_import_cycle_among_the_projects_modules():
    assert find_cycle(import_graph()) is None


def test_it_sees_the_imports_it_checks():
    graph = import_graph()

    assert "prescriptions.reminders" in graph["prescriptions.services"]
    assert "prescriptions.alerts" in graph["prescriptions.tasks"]


def test_it_keeps_the_domain_modules_from_importing_the_tasks():
    """Tasks call the domain; the domain never reaches back. Only the events' readers queue
    a task after commit: a red flag's alert emails the clinician."""
    importers = {
        name for name, targets in import_graph().items() if "prescriptions.tasks" in targets
    }

    assert importers <= {"prescriptions.readers"}


def test_it_keeps_the_tasks_from_importing_the_services_or_the_edges():
    targets = import_graph()["prescriptions.tasks"]

    assert not {t for t in targets if t.endswith((".services", ".web", ".views")) or ".api" in t}


def test_it_keeps_each_app_free_of_the_apps_that_build_on_it():
    graph = import_graph()

    for name, targets in graph.items():
        if name.startswith("clinic"):
            assert not {
                t for t in targets if t.startswith(("patients", "prescriptions", "outcomes"))
            }, name
        if name.startswith("patients"):
            assert not {t for t in targets if t.startswith(("prescriptions", "outcomes"))}, name
        if name.startswith("prescriptions"):
            assert not {t for t in targets if t.startswith(("outcomes", "webhooks"))}, name
        if not name.startswith(("webhooks", "config")):
            # Built on the events: only config ties it in.
            assert not {t for t in targets if t.startswith("webhooks")}, name
        if name.startswith("webhooks"):
            assert not {t for t in targets if t.startswith("outcomes")}, name


# --- Wings --------------------------------------------------------------------------------
# A wing is a package under an app whose `__init__` is its face: it names what other
# modules may call (`__all__`). Outside the wing, code imports the face, never the modules
# behind it, so a wing can be rearranged inside without its callers changing. A wing may
# hold wings of its own (the adherence ledger): the same rule holds for each.


def wings(modules: dict[str, Path]) -> set[str]:
    return {
        name
        for name, path in modules.items()
        if path.name == "__init__.py"
        and len(name.split(".")) >= 2
        and "__all__" in path.read_text()
    }


def reaches_inside(graph: dict[str, set[str]], faces: set[str]) -> list[str]:
    """Each import of a wing's inner module from outside that wing."""
    return sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        for target in targets
        for wing in faces
        if target.startswith(f"{wing}.") and not (name == wing or name.startswith(f"{wing}."))
    )


def test_it_finds_a_reach_into_a_wing():
    graph = {
        "app.services": {"app.wing", "app.wing.inner"},
        "app.wing": {"app.wing.inner"},
        "app.wing.inner": {"app.wing.other", "app.models"},
        "app.wing.other": set(),
    }

    assert reaches_inside(graph, {"app.wing"}) == ["app.services -> app.wing.inner"]
    del graph["app.services"]
    assert reaches_inside(graph, {"app.wing"}) == []


def test_it_knows_the_wings():
    assert {
        "prescriptions.adherence",
        "prescriptions.adherence.ledger",
        "prescriptions.alerts",
        "prescriptions.reminders",
        "prescriptions.interop",
        "prescriptions.staff_web",
        "prescriptions.patient_web",
    } <= wings(project_modules())


def test_no_module_reaches_into_a_wing_past_its_face():
    assert reaches_inside(import_graph(), wings(project_modules())) == []
