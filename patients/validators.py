"""Checks of what a patient's record holds, shared by the API's serializers and the pages'
forms."""

from django.core.validators import RegexValidator

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ().-]{4,30}$", "Enter a phone number such as +1 555 010 0199."
)
