"""The browser's forms for settlement offers: they collect input; ``offers.services`` judges it."""

from __future__ import annotations

from django import forms

from core.forms import BrowserForm


class OfferForm(BrowserForm):
    to_freelancer = forms.CharField(
        max_length=32,
        label="To the freelancer",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"required": "Enter what the freelancer receives (0 if nothing)."},
    )
    to_client = forms.CharField(
        max_length=32,
        label="Refunded to the client",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"required": "Enter what is refunded to the client (0 if nothing)."},
    )
    message = forms.CharField(
        label="Message (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, currency: str = "", total: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("to_freelancer", "to_client"):
            field = self.fields[name]
            if currency:
                field.label = f"{field.label} ({currency})"
            field.widget.attrs["placeholder"] = "0.00"
        if total:
            self.fields["to_client"].help_text = f"The two must add up to {total}, to the cent."


class ReasonForm(BrowserForm):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
