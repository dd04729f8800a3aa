"""The REST API of arbitration: paying the fee, evidence requests and the final award.

The same thin edges as ``disputes.api``: each view finds the dispute through
``disputes.selectors`` (a party sees their own disputes, staff see all; anything else is a 404),
checks the request's shape with a serializer, makes exactly one service call with ``now`` read
here, and answers with what changed read back. Whose action it is, in which state and before
which deadline is the services' to say: 403 (``not_an_arbitrator``, ``not_allowed``,
``account_suspended``), 409 (``illegal_transition``, ``deadline_passed``, ``fee_already_paid``,
``case_not_open``).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from core.api import IDEMPOTENCY_KEY_PARAMETER, JSONView, errors, idempotent
from disputes import selectors, staff_reads
from disputes.serializers import DisputeSerializer

from . import api_selectors, services
from .serializers import (
    AwardIssueSerializer,
    EvidenceRequestCreateSerializer,
    EvidenceRequestSerializer,
)

ARBITRATION = ["arbitration"]


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _dispute_response(request, *, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    return Response(
        DisputeSerializer(dispute, context={"request": request}).data, status=status_code
    )


class ArbitrationFeePayView(JSONView):
    @extend_schema(
        operation_id="disputes_arbitration_pay_fee",
        summary="Agree to binding arbitration and pay your share of the fee (freelancer or client)",
        description=(
            "While ARBITRATION_WINDOW and before its deadline (409 deadline_passed at it). "
            "The fee (`arbitration.fee`) moves from the party's funding source to the "
            "platform. When the other party has paid too, the case opens at once "
            "(IN_ARBITRATION). If only one party has paid when the window closes, that party "
            "receives the disputed escrow and its fee back; if neither, it is refunded to the "
            "client. Paying twice is 409 fee_already_paid. Both parties see each other's fee "
            "status in `arbitration.fees`."
        ),
        tags=ARBITRATION,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=None,
        responses={
            200: OpenApiResponse(DisputeSerializer, description="The dispute, the fee paid."),
            **errors(403, 404, 409),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        services.arbitration_fee_pay(dispute=dispute, actor=request.user, now=timezone.now())
        return _dispute_response(request, pk=pk)


class EvidenceRequestListCreateView(GenericAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="disputes_evidence_requests_list",
        summary="The arbitrator's requests for evidence, oldest first (parties and staff)",
        description="Both parties see the requests to either of them; empty until a case opens.",
        tags=ARBITRATION,
        responses={200: EvidenceRequestSerializer(many=True), **errors(404)},
    )
    def get(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        staff_reads.case_read(
            user=request.user, case=dispute, via="the API (its evidence requests)"
        )
        page = self.paginate_queryset(api_selectors.dispute_evidence_requests(dispute=dispute))
        return self.get_paginated_response(EvidenceRequestSerializer(page, many=True).data)

    @extend_schema(
        operation_id="disputes_evidence_requests_create",
        summary="Ask a party for more evidence by a due date (arbitrator)",
        description=(
            "While the case is open (IN_ARBITRATION; otherwise 409 case_not_open). The party "
            "may then upload with POST /disputes/{id}/evidence/ until `due_at`; an agent may "
            "extend it with POST /disputes/{id}/extend/."
        ),
        tags=ARBITRATION,
        request=EvidenceRequestCreateSerializer,
        responses={
            201: OpenApiResponse(EvidenceRequestSerializer, description="The open request."),
            **errors(400, 403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        data = _validated(EvidenceRequestCreateSerializer, request)
        evidence_request = services.evidence_request_create(
            dispute=dispute,
            arbitrator=request.user,
            party=data["party"],
            message=data["message"],
            due_at=data["due_at"],
            now=timezone.now(),
        )
        return Response(
            EvidenceRequestSerializer(evidence_request).data, status=status.HTTP_201_CREATED
        )


class AwardIssueView(JSONView):
    @extend_schema(
        operation_id="disputes_award",
        summary="Issue the final award: an exact split of the disputed escrow (arbitrator)",
        description=(
            "While the case is open (otherwise 409 case_not_open; a second award too: the "
            "first is final). `to_freelancer + to_client` must equal R to the cent (400 "
            "split_mismatch); an empty reasons is 400 reasons_required. The money moves at "
            "once, open evidence requests close, and the dispute comes back CLOSED with "
            "outcome AWARDED and the award in `arbitration.award`."
        ),
        tags=ARBITRATION,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=AwardIssueSerializer,
        responses={
            201: OpenApiResponse(DisputeSerializer, description="The closed dispute."),
            **errors(400, 403, 404, 409),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        data = _validated(AwardIssueSerializer, request)
        services.award_issue(
            dispute=dispute,
            arbitrator=request.user,
            to_freelancer=data["to_freelancer"],
            to_client=data["to_client"],
            reasons=data["reasons"],
            now=timezone.now(),
        )
        return _dispute_response(request, pk=pk, status_code=status.HTTP_201_CREATED)
