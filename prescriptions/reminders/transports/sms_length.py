"""How many billed SMS segments a text takes.

What this relies on (3GPP TS 23.038, formerly GSM 03.38, and the SMS concatenation header):

- A text made only of characters of the GSM 7-bit default alphabet is sent in that
  alphabet. One SMS carries 160 septets. Characters of its extension table (€ [ ] { } ~ ^
  | \\ and form feed) are sent as an escape septet plus one, so each costs two.
- A single character outside that alphabet (Ł, ë, ễ, curly quotes, an emoji …) switches
  the whole text to UCS-2: 16-bit units, 70 per SMS. A character beyond the Basic
  Multilingual Plane (most emoji) takes two units.
- A text longer than one SMS is split into parts that each give up room to the header that
  joins them: 153 septets or 67 UCS-2 units a part.

A sender keeps an escape pair or a two-unit character within one part, so a long text can
take a part more than this count; the count is exact for what matters here, whether a
text fits one SMS.
"""

import math

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def sms_segments(text: str) -> int:
    """The number of SMS a text is billed as (at least one)."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        units = len(text) + sum(char in GSM7_EXTENSION for char in text)
        single, part = GSM7_SINGLE, GSM7_PART
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = UCS2_SINGLE, UCS2_PART
    return 1 if units <= single else math.ceil(units / part)
