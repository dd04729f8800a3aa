"""What people read of offers: a dispute's offers, and one offer a user may act on.

An offer is visible to whoever may read its dispute (``disputes.selectors``): its parties (the
client once the dispute is submitted, which every offer is) and the staff roles that read cases,
never on their own contracts. Anything else is a 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from disputes.models import Dispute
from disputes.selectors import disputes_visible_to

from .models import Offer


def dispute_offers(*, dispute: Dispute) -> QuerySet[Offer]:
    """The dispute's offers, oldest first."""
    return Offer.objects.filter(dispute=dispute).order_by("created_at", "pk")


def offer_get_for_user(*, user: User, pk: int) -> Offer:
    """Return the offer with its dispute, if ``user`` may read its dispute; else Http404."""
    offers = Offer.objects.select_related("dispute__refund_request__contract")
    return get_object_or_404(offers.filter(disputes_visible_to(user, prefix="dispute__")), pk=pk)
