"""What the patient reads after a check-in: short, kind and plain."""

from prescriptions.models import CheckIn, CheckInSlot, RedFlag

# Possible signs of nerve compression at the base of the spine: emergency care, not a
# call to the clinic tomorrow.
EMERGENCY_RED_FLAGS = frozenset({RedFlag.NUMBNESS_GROIN, RedFlag.BLADDER_BOWEL})

RED_FLAG_EMERGENCY = (
    "Please stop the exercise now. Numbness around the groin or new trouble controlling "
    "your bladder or bowels needs urgent medical attention: call your emergency number or "
    "go to an emergency department straight away. We have let your clinician know, and your "
    "reminders are on hold."
)

RED_FLAG = (
    "Please stop the exercise for now. What you described should be checked by a "
    "clinician soon: contact your clinic or your doctor today, and get help sooner if it "
    "gets worse. We have let your clinician know, and your reminders are on hold until they "
    "have reviewed your plan."
)

EASE_OFF = (
    "Your pain went up during this session. Next time, keep the rocking smaller and slower, "
    "only as far as feels easy, and stop before it starts to hurt."
)

# For a night session when the prescription invites them (`as_needed`).
NIGHT = (
    "Rocking when the pain wakes you is part of your plan, so well done for doing it. "
    "Settle back to sleep once your back eases; no need to count it against tomorrow."
)

STREAK_MIN_DAYS = 3


def is_emergency(flags: list[str]) -> bool:
    return bool(EMERGENCY_RED_FLAGS.intersection(flags))


def red_flag(flags: list[str]) -> str:
    return RED_FLAG_EMERGENCY if is_emergency(flags) else RED_FLAG


def streak(days: int) -> str:
    return f"{days} days in a row with every session done. Well done, keep it going!"


def after_checkin(checkin: CheckIn, streak_days: int) -> str:
    """What the patient reads after this check-in ("" when nothing needs saying), given the
    patient's current streak."""
    if checkin.red_flags:
        return red_flag(checkin.red_flags)
    if checkin.pain_rose:
        return EASE_OFF
    if checkin.slot == CheckInSlot.NIGHT and checkin.prescription.as_needed:
        return NIGHT
    return streak(streak_days) if streak_days >= STREAK_MIN_DAYS else ""
