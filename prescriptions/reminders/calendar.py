"""A patient's reminder times as an iCalendar (RFC 5545) feed a phone can subscribe to."""

from datetime import datetime, timedelta

from django.utils import timezone
from icalendar import Calendar, Event

from patients.models import Patient
from prescriptions.models import Prescription
from prescriptions.reminders.plan import histories_for, plan_for
from prescriptions.schedule import local_date_of, occurrences

# Today and this many days after it, as the contract's feed promises.
FEED_DAYS = 92
SESSION_MINUTES = 10

TITLES = {
    "morning": "Knee rocks: morning session",
    "bedtime": "Knee rocks: bedtime session",
}
HEAT_TITLE = "Heat, then knee rocks: bedtime session"
DESCRIPTION = (
    "A few minutes of slow, easy rocking of your bent knees from side to side. "
    "Check in afterwards from your reminder or your page."
)


def calendar_feed(patient: Patient, *, now: datetime | None = None) -> bytes:
    """Every reminder of the patient's prescriptions from today (their zone) to FEED_DAYS
    later, at the instants schedule/ gives, written in the patient's TZID."""
    now = now or timezone.now()
    tz = patient.zone
    first = local_date_of(now, tz)
    last = first + timedelta(days=FEED_DAYS)
    prescriptions = list(
        Prescription.objects.filter(patient=patient)
        .select_related("protocol")
        .prefetch_related("slots")
    )
    histories = histories_for(p.id for p in prescriptions)

    calendar = Calendar()
    calendar.add("prodid", "-//Knee Rocks Clinic//Reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Knee rocks")
    calendar.add("x-wr-timezone", patient.timezone)
    for prescription in prescriptions:
        prescription.patient = patient
        plan = plan_for(prescription, histories[prescription.id], prescription.slots.all())
        for occurrence in occurrences(plan, first, last):
            heat = occurrence.slot == "bedtime" and plan.heat_prep_minutes
            event = Event()
            uid = f"{prescription.id}-{occurrence.slot}-{occurrence.local_date}@kneerocks"
            event.add("uid", uid)
            event.add("dtstamp", now)
            start = occurrence.fire_at.astimezone(tz)
            event.add("dtstart", start)
            minutes = SESSION_MINUTES + (plan.heat_prep_minutes if heat else 0)
            event.add("dtend", start + timedelta(minutes=minutes))
            event.add("summary", HEAT_TITLE if heat else TITLES[occurrence.slot])
            event.add("description", DESCRIPTION)
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
