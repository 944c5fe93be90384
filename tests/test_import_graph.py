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


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # `from a import b` names module a.b when b is one, else something in a.
                names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            else:
                continue
            targets |= {target for target in names if target in modules}
        graph[name] = targets - {name}
    return graph


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


def test_it_has_no_import_cycle_among_the_projects_modules():
    assert find_cycle(import_graph()) is None


def test_it_sees_the_imports_it_checks():
    graph = import_graph()

    assert "prescriptions.reminders.plan" in graph["prescriptions.services"]
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
