"""What the account page's second-factor section shows (account/_second_factor.html): the
account page gathers its sections and leaves each to find out what it needs."""

from django import template
from django.urls import reverse

from clinic.second_factor import has_second_factor, recovery_codes_left, second_factor_required

register = template.Library()


@register.simple_tag
def second_factor_status(user) -> dict:
    on = has_second_factor(user)
    area = "patient" if user.is_patient else "staff"
    return {
        "on": on,
        "required": second_factor_required(user),
        "recovery_left": recovery_codes_left(user) if on else 0,
        "setup_url": reverse(f"{area}-second-factor"),
        "off_url": reverse(f"{area}-second-factor-off"),
    }
