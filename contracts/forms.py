"""The browser's forms for contracts and milestones.

Forms only collect input and give each field a label; the rules (amounts, states, who may act,
which files are acceptable) live in ``contracts.services``, which every view calls. Amounts are
therefore plain text fields here, so the one amount parser gives the one set of messages.
"""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model

from core.forms import BrowserForm, MultipleFileField
from core.uploads import ALLOWED_TYPES_TEXT, REFUSED_TEXT


class NewContractForm(BrowserForm):
    title = forms.CharField(max_length=200, label="Title")
    freelancer = forms.CharField(
        max_length=150,
        label="Freelancer's username",
        help_text="The account of the person you are hiring.",
    )
    currency = forms.ChoiceField(label="Currency", choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code) for code in settings.CURRENCIES]

    def clean_freelancer(self):
        username = self.cleaned_data["freelancer"].strip()
        user = (
            get_user_model()
            ._default_manager.filter(username=username, is_active=True)
            .order_by("pk")
            .first()
        )
        if user is None:
            raise forms.ValidationError(f"There is no user named “{username}”.")
        return user


class MilestoneForm(BrowserForm):
    title = forms.CharField(max_length=200, label="Title")
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    amount = forms.CharField(
        max_length=32,
        label="Amount",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "500.00"}),
    )
    due_date = forms.DateField(
        label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, currency: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if currency:
            self.fields["amount"].label = f"Amount ({currency})"


class ReleaseForm(BrowserForm):
    amount = forms.CharField(
        max_length=32,
        required=False,
        label="Amount to release",
        help_text="Leave empty to release everything held in escrow.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def __init__(self, *args, held: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if held:
            self.fields["amount"].help_text = f"Leave empty to release all {held} held in escrow."
            self.fields["amount"].widget.attrs["placeholder"] = held.split(" ")[0]


class SubmitWorkForm(BrowserForm):
    message = forms.CharField(
        label="Message to the client",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    files = MultipleFileField(
        label="Files",
        required=False,
        help_text=f"Optional. {ALLOWED_TYPES_TEXT}, checked by their content. {REFUSED_TEXT}",
    )


class HistoryFilterForm(BrowserForm):
    """The contract history's filters (a GET form: links and bookmarks keep them)."""

    filter = forms.ChoiceField(label="Show", required=False)
    role = forms.ChoiceField(label="Role", required=False)
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="A word of the title, or the other party's username or name.",
    )

    def __init__(self, *args, filters: dict[str, str], roles: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["filter"].choices = [("", "All contracts"), *filters.items()]
        self.fields["role"].choices = [("", "Any role"), *roles.items()]

    def choices(self) -> dict[str, str]:
        """The valid choices made (an unknown value shows everything, as if it were absent)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) or "" for name in ("filter", "role", "q")}
