"""Template filters that show amounts the one way the money module formats them."""

from decimal import Decimal

from django import template

from core.money import money as money_text

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """Render ``amount`` with its currency's places and code: "500.00 USD"."""
    if amount is None or amount == "":
        return ""
    return money_text(Decimal(amount), currency)
