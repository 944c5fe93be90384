"""How many SMS a text is billed as: GSM 7-bit (160, parts of 153) or UCS-2 (70, parts of 67)."""

import pytest

from prescriptions.reminders.transports.sms_length import sms_segments


@pytest.mark.parametrize("length, segments", [(0, 1), (160, 1), (161, 2), (306, 2), (307, 3)])
def test_it_counts_gsm_text_in_160_then_153(length, segments):
    assert sms_segments("a" * length) == segments


def test_it_keeps_accents_of_the_gsm_alphabet_in_gsm():
    assert sms_segments("José Muñoz Müller Ø " + "a" * 140) == 1


def test_it_counts_euro_and_brackets_twice():
    assert sms_segments("€" * 80) == 1
    assert sms_segments("€" * 81) == 2
    assert sms_segments("[" + "a" * 159) == 2


@pytest.mark.parametrize("char", ["Ł", "ễ", "ë", "\u201c"])
def test_it_counts_text_with_one_other_character_in_70_then_67(char):
    assert sms_segments(char + "a" * 69) == 1
    assert sms_segments(char + "a" * 70) == 2
    assert sms_segments(char + "a" * 133) == 2
    assert sms_segments(char + "a" * 134) == 3


def test_it_counts_an_emoji_as_two_ucs2_units():
    assert sms_segments("\N{GRINNING FACE}" * 35) == 1
    assert sms_segments("\N{GRINNING FACE}" * 36) == 2
