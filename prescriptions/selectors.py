"""Who reaches which prescriptions, check-ins, alerts and reminders: each model's path to
its patient, named once, under the one rule (clinic.permissions.in_reach) that the API,
the staff pages and the exports all read through."""

from django.db.models import OuterRef, QuerySet, Subquery

from clinic.permissions import in_reach
from prescriptions.models import Alert, CheckIn, Prescription, Reminder


def prescriptions_in_reach(user) -> QuerySet[Prescription]:
    return in_reach(Prescription.objects.all(), user)


def checkins_in_reach(user) -> QuerySet[CheckIn]:
    return in_reach(CheckIn.objects.all(), user)


def alerts_in_reach(user) -> QuerySet[Alert]:
    return in_reach(Alert.objects.all(), user)


def open_alerts(user) -> QuerySet[Alert]:
    """The open alerts in reach, newest first, each with its patient and their last
    check-in (`last_check_in`): a card saying "no check-in" must not hide one made since."""
    last = CheckIn.objects.filter(patient=OuterRef("patient_id")).order_by("-performed_at")
    return (
        alerts_in_reach(user)
        .filter(acknowledged_at__isnull=True)
        .select_related("patient")
        .annotate(last_check_in=Subquery(last.values("performed_at")[:1]))
        .order_by("-created_at", "-id")
    )


def reminders_in_reach(user) -> QuerySet[Reminder]:
    return in_reach(Reminder.objects.all(), user, via="prescription__patient")
