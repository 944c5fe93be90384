"""The registry of reminder transports: every channel a patient can choose is sent by one,
and what differs per channel is asked of it."""

import pytest

from patients.models import ReminderPreference
from prescriptions.reminders.transports import (
    TRANSPORTS,
    PermanentDeliveryError,
    transport_for,
)

Channel = ReminderPreference.Channel


def test_every_channel_a_patient_can_choose_is_sent_by_its_transport():
    sendable = {channel for channel in Channel.values if channel != Channel.NONE}

    assert set(TRANSPORTS) == sendable
    assert all(transport_for(channel).channel == channel for channel in sendable)


def test_only_a_text_message_is_never_sent_twice_and_has_a_daily_limit(settings):
    settings.SMS_DAILY_LIMIT_PER_PATIENT = 3

    assert {c: t.resend_in_doubt for c, t in TRANSPORTS.items()} == {
        "email": True,
        "sms": False,
        "webhook": True,
    }
    assert {c: t.daily_limit() for c, t in TRANSPORTS.items()} == {
        "email": None,
        "sms": 3,
        "webhook": None,
    }


def test_a_channel_without_a_transport_says_nothing_and_fails_for_good():
    unknown = transport_for("fax")

    assert unknown.words(lambda template: "words", {}) == {}
    with pytest.raises(PermanentDeliveryError, match="unknown channel 'fax'"):
        unknown.send(None, None, None, None)
