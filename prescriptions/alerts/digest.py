"""The clinician's weekly digest: their patients' adherence and open alerts, by email.

A digest covers the last complete Monday-to-Sunday week in the clinic's zone. It is
claimed before it is sent (one `DigestClaim` per clinician and week, under a unique
constraint), so a second beat, a re-run or a redelivered task never sends it twice. A send
that fails gives the claim back, so the retry may send it.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from clinic.models import User
from prescriptions import adherence
from prescriptions.adherence import clinic_patients
from prescriptions.models import Alert, DigestClaim
from prescriptions.schedule import local_date_of


def last_complete_week(tz: ZoneInfo, now: datetime) -> date:
    """The Monday starting the last Monday-to-Sunday week that has ended in `tz`."""
    today = local_date_of(now, tz)
    return today - timedelta(days=today.weekday() + 7)


def digest_clinicians():
    """Clinicians who prescribed to at least one patient, with their clinic."""
    return (
        User.objects.filter(role=User.Role.CLINICIAN, is_active=True, prescriptions__isnull=False)
        .select_related("clinic")
        .distinct()
        .order_by("id")
    )


def digest_text(
    week_start: date, rows: list[dict], worse: dict[int, str] | None = None
) -> tuple[str, str]:
    """The email's subject and body; `worse` holds the message of each patient's open
    outcome_worsening alert (a questionnaire score worse than at the start), by patient."""
    week_end = week_start + timedelta(days=6)
    subject = f"Knee rocks: your patients' week of {week_start:%d %b %Y}"
    lines = [
        f"Your patients' knee-rocks sessions from {week_start:%a %d %b} to {week_end:%a %d %b}.",
        "",
    ]
    for row in sorted(rows, key=lambda r: (r["adherence_pct"] is None, r["adherence_pct"] or 0)):
        pct = "nothing expected" if row["adherence_pct"] is None else f"{row['adherence_pct']} %"
        lines.append(
            f"- {row['last_name']}, {row['first_name']}: "
            f"{row['completed_sessions']} of {row['expected_sessions']} sessions ({pct}), "
            f"{row['night_sessions']} at night, open alerts: {row['open_alerts']}"
        )
    worse = worse or {}
    named = [row for row in rows if row["patient"] in worse]
    if named:
        lines += ["", "Worse than at the start, by their questionnaires:"]
        lines += [f"- {r['last_name']}, {r['first_name']}: {worse[r['patient']]}" for r in named]
    open_alerts = sum(row["open_alerts"] for row in rows)
    lines += ["", f"Open alerts in all: {open_alerts}. Review them in the clinic app."]
    return subject, "\n".join(lines)


def digest_send(*, clinician_id: int, week_start: date, now: datetime | None = None) -> bool:
    """Sends one clinician's digest for the week unless it was claimed before; answers
    whether this call sent it."""
    now = now or timezone.now()
    with transaction.atomic():
        claim, created = DigestClaim.objects.get_or_create(
            clinician_id=clinician_id, week_start=week_start
        )
    if not created:
        return False
    try:
        clinician = User.objects.select_related("clinic").get(id=clinician_id)
        rows = adherence.clinic_adherence(
            clinic_id=clinician.clinic_id,
            patients=clinic_patients(clinician.clinic_id).filter(
                prescriptions__clinician=clinician
            ),
            start=week_start,
            end=week_start + timedelta(days=6),
            now=now,
        )[:]
        worse = dict(
            Alert.objects.filter(
                patient_id__in=[row["patient"] for row in rows],
                kind=Alert.Kind.OUTCOME_WORSENING,
                acknowledged_at__isnull=True,
            ).values_list("patient_id", "details__message")
        )
        subject, body = digest_text(week_start, rows, worse)
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [clinician.email]).send()
    except Exception:
        claim.delete()  # not sent: let the retry claim it again
        raise
    DigestClaim.objects.filter(id=claim.id).update(sent_at=timezone.now())
    return True
