"""The deadline of a settlement offer: the other party answers it, or it lapses.

Declared once (``core.deadlines``); the sweep, its reminder, a late answer (refused after the
offer lapsed) and the API's ``deadline`` of an offer derive from it. It is the offer's own: the
dispute's deadline card keeps showing the stage's deadline.
"""

from __future__ import annotations

from core import deadlines
from disputes.deadlines import REMINDER_FIELDS

from .models import Offer
from .services import offers_lapse, remind_offers

OFFER_RESPONSE = deadlines.DeadlineKind(
    name="offer_response",
    model="offers.Offer",
    statuses={Offer.Status.OPEN},
    label="The other party's time to accept or decline the settlement offer",
    party=lambda offer: offer.other,
    due="response_due_at",
    starts="created_at",
    apply=offers_lapse,
    load=lambda rows: rows.select_related("dispute__refund_request__contract"),
    reminders=REMINDER_FIELDS,
    remind=remind_offers,
    remind_load=lambda rows: rows.select_related("dispute__refund_request__contract"),
    sweep="offers.offers_lapse",
    reminder_sweep="offers.offer_reminders",
    order=70,
    extendable=False,
    settled_text="It can no longer be answered.",
)

deadlines.declare(OFFER_RESPONSE)
