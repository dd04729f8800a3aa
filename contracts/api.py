"""The REST API of contracts, milestones and balances (``/api/v1/``).

Thin edges: each view finds the object through a selector that only sees the user's own contracts
(so anything else is a 404, never a 403), checks the request's shape with a serializer, makes
exactly one service call with ``now`` read here, and answers with the object read back. The
services raise ``core.errors.DomainError`` subclasses, which ``core.api.exception_handler`` turns
into the one error shape (400 bad input, 403 not this party's action, 409 wrong state).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core import stamps
from core.api import (
    IDEMPOTENCY_KEY_PARAMETER,
    JSONView,
    StrictMultiPartParser,
    errors,
    idempotent,
)
from core.pagination import IdsFirstPagination

from . import selectors, services
from .serializers import (
    BalanceSerializer,
    ContractCreateSerializer,
    ContractHistoryQuerySerializer,
    ContractSerializer,
    MilestoneCreateSerializer,
    MilestoneFundSerializer,
    MilestoneReleaseSerializer,
    MilestoneSerializer,
    MilestoneSubmitSerializer,
)

CONTRACTS = ["contracts"]
MILESTONES = ["milestones"]


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _contract_response(request, *, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    contract = selectors.contract_detail_for_user(user=request.user, pk=pk)
    return Response(
        ContractSerializer(contract, context={"request": request}).data, status=status_code
    )


def _milestone_response(request, *, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    milestone = selectors.milestone_detail_for_user(user=request.user, pk=pk)
    return Response(MilestoneSerializer(milestone).data, status=status_code)


class BalanceListView(GenericAPIView):
    @extend_schema(
        operation_id="balances_list",
        summary="The user's own ledger accounts and their balances",
        tags=["balances"],
        responses={200: BalanceSerializer(many=True), **errors()},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.accounts_for_user(user=request.user))
        return self.get_paginated_response(BalanceSerializer(page, many=True).data)


class ContractListCreateView(GenericAPIView):
    parser_classes = [JSONParser]
    pagination_class = IdsFirstPagination

    @extend_schema(
        operation_id="contracts_list",
        summary="The contracts the user is a party to: what waits for them first",
        description=(
            "The contract history, as the browser shows it: the contracts on which something "
            "waits for you to act (before its deadline) first, then the other active ones, then "
            "the ended ones; newest first within each group. Paginated by page number: `page` "
            "(from 1) and `page_size` (default 50, at most 200); `next` and `previous` keep "
            "the filters. An unknown `filter` or `role` is a 400. The answer is kept for you "
            "until anything on one of your cases changes (it then shows at once), or for "
            "`STAMPED_CACHE_SECONDS` (60) at the most: a deadline that passed moves a contract "
            "out of the first group within that time, and at its sweep at the latest."
        ),
        tags=CONTRACTS,
        parameters=[ContractHistoryQuerySerializer],
        responses={200: ContractSerializer(many=True), **errors(400)},
    )
    def get(self, request):
        params = ContractHistoryQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = selectors.HistoryQuery(
            filter=params.validated_data.get("filter", ""),
            role=params.validated_data.get("role", ""),
            search=params.validated_data.get("q", ""),
        )

        def read() -> dict:
            contracts = selectors.contract_history_for_user(
                user=request.user, now=timezone.now(), query=query
            )
            page = self.paginate_queryset(selectors.with_work(contracts))
            serializer = ContractSerializer(page, many=True, context={"request": request})
            return self.get_paginated_response(serializer.data).data

        # Kept under the user's stamp, as the browser's history is (``core.stamps``): asked
        # again while nothing of the user's changed, it reads none of it.
        return Response(stamps.kept_data(request, "contracts_list", read))

    @extend_schema(
        operation_id="contracts_create",
        summary="Open a contract as its client",
        tags=CONTRACTS,
        request=ContractCreateSerializer,
        responses={201: ContractSerializer, **errors(400, 403)},
    )
    def post(self, request):
        data = _validated(ContractCreateSerializer, request)
        contract = services.contract_create(
            client=request.user,
            freelancer=data["freelancer"],
            title=data["title"],
            currency=data["currency"],
            now=timezone.now(),
        )
        return _contract_response(request, pk=contract.pk, status_code=status.HTTP_201_CREATED)


class ContractDetailView(JSONView):
    @extend_schema(
        operation_id="contracts_retrieve",
        summary="One contract with its milestones",
        tags=CONTRACTS,
        responses={200: ContractSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        return _contract_response(request, pk=pk)


class ContractMilestoneCreateView(JSONView):
    @extend_schema(
        operation_id="contracts_milestones_create",
        summary="Add a milestone awaiting funding (client)",
        tags=CONTRACTS,
        request=MilestoneCreateSerializer,
        responses={201: MilestoneSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        contract = selectors.contract_get_for_user(user=request.user, pk=pk)
        data = _validated(MilestoneCreateSerializer, request)
        milestone = services.milestone_create(
            contract=contract, actor=request.user, **data, now=timezone.now()
        )
        return _milestone_response(request, pk=milestone.pk, status_code=status.HTTP_201_CREATED)


class MilestoneDetailView(JSONView):
    @extend_schema(
        operation_id="milestones_retrieve",
        summary="One milestone with its escrow and submitted work",
        tags=MILESTONES,
        responses={200: MilestoneSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        return _milestone_response(request, pk=pk)


class MilestoneFundView(JSONView):
    @extend_schema(
        operation_id="milestones_fund",
        summary="Move the milestone's amount into escrow (client)",
        tags=MILESTONES,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=MilestoneFundSerializer,
        responses={
            200: OpenApiResponse(MilestoneSerializer, description="The funded milestone."),
            **errors(400, 403, 404, 409),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        milestone = selectors.milestone_get_for_user(user=request.user, pk=pk)
        data = _validated(MilestoneFundSerializer, request)
        services.milestone_fund(milestone=milestone, actor=request.user, **data, now=timezone.now())
        return _milestone_response(request, pk=pk)


class MilestoneSubmitView(APIView):
    parser_classes = [JSONParser, StrictMultiPartParser]

    @extend_schema(
        operation_id="milestones_submit",
        summary="Submit the delivered work (freelancer)",
        description=(
            'JSON `{"message"}`, or multipart/form-data with `message` and `files`. Files are '
            "checked as on `POST /disputes/{id}/evidence/`."
        ),
        tags=MILESTONES,
        request=MilestoneSubmitSerializer,
        responses={
            200: OpenApiResponse(MilestoneSerializer, description="The submitted milestone."),
            **errors(400, 403, 404, 409, 413),
        },
    )
    def post(self, request, pk: int):
        milestone = selectors.milestone_get_for_user(user=request.user, pk=pk)
        data = _validated(MilestoneSubmitSerializer, request)
        services.milestone_submit(
            milestone=milestone,
            actor=request.user,
            message=data["message"],
            files=data["files"],
            now=timezone.now(),
        )
        return _milestone_response(request, pk=pk)


class MilestoneReleaseView(JSONView):
    @extend_schema(
        operation_id="milestones_release",
        summary="Release all or part of the escrow to the freelancer (client)",
        tags=MILESTONES,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=MilestoneReleaseSerializer,
        responses={
            200: OpenApiResponse(MilestoneSerializer, description="The milestone after release."),
            **errors(400, 403, 404, 409),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        milestone = selectors.milestone_get_for_user(user=request.user, pk=pk)
        data = _validated(MilestoneReleaseSerializer, request)
        services.milestone_release(
            milestone=milestone, actor=request.user, **data, now=timezone.now()
        )
        return _milestone_response(request, pk=pk)
