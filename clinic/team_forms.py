"""The forms of the team's pages and of joining the team (clinic.team_web)."""

from django import forms
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError

from clinic import invitations, team
from clinic.models import Invitation

ROLE_CHOICES = Invitation.Role.choices


class InviteForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(
        max_length=150, help_text="The invitation goes here; it will also be their username."
    )
    role = forms.ChoiceField(
        choices=ROLE_CHOICES,
        help_text="Clinicians prescribe and manage the team; staff read and export.",
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if team.email_in_use(email):
            raise ValidationError("This email is already in use.")
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class ClinicSettingsForm(forms.Form):
    require_second_factor = forms.BooleanField(
        required=False,
        label="Require a second factor for everyone on the team",
        help_text=(
            "When on, each clinician and staff member must set up an authenticator app "
            "before they can open anything; those who have none are led to set one up at "
            "their next sign-in."
        ),
    )


class JoinForm(forms.Form):
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=" ".join(password_validators_help_texts()),
    )
    password_again = forms.CharField(
        label="The same password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password, user=invitations.invitation_user(self.invitation))
        return password

    def clean(self):
        data = super().clean()
        first, second = data.get("password"), data.get("password_again")
        if first and second is not None and first != second:
            self.add_error("password_again", "The two passwords are not the same.")
        return data
