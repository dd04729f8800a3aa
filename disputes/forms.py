"""The browser's forms for ending a contract, filing and answering disputes, and support cases.

As in ``contracts.forms``, forms only collect input and label it; amounts stay text and files stay
unchecked here, because ``disputes.services`` holds the rules and gives the one set of messages.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings

from core.forms import BrowserForm, MultipleFileField
from core.money import format_amount
from core.uploads import ALLOWED_TYPES_TEXT, REFUSED_TEXT, human_size

from .models import Dispute

RATING_CHOICES = [
    ("1", "1 – Very poor"),
    ("2", "2 – Poor"),
    ("3", "3 – Fair"),
    ("4", "4 – Good"),
    ("5", "5 – Excellent"),
]


def period_text(period: timedelta, *, adjective: bool = False) -> str:
    """Say a deadline period as people do: "7 days", or "7-day" before a noun."""
    seconds = int(period.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            if adjective:
                return f"{count}-{unit}"
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds}-second" if adjective else f"{seconds} seconds"


def files_help_text() -> str:
    return (
        f"{ALLOWED_TYPES_TEXT}; each file up to {human_size(settings.UPLOAD_MAX_BYTES)}, "
        f"at most {settings.UPLOAD_MAX_FILES} files from you on this case. Files are checked by "
        f"their content, whatever their name. {REFUSED_TEXT}"
    )


class EndContractForm(BrowserForm):
    """One "amount to pay" field for each milestone that holds money in escrow."""

    def __init__(self, *args, milestones=(), currency: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.milestones = list(milestones)
        for milestone in self.milestones:
            held = format_amount(milestone.escrow_balance, currency) if currency else None
            self.fields[self.field_name(milestone.pk)] = forms.CharField(
                max_length=32,
                required=False,
                label=f"Pay now for “{milestone.title}” ({currency})",
                help_text=(
                    f"0 ≤ P ≤ {held} escrowed; what you don't pay is asked back as a refund, "
                    "which the freelancer can accept or dispute within "
                    f"{period_text(settings.REFUND_REQUEST_RESPONSE_PERIOD)}. Empty means 0."
                ),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}),
            )

    @staticmethod
    def field_name(milestone_id: int) -> str:
        return f"payment_{milestone_id}"

    def rows(self):
        """Yield ``(milestone, bound field)`` for the template."""
        for milestone in self.milestones:
            yield milestone, self[self.field_name(milestone.pk)]

    def payments(self) -> dict[int, str]:
        """Return ``{milestone_id: amount}``, an empty field meaning 0."""
        return {
            m.pk: (self.cleaned_data[self.field_name(m.pk)] or "").strip() or "0"
            for m in self.milestones
        }

    def service_field(self, name: str) -> str | None:
        """Map a service's field name ("payments.12") to this form's ("payment_12")."""
        if name.startswith("payments."):
            candidate = self.field_name(name.removeprefix("payments."))
            if candidate in self.fields:
                return candidate
        return None


class FeedbackForm(BrowserForm):
    feedback_rating = forms.ChoiceField(
        label="Your rating of the client",
        choices=RATING_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Rate the client from 1 to 5."},
    )
    feedback_comment = forms.CharField(
        label="Your feedback on the client",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The client does not see your rating or comment until the dispute closes.",
        error_messages={"required": "A comment on the client is required."},
    )


class DetailsForm(BrowserForm):
    reason = forms.ChoiceField(
        label="Reason for the dispute",
        required=False,
        choices=[("", "Choose a reason…"), *Dispute.Reason.choices],
    )
    description = forms.CharField(
        label="The milestone agreements and how you met them",
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 9}),
        help_text=(
            "Describe what was agreed for this milestone, what you delivered and when, and how it "
            "meets the requirements. This is your chance to give all the details: you cannot "
            "edit them after you submit."
        ),
    )
    files = MultipleFileField(label="Evidence files", required=False)

    def __init__(self, *args, require_complete: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.require_complete = require_complete
        self.fields["files"].help_text = "Optional. " + files_help_text()

    def clean(self):
        cleaned = super().clean()
        if self.require_complete:
            if not cleaned.get("reason") and "reason" not in self.errors:
                self.add_error("reason", "Choose a reason to continue.")
            if not (cleaned.get("description") or "").strip() and "description" not in self.errors:
                self.add_error("description", "Describe the agreements and your work to continue.")
        return cleaned


class AmountForm(BrowserForm):
    amount = forms.CharField(
        max_length=32,
        label="Amount to review",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"required": "Enter the amount you ask to have reviewed."},
    )

    def __init__(self, *args, currency: str = "", refund: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["amount"]
        if currency:
            field.label = f"Amount to review ({currency})"
        if refund:
            field.help_text = (
                f"More than 0 and at most the refund asked for, {refund}. What you do not ask "
                "for goes back to the client."
            )
            field.widget.attrs["placeholder"] = refund.split(" ")[0]


class DeclineForm(BrowserForm):
    reason = forms.CharField(
        label="Why you decline",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            "A mediation agent then reviews both sides, with this, and proposes a resolution; "
            "the money stays in escrow meanwhile."
        ),
        error_messages={"required": "Tell the mediation agent why you decline."},
    )


class MessageForm(BrowserForm):
    text = forms.CharField(
        label="Your message",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Text only: files go through the evidence rules. All in the thread read it.",
        error_messages={"required": "Write the message first."},
    )


class EvidenceForm(BrowserForm):
    files = MultipleFileField(
        label="Files",
        error_messages={"required": "Choose at least one file."},
    )
    description = forms.CharField(
        label="What these files show",
        max_length=500,
        required=False,
        help_text="Optional, up to 500 characters.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = files_help_text()

    def clean_files(self):
        # MultipleFileField returns [] for no file without checking ``required``.
        files = self.cleaned_data["files"]
        if not files:
            raise forms.ValidationError(self.fields["files"].error_messages["required"])
        return files


class SupportCaseForm(BrowserForm):
    description = forms.CharField(
        label="What you delivered and why payment is due",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Describe the work you delivered and why payment is due."},
    )
    files = MultipleFileField(label="Attachments that show the work is complete", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = "Optional. " + files_help_text()
