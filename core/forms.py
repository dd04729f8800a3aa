"""What every browser form shares: labels as the pages write them, errors shown once, and
multiple-file uploads.

Forms only collect input; the rules live in the services, which every view calls. A refusal is
shown once: at the field it is about (:func:`refusal_on_form`), the first such field focused so
that it is in view, and as a message at the top of the page only when no field shows it.
"""

from django import forms

from .errors import DomainError


class BrowserForm(forms.Form):
    """Labels without a trailing colon, a marker class on required fields, and the first field
    in error focused when the form comes back with errors."""

    required_css_class = "required"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def full_clean(self):
        super().full_clean()
        focus_first_error(self)


def focus_first_error(form: forms.Form) -> None:
    """Put ``autofocus`` on the first field in error, so the browser shows it and its message."""
    if not form.is_bound or not form._errors:
        return
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)
    for name, field in form.fields.items():
        if name in form._errors:
            field.widget.attrs["autofocus"] = True
            return


def refusal_on_form(
    form: forms.Form, exc: DomainError, aliases: dict[str, str] | None = None
) -> bool:
    """Show a service's refusal on ``form``, each message once; return whether a field shows it.

    A message the service ties to one field goes at that field. One it ties to several fields
    (two shares that do not add up) or to none of the form's goes once above the fields, and so
    does the refusal's own message when it says more than the fields' ("You cannot hire
    yourself."). When no field of the form is named, the caller shows ``exc.message`` on the
    page instead.
    """
    aliases = aliases or {}
    where: dict[str, list[str]] = {}
    for name, errors in exc.fields.items():
        field = aliases.get(name, name)
        for message in [errors] if isinstance(errors, str) else errors:
            places = where.setdefault(str(message), [])
            if field not in places:
                places.append(field)
    named = any(field in form.fields for places in where.values() for field in places)
    if named and exc.message not in where:
        form.add_error(None, exc.message)
    for message, places in where.items():
        shown = [field for field in places if field in form.fields]
        form.add_error(shown[0] if len(shown) == 1 else None, message)
    focus_first_error(form)
    return named


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes any number of files (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_clean = super().clean
        if isinstance(data, list | tuple):
            return [single_clean(item, initial) for item in data]
        return [single_clean(data, initial)] if data else []
