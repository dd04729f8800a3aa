from django import forms

from . import catalog


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="Where to POST the events, e.g. https://example.com/webhooks.",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    events = forms.CharField(
        label="Event types",
        initial="*",
        max_length=2000,
        help_text="Comma-separated: * for all, a namespace such as dispute.*, or single types "
        "such as offer.accepted.",
    )
    description = forms.CharField(max_length=500, required=False)

    def clean_events(self) -> list[str]:
        values = [v.strip() for v in self.cleaned_data["events"].split(",") if v.strip()]
        unknown = [v for v in values if not catalog.is_pattern(v)]
        if not values or unknown:
            raise forms.ValidationError(
                f"Not an event type: {', '.join(unknown)}." if unknown else "Name at least one."
            )
        return values
