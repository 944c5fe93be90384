"""What the web pages' forms share across the apps."""

from django import forms

from clinic.services import SignInLocked, user_sign_in


class SignInForm(forms.Form):
    """A web page's sign-in through the API's own, with its lockout: the page is no side
    door. A page's form declares its fields and says who may pass and what a refusal reads."""

    username_field = "username"
    locked_message = "Too many failed attempts; wait a few minutes and try again."

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.address = address

    def username(self, data: dict) -> str:
        return data[self.username_field]

    def refusal(self, user) -> str | None:
        """Why `user` may not sign in here (None: wrong username or password), or None."""
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            user = user_sign_in(
                username=self.username(data), password=data["password"], address=self.address
            )
        except SignInLocked:
            raise forms.ValidationError(self.locked_message) from None
        refusal = self.refusal(user)
        if refusal:
            raise forms.ValidationError(refusal)
        data["user"] = user
        return data
