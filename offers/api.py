"""The REST API of settlement offers (``API.md``).

``GET/POST /disputes/{id}/offers/`` and ``POST /offers/{id}/accept|decline|withdraw/``: the same
thin edges as ``disputes.api``. The dispute or offer is found through a selector that only sees
what the user may read (404 otherwise), the body's shape is checked by a serializer, one service
is called with ``now`` read here, and the offer is answered as read back. Accepting moves money,
so it honours ``Idempotency-Key``.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.api import IDEMPOTENCY_KEY_PARAMETER, JSONView, errors, idempotent
from disputes import selectors as dispute_selectors
from disputes import staff_reads

from . import selectors, services
from .models import Offer
from .serializers import OfferAnswerSerializer, OfferCreateSerializer, OfferSerializer

OFFERS = ["offers"]
API = "the API"


def _validated(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _offer_response(request, offer: Offer, status_code: int = status.HTTP_200_OK) -> Response:
    offer = Offer.objects.get(pk=offer.pk)
    return Response(OfferSerializer(offer, context={"request": request}).data, status=status_code)


class DisputeOffersView(GenericAPIView):
    @extend_schema(
        operation_id="disputes_offers_list",
        summary="The settlement offers on a dispute, oldest first (parties and staff)",
        tags=OFFERS,
        responses={200: OfferSerializer(many=True), **errors(404)},
    )
    def get(self, request, pk: int):
        dispute = dispute_selectors.dispute_get_for_user(user=request.user, pk=pk)
        staff_reads.case_read(user=request.user, case=dispute, via=f"{API} (its offers)")
        page = self.paginate_queryset(selectors.dispute_offers(dispute=dispute))
        serializer = OfferSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        operation_id="disputes_offers_create",
        summary="Offer the other party a settlement: an exact split of R (party)",
        description=(
            "From the dispute's submission until it closes. `to_freelancer` + `to_client` must "
            "equal R, the amount of the refund request still in escrow, to the cent (400 "
            "`split_mismatch`; a negative or malformed amount is 400 `invalid_amount`). A new "
            "offer withdraws the maker's own open one; the other party's open offer stays open. "
            "The offer lapses at `expires_at` (OFFER_RESPONSE_PERIOD, 2 days) unless answered, "
            "or when the dispute closes another way. Staff are 403; a closed dispute is 409."
        ),
        tags=OFFERS,
        request=OfferCreateSerializer,
        responses={
            201: OpenApiResponse(OfferSerializer, description="The open offer."),
            **errors(400, 403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        dispute = dispute_selectors.dispute_get_for_user(user=request.user, pk=pk)
        data = _validated(OfferCreateSerializer, request)
        offer = services.offer_make(
            dispute=dispute,
            actor=request.user,
            to_freelancer=data["to_freelancer"],
            to_client=data["to_client"],
            message=data["message"],
            now=timezone.now(),
        )
        return _offer_response(request, offer, status.HTTP_201_CREATED)


class OfferAcceptView(JSONView):
    @extend_schema(
        operation_id="offers_accept",
        summary="Accept the other party's offer: the money moves and the dispute closes (party)",
        description=(
            "The escrow moves as offered at once and the dispute closes with outcome `SETTLED`. "
            "Before an arbitration case opens, an arbitration fee already paid is refunded; once "
            "a case is open, the fees stay and the case closes as settled. One's own offer is "
            "403 `own_offer`; an offer no longer open, or a closed dispute, is 409 (past "
            "`expires_at`: `deadline_passed`, and the offer has lapsed)."
        ),
        tags=OFFERS,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=None,
        responses={
            200: OpenApiResponse(OfferSerializer, description="The accepted offer."),
            **errors(403, 404, 409),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        offer = selectors.offer_get_for_user(user=request.user, pk=pk)
        offer = services.offer_accept(offer=offer, actor=request.user, now=timezone.now())
        return _offer_response(request, offer)


class OfferDeclineView(JSONView):
    @extend_schema(
        operation_id="offers_decline",
        summary="Decline the other party's offer, with an optional reason (party)",
        tags=OFFERS,
        request=OfferAnswerSerializer,
        responses={
            200: OpenApiResponse(OfferSerializer, description="The declined offer."),
            **errors(400, 403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        offer = selectors.offer_get_for_user(user=request.user, pk=pk)
        data = _validated(OfferAnswerSerializer, request)
        offer = services.offer_decline(
            offer=offer, actor=request.user, reason=data["reason"], now=timezone.now()
        )
        return _offer_response(request, offer)


class OfferWithdrawView(JSONView):
    @extend_schema(
        operation_id="offers_withdraw",
        summary="Withdraw one's own open offer, with an optional reason (its maker)",
        tags=OFFERS,
        request=OfferAnswerSerializer,
        responses={
            200: OpenApiResponse(OfferSerializer, description="The withdrawn offer."),
            **errors(400, 403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        offer = selectors.offer_get_for_user(user=request.user, pk=pk)
        data = _validated(OfferAnswerSerializer, request)
        offer = services.offer_withdraw(
            offer=offer, actor=request.user, reason=data["reason"], now=timezone.now()
        )
        return _offer_response(request, offer)
