"""Forms of the staff's two-factor authentication (see ``accounts.two_factor``)."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from . import two_factor

CODE_WIDGET = forms.TextInput(
    attrs={
        "autocomplete": "one-time-code",
        "inputmode": "numeric",
        "pattern": "[0-9 ]*",
        "size": 8,
    }
)


def _digits(value: str) -> str:
    return "".join((value or "").split())


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=10,
        widget=CODE_WIDGET,
        help_text="The 6 digits the app shows now.",
    )

    def clean_code(self) -> str:
        code = _digits(self.cleaned_data["code"])
        if not code.isdigit():
            raise forms.ValidationError("Enter the digits only.")
        return code


class StaffAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, which asks for the authenticator app's code as well.

    A staff member with an enrolled device gives the code with the password and is verified
    at once; one without a device logs in and is led to enroll one when it is required.
    """

    otp_token = forms.CharField(
        label="Authentication code",
        required=False,
        max_length=10,
        widget=CODE_WIDGET,
        help_text="From your authenticator app, if you have set up two-factor authentication.",
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        device = two_factor.confirmed_device(user) if user is not None else None
        if device is None:
            return cleaned
        code = _digits(cleaned.get("otp_token", ""))
        if not code:
            raise forms.ValidationError(
                "Enter the code from your authenticator app as well.", code="otp_required"
            )
        refusal = two_factor.code_refusal(device, code) if code.isdigit() else "Digits only."
        if refusal:
            raise forms.ValidationError(refusal, code="otp_invalid")
        # django_otp marks the session verified when the login completes.
        user.otp_device = device
        return cleaned
