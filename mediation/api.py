"""The REST API of mediation: an agent's resolution, the parties' answers, extensions and notes.

The same thin edges as ``disputes.api``: each view finds the dispute through
``disputes.selectors`` (a party sees their own disputes, staff see all; anything else is a 404),
checks the request's shape with a serializer, makes exactly one service call with ``now`` read
here, and answers with the dispute read back. Whose action it is, in which state and before
which deadline is the services' to say: 403 (``not_an_agent``, ``not_allowed``,
``account_suspended``), 409 (``illegal_transition``, ``deadline_passed``, ``already_answered``).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.api import IDEMPOTENCY_KEY_PARAMETER, JSONView, errors, idempotent
from disputes import selectors
from disputes import services as dispute_services
from disputes.serializers import DisputeSerializer, TimelineEventSerializer

from . import services
from .serializers import DisputeExtendSerializer, DisputeNoteSerializer, ResolutionProposeSerializer

MEDIATION = ["mediation"]


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _dispute_response(request, *, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    return Response(
        DisputeSerializer(dispute, context={"request": request}).data, status=status_code
    )


class ResolutionProposeView(JSONView):
    @extend_schema(
        operation_id="disputes_resolution_propose",
        summary="Propose a resolution: an exact split of the disputed escrow (mediation agent)",
        description=(
            "While the dispute is IN_MEDIATION. `to_freelancer + to_client` must equal R, the "
            "refund requested (the whole disputed escrow), to the cent: otherwise 400 "
            "split_mismatch; a negative or malformed share is 400 invalid_amount; an empty "
            "rationale 400 rationale_required. The dispute becomes RESOLUTION_PROPOSED and both "
            'parties have the resolution_response deadline (party "parties") to answer. '
            "Small claims: when the small-claims setting is on and R is below its limit, the "
            "proposal is a binding decision instead: the resolution is BINDING, the money "
            "moves at once and the dispute comes back CLOSED with outcome SMALL_CLAIM, which "
            "is why this POST takes an Idempotency-Key. Answers the dispute, with the "
            "proposal in `resolution`."
        ),
        tags=MEDIATION,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=ResolutionProposeSerializer,
        responses={
            201: OpenApiResponse(
                DisputeSerializer, description="The dispute, with the proposal in `resolution`."
            ),
            **errors(400, 403, 404, 409),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        data = _validated(ResolutionProposeSerializer, request)
        services.resolution_propose(
            dispute=dispute,
            agent=request.user,
            to_freelancer=data["to_freelancer"],
            to_client=data["to_client"],
            rationale=data["rationale"],
            now=timezone.now(),
        )
        return _dispute_response(request, pk=pk, status_code=status.HTTP_201_CREATED)


class ResolutionAcceptView(JSONView):
    @extend_schema(
        operation_id="disputes_resolution_accept",
        summary="Accept the proposed resolution (freelancer or client)",
        description=(
            "Before the resolution_response deadline. When the other party has accepted too, "
            "the money moves as proposed and the dispute closes with outcome "
            "RESOLUTION_ACCEPTED; otherwise the other party's answer is awaited. A second "
            "answer is 409 already_answered."
        ),
        tags=MEDIATION,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=None,
        responses={
            200: OpenApiResponse(DisputeSerializer, description="The dispute after the answer."),
            **errors(403, 404, 409),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        services.resolution_answer(
            dispute=dispute, actor=request.user, accept=True, now=timezone.now()
        )
        return _dispute_response(request, pk=pk)


class ResolutionRejectView(JSONView):
    @extend_schema(
        operation_id="disputes_resolution_reject",
        summary="Reject the proposed resolution: a Notice of Non-Resolution (freelancer or client)",
        description=(
            "Before the resolution_response deadline. The money stays in escrow and the "
            "dispute becomes ARBITRATION_WINDOW: each party may agree to binding arbitration "
            "and pay its fee (POST /disputes/{id}/arbitration/pay-fee/) before the "
            "arbitration_window deadline."
        ),
        tags=MEDIATION,
        request=None,
        responses={
            200: OpenApiResponse(
                DisputeSerializer, description="The dispute, its arbitration window open."
            ),
            **errors(403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        services.resolution_answer(
            dispute=dispute, actor=request.user, accept=False, now=timezone.now()
        )
        return _dispute_response(request, pk=pk)


class DisputeExtendView(JSONView):
    @extend_schema(
        operation_id="disputes_extend",
        summary="Move the parties' current deadline later, with a reason (mediation agent)",
        description=(
            "Moves the deadline a party faces now: the refund request's while DRAFT, the "
            "client's while AWAITING_CLIENT, both parties' while RESOLUTION_PROPOSED or "
            "ARBITRATION_WINDOW, and while IN_ARBITRATION the earliest open evidence request. "
            "The new time must be later than the current one (400 invalid_due_at); a deadline "
            "already passed is 409 deadline_passed; a stage without a party deadline 409 "
            "no_deadline. The extension and its reason go on the timeline both parties read."
        ),
        tags=MEDIATION,
        request=DisputeExtendSerializer,
        responses={
            200: OpenApiResponse(DisputeSerializer, description="The dispute, extended."),
            **errors(400, 403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        data = _validated(DisputeExtendSerializer, request)
        dispute_services.dispute_extend(
            dispute=dispute,
            actor=request.user,
            due_at=data["due_at"],
            reason=data["reason"],
            now=timezone.now(),
        )
        return _dispute_response(request, pk=pk)


class DisputeNoteView(JSONView):
    @extend_schema(
        operation_id="disputes_notes_create",
        summary="Add an internal note (mediation agent or arbitrator)",
        description=(
            "An INTERNAL_NOTE event on the timeline: staff read it; the parties never see it, "
            "in GET /disputes/{id}/timeline/ or anywhere else."
        ),
        tags=MEDIATION,
        request=DisputeNoteSerializer,
        responses={
            201: OpenApiResponse(TimelineEventSerializer, description="The note's event."),
            **errors(400, 403, 404),
        },
    )
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        data = _validated(DisputeNoteSerializer, request)
        event = dispute_services.dispute_note_add(
            dispute=dispute, author=request.user, text=data["text"], now=timezone.now()
        )
        return Response(TimelineEventSerializer(event).data, status=status.HTTP_201_CREATED)
