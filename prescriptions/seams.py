"""Where apps built on prescriptions add to it without prescriptions importing them.

Imports run one way (tests/test_import_graph.py): an app such as outcomes may import
prescriptions, never the reverse. Yet a new prescription needs its questionnaire schedule,
a reminder may carry a questionnaire's link, and the patient's page shows what is due.
Each of those is an explicit list here, filled in by the other app's AppConfig.ready(), and
called by name where it matters: unlike a signal, a reader of the caller sees the call.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReminderLink:
    """A link a reminder carries besides its check-in link: a few words and the URL."""

    words: str
    url: str
    short: str = ""  # the words in a text message, where room is short


# Called inside prescription_create's transaction with the new prescription.
prescription_created: list[Callable] = []

# Called with a reminder (prescription and patient loaded): a ReminderLink or None. At most
# the first that answers is carried (a text message has room for one more link only).
reminder_links: list[Callable] = []

# Called with (request, patient): a dict with a `template` to include on /my/, or None.
patient_home_panels: list[Callable] = []


def extra_link(reminder) -> ReminderLink | None:
    for hook in reminder_links:
        found = hook(reminder)
        if found is not None:
            return found
    return None


def home_panels(request, patient) -> list[dict]:
    return [panel for hook in patient_home_panels if (panel := hook(request, patient))]
