"""The app's models, one module per concern; imported from here as `prescriptions.models`."""

from prescriptions.models.activity import (
    PAIN_ROSE,
    SESSION_PAIN_RISE,
    Alert,
    CheckIn,
    CheckInCorrection,
    DigestClaim,
    IdempotencyRecord,
    Reminder,
)
from prescriptions.models.ledger import AdherenceDay, ClinicRow, ClinicRowVersion
from prescriptions.models.prescription import (
    EPOCH,
    CheckInSlot,
    Prescription,
    PrescriptionQuerySet,
    PrescriptionSlot,
    Protocol,
    RedFlag,
    ScheduleChange,
    SlotKind,
    StatusChange,
    heat_minutes,
    status_read,
)

__all__ = [
    "EPOCH",
    "PAIN_ROSE",
    "SESSION_PAIN_RISE",
    "AdherenceDay",
    "Alert",
    "CheckIn",
    "CheckInCorrection",
    "CheckInSlot",
    "ClinicRow",
    "ClinicRowVersion",
    "DigestClaim",
    "IdempotencyRecord",
    "Prescription",
    "PrescriptionQuerySet",
    "PrescriptionSlot",
    "Protocol",
    "RedFlag",
    "Reminder",
    "ScheduleChange",
    "SlotKind",
    "StatusChange",
    "heat_minutes",
    "status_read",
]
