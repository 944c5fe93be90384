"""The edges (API views and serializers, staff and patient pages) never scope a query by
clinic by hand: `get_object_or_404(Prescription, pk=pk, patient__clinic_id=request.user
.clinic_id)` forgets the patient's role and drifts from the API's rule. They read through
the apps' selectors (patients.selectors, prescriptions.selectors, …), which all rest on
clinic.permissions.in_reach.

A write naming the caller's clinic (`endpoint_create(clinic_id=…)`) is not a query and is
not flagged; the domain's clinic-wide reads (the clinic table, the summary) take the
clinic of a caller the edge has already let in.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("clinic", "patients", "prescriptions", "outcomes", "webhooks")
QUERIES = {"filter", "exclude", "get", "get_or_create", "update_or_create", "get_object_or_404"}
BY_CLINIC = re.compile(r"^(\w+__)?clinic(_id)?$")


def is_edge(path: Path) -> bool:
    return bool({"api", "web", "staff_web", "patient_web"} & set(path.parts)) or path.name.endswith(
        ("web.py", "views.py")
    )


def edge_modules() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if is_edge(path.relative_to(ROOT))
    )


def clinic_filters(source: str) -> list[str]:
    """Each query call's keyword that filters by a clinic, as `line: call(keyword=)`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in QUERIES:
            continue
        found += [
            f"{node.lineno}: {name}({kw.arg}=)"
            for kw in node.keywords
            if kw.arg and BY_CLINIC.match(kw.arg)
        ]
    return found


def test_it_finds_a_clinic_filter_written_by_hand():
    source = """
alert = get_object_or_404(Alert.objects.all(), pk=pk, patient__clinic_id=user.clinic_id)
rows = Reminder.objects.filter(status="failed", prescription__patient__clinic=clinic)
endpoint_create(clinic_id=request.user.clinic_id)  # a write: not a query
"""
    assert clinic_filters(source) == [
        "2: get_object_or_404(patient__clinic_id=)",
        "3: filter(prescription__patient__clinic=)",
    ]


def test_it_reads_the_edges():
    names = {str(path.relative_to(ROOT)) for path in edge_modules()}

    assert {
        "prescriptions/staff_web/actions.py",
        "prescriptions/api/views.py",
        "prescriptions/patient_web/home.py",
        "outcomes/schedule_web.py",
        "webhooks/web.py",
        "clinic/team_web.py",
    } <= names


def test_no_edge_scopes_a_query_by_clinic_by_hand():
    found = {
        str(path.relative_to(ROOT)): clinic_filters(path.read_text()) for path in edge_modules()
    }

    assert {path: calls for path, calls in found.items() if calls} == {}
