"""Who reaches which prescriptions, check-ins, alerts and reminders: each model's path to
its patient, named once, under the one rule (clinic.permissions.in_reach) that the API,
the staff pages and the exports all read through."""

from django.db.models import QuerySet

from clinic.permissions import in_reach
from prescriptions.models import Alert, CheckIn, Prescription, Reminder


def prescriptions_in_reach(user) -> QuerySet[Prescription]:
    return in_reach(Prescription.objects.all(), user)


def checkins_in_reach(user) -> QuerySet[CheckIn]:
    return in_reach(CheckIn.objects.all(), user)


def alerts_in_reach(user) -> QuerySet[Alert]:
    return in_reach(Alert.objects.all(), user)


def reminders_in_reach(user) -> QuerySet[Reminder]:
    return in_reach(Reminder.objects.all(), user, via="prescription__patient")
