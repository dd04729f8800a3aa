"""Template helpers for pages that show the disputes app's forms outside its own views."""

from django import template
from django.conf import settings

from disputes.forms import files_help_text, period_text

register = template.Library()


@register.simple_tag
def upload_limits() -> str:
    """The accepted file types and limits, as the forms' help texts say them."""
    return files_help_text()


@register.simple_tag
def response_period(which: str, adjective: bool = False) -> str:
    """The configured time to answer: "refund" (the freelancer's) or "dispute" (the client's)."""
    period = {
        "refund": settings.REFUND_REQUEST_RESPONSE_PERIOD,
        "dispute": settings.DISPUTE_CLIENT_RESPONSE_PERIOD,
    }[which]
    return period_text(period, adjective=adjective)
