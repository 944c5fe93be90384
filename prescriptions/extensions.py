"""Places where an app built on prescriptions adds to its pages and documents.

Prescriptions never imports the apps that build on it (tests/test_import_graph.py); an app
such as outcomes registers here from its AppConfig.ready(), and the page, the export or
the bundle asks the registry. Each hook reads in a constant number of queries, however
many rows it covers, so the pages' pinned query counts stay constant.

- patient sections: a card on the staff patient page, drawn by the app's own template
  from the context its function answers for the patient;
- clinic sections: a card on /staff/, from the clinic's id;
- clinic notices: the same, at the top of /staff/, for what the team must see at once (an
  empty context draws nothing);
- clinic columns: one more column of the clinic table, its values for a page of patients
  (patient id → value) and the template of one cell;
- export sections: a key of the patient's export and its value;
- FHIR resources: more resources for the patient's bundle;
- demo seeders: more history for the patients `seed_demo` has just created;
- prescribe inputs: one more thing a clinician says when prescribing, as an API field of
  the prescribe request and a fieldset of the prescribe page, applied inside
  prescription_create's transaction (its default when not given);
- reminder links: one more link a reminder may carry (at most one: a text message has
  room for one more link only), asked for a batch of reminders at once;
- patient home panels: a card on the patient's own page (/my/).

Each is an explicit list called by name where it matters: unlike a signal, a reader of the
caller sees the call.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    template: str
    context: Callable  # (patient) or (clinic_id) -> dict


@dataclass(frozen=True)
class Column:
    label: str
    classes: str
    template: str  # draws one cell from `value` (None when the patient has none)
    values: Callable  # (patient_ids: list[int]) -> {patient_id: value}
    # The column in the clinic's CSV: its headers, every patient's value of the clinic in one
    # query, and the cells of one value (or None).
    csv_headers: tuple[str, ...] = ()
    csv_values: Callable | None = None  # (clinic_id) -> {patient_id: value}
    csv_cells: Callable | None = None  # (value | None) -> list of cells


@dataclass(frozen=True)
class ReminderLink:
    """A link a reminder carries besides its check-in link: a few words and the URL."""

    words: str
    url: str
    short: str = ""  # the words in a text message, where room is short


@dataclass(frozen=True)
class PrescribeInput:
    """One more part of a new prescription, owned by the app that registers it."""

    name: str  # the API field, and the prefix of the page's fieldset
    api_field: Callable  # () -> a DRF field, not required
    form: Callable  # (data or None, prefix) -> a Django form; `value()` once valid
    template: str  # draws that form inside the prescribe page, from `form`
    apply: Callable  # (prescription, value | None: not given) -> None


@dataclass
class Registry:
    patient_sections: list[Section]
    clinic_sections: list[Section]
    clinic_columns: list[Column]
    export_sections: dict[str, Callable]  # key -> (patient) -> JSON-ready value
    fhir_resources: list[Callable]  # (patient, now) -> [resource dicts]
    demo_seeders: list[Callable]  # (patients: {email: Patient}, now) -> a line of output
    prescribe_inputs: list[PrescribeInput]
    reminder_links: list[Callable]  # (reminders) -> {reminder id: ReminderLink}
    patient_home_panels: list[Callable]  # (request, patient) -> {"template", …} | None
    clinic_notices: list[Section] = field(default_factory=list)


registry = Registry([], [], [], {}, [], [], [], [], [])


def _once(items: list, item) -> None:
    # ready() may run more than once (tests that reload the app registry).
    if item not in items:
        items.append(item)


def add_patient_section(section: Section) -> None:
    _once(registry.patient_sections, section)


def add_clinic_section(section: Section) -> None:
    _once(registry.clinic_sections, section)


def add_clinic_notice(section: Section) -> None:
    _once(registry.clinic_notices, section)


def add_clinic_column(column: Column) -> None:
    _once(registry.clinic_columns, column)


def add_export_section(key: str, read: Callable) -> None:
    registry.export_sections[key] = read


def add_fhir_resources(read: Callable) -> None:
    _once(registry.fhir_resources, read)


def add_demo_seeder(seed: Callable) -> None:
    _once(registry.demo_seeders, seed)


def add_prescribe_input(item: PrescribeInput) -> None:
    _once(registry.prescribe_inputs, item)


def add_reminder_link(hook: Callable) -> None:
    _once(registry.reminder_links, hook)


def add_patient_home_panel(hook: Callable) -> None:
    _once(registry.patient_home_panels, hook)


def patient_sections(patient) -> list[dict]:
    """Each registered card of the patient page: its template and context."""
    return [{"template": s.template, **s.context(patient)} for s in registry.patient_sections]


def clinic_sections(clinic_id: int) -> list[dict]:
    return [{"template": s.template, **s.context(clinic_id)} for s in registry.clinic_sections]


def clinic_notices(clinic_id: int) -> list[dict]:
    """The notices that have something to say: those whose context is not empty."""
    found = [(s.template, s.context(clinic_id)) for s in registry.clinic_notices]
    return [{"template": template, **context} for template, context in found if context]


def clinic_cells(patient_ids: list[int]) -> dict[int, list[dict]]:
    """For each patient of a page, one cell per registered column (query per column)."""
    cells: dict[int, list[dict]] = {patient_id: [] for patient_id in patient_ids}
    for column in registry.clinic_columns:
        values = column.values(patient_ids) if patient_ids else {}
        for patient_id in patient_ids:
            cells[patient_id].append({"template": column.template, "value": values.get(patient_id)})
    return cells


def clinic_csv_headers() -> list[str]:
    return [header for column in registry.clinic_columns for header in column.csv_headers]


def clinic_csv_found(clinic_id: int) -> tuple[list, dict[int, list]]:
    """The registered columns' cells of the clinic's CSV, read for the whole clinic at once
    (a query per column, however many patients): those of a patient who has no value in
    any, and those of each patient of the clinic who has one."""
    columns = [c for c in registry.clinic_columns if c.csv_values and c.csv_cells]
    values = [column.csv_values(clinic_id) for column in columns]

    def cells(patient_id: int | None) -> list:
        return [
            cell
            for column, found in zip(columns, values, strict=True)
            for cell in column.csv_cells(found.get(patient_id))
        ]

    return cells(None), {patient_id: cells(patient_id) for patient_id in set().union(*values)}


def export_sections(patient) -> dict:
    return {key: read(patient) for key, read in registry.export_sections.items()}


def fhir_resources(patient, now) -> list[dict]:
    return [resource for read in registry.fhir_resources for resource in read(patient, now)]


def seed_demo(patients: dict, now) -> list[str]:
    """Runs each registered demo seeder over the patients just created (by email)."""
    return [line for seed in registry.demo_seeders if (line := seed(patients, now))]


def prescribe_inputs() -> list[PrescribeInput]:
    return list(registry.prescribe_inputs)


def prescription_created(prescription, inputs: dict) -> None:
    """Applies each registered input to the new prescription: the value given when
    prescribing, None when none was (the input's default)."""
    for item in registry.prescribe_inputs:
        item.apply(prescription, inputs.get(item.name))


def reminder_links(reminders: list) -> dict[int, ReminderLink]:
    """The link each of the reminders carries besides its check-in link, if any (the first
    registered hook's that has one), asked for a batch of reminders at once (each reminder
    with its prescription and patient loaded): a constant number of queries per hook."""
    found: dict[int, ReminderLink] = {}
    for hook in registry.reminder_links:
        for reminder_id, link in hook(reminders).items():
            found.setdefault(reminder_id, link)
    return found


def home_panels(request, patient) -> list[dict]:
    return [panel for hook in registry.patient_home_panels if (panel := hook(request, patient))]
