"""The REST API of ending a contract, refund requests, disputes, evidence and support cases.

The same thin edges as ``contracts.api``: each view finds its object through a selector that only
sees what the user may read (anything else is a 404, never a 403), checks the request's shape with
a serializer, makes exactly one service call with ``now`` read here, and answers with the object
read back. The services raise ``core.errors.DomainError`` subclasses, which
``core.api.exception_handler`` turns into the one error shape: 400 bad input, 403 the other
party's action, 409 wrong state or a deadline that has passed. Where a service names an input
field differently from the request (``feedback_rating`` for ``feedback.rating``), the error is
renamed here so that ``fields`` always names what the caller sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contracts import selectors as contract_selectors
from core import stamps
from core.api import (
    IDEMPOTENCY_KEY_PARAMETER,
    JSONView,
    StrictMultiPartParser,
    errors,
    idempotent,
)
from core.errors import DomainError, InvalidInput
from core.files import private_download, private_file_response

from . import api_selectors, dossier, selectors, services, staff_reads
from .serializers import (
    ContractEndResultSerializer,
    ContractEndSerializer,
    DisputeDeclineSerializer,
    DisputeMessageCreateSerializer,
    DisputeMessageSerializer,
    DisputeSerializer,
    DisputeStartSerializer,
    DisputeUpdateSerializer,
    EvidenceSerializer,
    EvidenceUploadSerializer,
    RefundRequestSerializer,
    SupportCaseCreateSerializer,
    SupportCaseSerializer,
    TimelineEventSerializer,
)

CONTRACTS = ["contracts"]
REFUND_REQUESTS = ["refund requests"]
DISPUTES = ["disputes"]
EVIDENCE = ["evidence"]
SUPPORT_CASES = ["support cases"]

API = "the API"

FEEDBACK_FIELDS = {"feedback_rating": "feedback.rating", "feedback_comment": "feedback.comment"}


def _validated(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer


@contextmanager
def _fields_renamed(rename: Callable[[str, DomainError], str]) -> Iterator[None]:
    """Rename the ``fields`` of a DomainError raised inside to the request's own field names."""
    try:
        yield
    except DomainError as error:
        error.fields = {rename(name, error): messages for name, messages in error.fields.items()}
        raise


def _feedback_field(name: str, error: DomainError) -> str:
    return FEEDBACK_FIELDS.get(name, name)


def _refund_request_response(
    request, *, pk: int, status_code: int = status.HTTP_200_OK
) -> Response:
    refund_request = selectors.refund_request_get_for_user(user=request.user, pk=pk)
    return Response(
        RefundRequestSerializer(refund_request, context={"request": request}).data,
        status=status_code,
    )


def _dispute_response(request, *, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    return Response(
        DisputeSerializer(dispute, context={"request": request}).data, status=status_code
    )


# --- Ending a contract -------------------------------------------------------------------------


class ContractEndView(JSONView):
    @extend_schema(
        operation_id="contracts_end",
        summary="End the contract, pay what you choose and ask for the rest back (client)",
        description=(
            "Each payment P is released to the freelancer at once. For each milestone with "
            "money left in escrow (R = E − P > 0) a refund request opens: the freelancer has 7 "
            "days to accept it or file a dispute, and silence refunds R. Milestones never "
            "funded are cancelled. Nothing changes unless every payment is valid."
        ),
        tags=CONTRACTS,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=ContractEndSerializer,
        responses={
            200: OpenApiResponse(
                ContractEndResultSerializer, description="The ended contract's refund requests."
            ),
            **errors(400, 403, 404, 409),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        contract = contract_selectors.contract_get_for_user(user=request.user, pk=pk)
        payments = _validated(ContractEndSerializer, request).validated_data["payments"]
        index = {str(p["milestone"]): i for i, p in enumerate(payments)}

        def rename(name: str, error: DomainError) -> str:
            prefix, _, milestone = name.partition(".")
            if prefix != "payments" or milestone not in index:
                return name
            part = "milestone" if error.code == "invalid_milestone" else "amount"
            return f"payments.{index[milestone]}.{part}"

        with _fields_renamed(rename):
            services.contract_end(
                contract=contract,
                actor=request.user,
                payments={p["milestone"]: p["amount"] for p in payments},
                now=timezone.now(),
            )
        contract.refresh_from_db(fields=["status"])
        refund_requests = api_selectors.refund_requests_for_user(user=request.user).filter(
            contract=contract
        )
        result = {
            "contract": contract.pk,
            "status": contract.status,
            "refund_requests": refund_requests.order_by("milestone_id", "pk"),
        }
        return Response(ContractEndResultSerializer(result, context={"request": request}).data)


# --- Refund requests ---------------------------------------------------------------------------


class RefundRequestListView(GenericAPIView):
    @extend_schema(
        operation_id="refund_requests_list",
        summary="The refund requests of the user's contracts, newest first (staff: all)",
        tags=REFUND_REQUESTS,
        responses={200: RefundRequestSerializer(many=True), **errors()},
    )
    def get(self, request):
        if selectors.reads_cases(request.user):
            staff_reads.list_read(user=request.user, request=request)
        page = self.paginate_queryset(api_selectors.refund_requests_for_user(user=request.user))
        serializer = RefundRequestSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)


class RefundRequestDetailView(JSONView):
    @extend_schema(
        operation_id="refund_requests_retrieve",
        summary="One refund request and its deadline",
        tags=REFUND_REQUESTS,
        responses={200: RefundRequestSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        refund_request = selectors.refund_request_get_for_user(user=request.user, pk=pk)
        staff_reads.case_read(user=request.user, case=refund_request, via=API)
        return Response(RefundRequestSerializer(refund_request, context={"request": request}).data)


class RefundRequestAcceptView(JSONView):
    @extend_schema(
        operation_id="refund_requests_accept",
        summary="Accept the refund: the amount goes back to the client (freelancer)",
        tags=REFUND_REQUESTS,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=None,
        responses={
            200: OpenApiResponse(RefundRequestSerializer, description="The accepted request."),
            **errors(403, 404, 409),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        refund_request = selectors.refund_request_get_for_user(user=request.user, pk=pk)
        services.refund_request_accept(
            refund_request=refund_request, actor=request.user, now=timezone.now()
        )
        return _refund_request_response(request, pk=pk)


class RefundRequestDisputeView(JSONView):
    @extend_schema(
        operation_id="refund_requests_dispute",
        summary="Start a DRAFT dispute, beginning with feedback on the client (freelancer)",
        description=(
            "The feedback is required now; reason, description and amount may follow with "
            "PATCH /disputes/{id}/ and evidence with POST /disputes/{id}/evidence/. A draft does "
            "not stop the refund request's clock: only POST /disputes/{id}/submit/ does. The "
            "client does not see the draft until it is submitted."
        ),
        tags=REFUND_REQUESTS,
        request=DisputeStartSerializer,
        responses={
            201: OpenApiResponse(DisputeSerializer, description="The draft dispute."),
            **errors(400, 403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        refund_request = selectors.refund_request_get_for_user(user=request.user, pk=pk)
        filing = _validated(DisputeStartSerializer, request).changes()
        with _fields_renamed(_feedback_field):
            dispute = services.dispute_start(
                refund_request=refund_request, actor=request.user, **filing, now=timezone.now()
            )
        return _dispute_response(request, pk=dispute.pk, status_code=status.HTTP_201_CREATED)


# --- Disputes ----------------------------------------------------------------------------------


class DisputeListView(GenericAPIView):
    @extend_schema(
        operation_id="disputes_list",
        summary="The disputes the user may read, newest first",
        description=(
            "The freelancer's disputes from their first draft; the client's once submitted; "
            "staff see all."
        ),
        tags=DISPUTES,
        responses={200: DisputeSerializer(many=True), **errors()},
    )
    def get(self, request):
        if selectors.reads_cases(request.user):
            staff_reads.list_read(user=request.user, request=request)
        page = self.paginate_queryset(api_selectors.disputes_for_user(user=request.user))
        serializer = DisputeSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)


class DisputeDetailView(JSONView):
    @extend_schema(
        operation_id="disputes_retrieve",
        summary="One dispute, its amounts and the deadline that applies now",
        description=(
            "A party's answer is kept for them until anything on the case changes (it then "
            "shows at once), or for `STAMPED_CACHE_SECONDS` (60) at the most; staff's reads are "
            "read, and recorded, each time."
        ),
        tags=DISPUTES,
        responses={200: DisputeSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        def read() -> dict:
            dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
            staff_reads.case_read(user=request.user, case=dispute, via=API)
            return DisputeSerializer(dispute, context={"request": request}).data

        if staff_reads.reads_are_recorded(request.user):
            return Response(read())
        # A party's, kept under their stamp (``core.stamps``): every change to the case is an
        # action on one of its rows, which changes the stamps of both parties.
        return Response(stamps.kept_data(request, "disputes_retrieve", read))

    @extend_schema(
        operation_id="disputes_partial_update",
        summary="Change a DRAFT filing: feedback, reason, description, amount (freelancer)",
        description="Only while DRAFT: a submitted dispute is 409 filing_locked.",
        tags=DISPUTES,
        request=DisputeUpdateSerializer,
        responses={200: DisputeSerializer, **errors(400, 403, 404, 409)},
    )
    def patch(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        changes = _validated(DisputeUpdateSerializer, request).changes()
        with _fields_renamed(_feedback_field):
            services.dispute_update(
                dispute=dispute, actor=request.user, changes=changes, now=timezone.now()
            )
        return _dispute_response(request, pk=pk)


class DisputeEvidenceView(GenericAPIView):
    parser_classes = [StrictMultiPartParser]

    @extend_schema(
        operation_id="disputes_evidence_list",
        summary="The dispute's evidence files, oldest first",
        tags=EVIDENCE,
        responses={200: EvidenceSerializer(many=True), **errors(404)},
    )
    def get(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        staff_reads.case_read(user=request.user, case=dispute, via=f"{API} (its evidence list)")
        page = self.paginate_queryset(selectors.dispute_evidence(dispute=dispute))
        serializer = EvidenceSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        operation_id="disputes_evidence_create",
        summary="Attach a file (the freelancer while drafting, the client while answering)",
        description=(
            "multipart/form-data with `file` and an optional `description`. The file is judged "
            "by its content (PDF, PNG, JPEG, plain text or ZIP) and its size, and refused "
            "(400 `invalid_file`, with the reason) when it could act where it is opened: a ZIP "
            "that expands too far or holds too many entries, a path out of its folder, another "
            "archive or a program; a PDF with JavaScript, a launch action or embedded files; "
            "text named or written as a script or a web page (`.bat`, `.hta`, `.html`, `.svg`). "
            "Its plain name is kept only to be shown; it is stored and downloaded under a "
            "generated name with the extension of its type (`download_name`)."
        ),
        tags=EVIDENCE,
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={
            201: OpenApiResponse(EvidenceSerializer, description="The stored file."),
            **errors(400, 403, 404, 409, 413),
        },
    )
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        data = _validated(EvidenceUploadSerializer, request).validated_data
        evidence = services.evidence_add(
            dispute=dispute,
            actor=request.user,
            file=data["file"],
            description=data["description"],
            now=timezone.now(),
        )
        return Response(
            EvidenceSerializer(evidence, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class DisputeSubmitView(JSONView):
    @extend_schema(
        operation_id="disputes_submit",
        summary="Submit the filing: it locks and the client's 5 days start (freelancer)",
        tags=DISPUTES,
        request=None,
        responses={
            200: OpenApiResponse(DisputeSerializer, description="The submitted dispute."),
            **errors(400, 403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        with _fields_renamed(_feedback_field):
            services.dispute_submit(dispute=dispute, actor=request.user, now=timezone.now())
        return _dispute_response(request, pk=pk)


class DisputeAcceptView(JSONView):
    @extend_schema(
        operation_id="disputes_accept",
        summary="Accept: the disputed amount to the freelancer, the rest refunded (client)",
        tags=DISPUTES,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=None,
        responses={
            200: OpenApiResponse(DisputeSerializer, description="The closed dispute."),
            **errors(403, 404, 409),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        services.dispute_accept(dispute=dispute, actor=request.user, now=timezone.now())
        return _dispute_response(request, pk=pk)


class DisputeDeclineView(JSONView):
    @extend_schema(
        operation_id="disputes_decline",
        summary="Decline with a reason: the dispute goes to mediation (client)",
        tags=DISPUTES,
        request=DisputeDeclineSerializer,
        responses={
            200: OpenApiResponse(DisputeSerializer, description="The dispute in mediation."),
            **errors(400, 403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        data = _validated(DisputeDeclineSerializer, request).validated_data
        services.dispute_decline(
            dispute=dispute, actor=request.user, reason=data["reason"], now=timezone.now()
        )
        return _dispute_response(request, pk=pk)


class DisputeTimelineView(GenericAPIView):
    @extend_schema(
        operation_id="disputes_timeline",
        summary="What happened to the refund request and its dispute, oldest first",
        description="Internal events (agents' notes) are shown to staff only.",
        tags=DISPUTES,
        responses={200: TimelineEventSerializer(many=True), **errors(404)},
    )
    def get(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        request_ = dispute.refund_request
        events = selectors.timeline_for_viewer(
            refund_request=request_, user=request.user, role=request_.contract.role_of(request.user)
        )
        page = self.paginate_queryset(events)
        staff_reads.case_read(
            user=request.user, case=dispute, via=f"{API} (its timeline)", events=page
        )
        return self.get_paginated_response(TimelineEventSerializer(page, many=True).data)


class DisputeMessagesView(GenericAPIView):
    # JSON only: a multipart body (a file) is refused with 415 before anything is read.
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="disputes_messages_list",
        summary="The dispute's messages, oldest first (the parties and the assigned staff member)",
        description=(
            "The thread between both parties and the mediation agent assigned to the case, then "
            "the arbitrator once it is in arbitration. Anyone else who may read the dispute "
            "(another staff member) gets 403 `not_in_thread`. Those in the thread read it at "
            "any stage: empty before the client's decline, kept after the dispute closes."
        ),
        tags=DISPUTES,
        responses={200: DisputeMessageSerializer(many=True), **errors(403, 404)},
    )
    def get(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        messages = selectors.thread_for_user(dispute=dispute, user=request.user)
        page = self.paginate_queryset(messages)
        via = f"{API} (its messages)"
        staff_reads.case_read(user=request.user, case=dispute, via=via)
        staff_reads.messages_read(user=request.user, dispute=dispute, via=via, count=len(page))
        return self.get_paginated_response(DisputeMessageSerializer(page, many=True).data)

    @extend_schema(
        operation_id="disputes_messages_create",
        summary="Write to the dispute's thread (the parties and the assigned staff member)",
        description=(
            'JSON `{"text"}` only: a message never carries a file (a multipart body is 415, any '
            "other field 400 `unknown_field`); files reach the case through the evidence rules. "
            "Open from the client's decline until the dispute closes: before, 409 "
            "`messages_not_open`; after, 409 `dispute_closed`. The message goes on the timeline "
            "and the others in the thread are notified."
        ),
        tags=DISPUTES,
        request=DisputeMessageCreateSerializer,
        responses={
            201: OpenApiResponse(DisputeMessageSerializer, description="The message."),
            **errors(400, 403, 404, 409, 415),
        },
    )
    def post(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        data = _validated(DisputeMessageCreateSerializer, request).validated_data
        message = services.dispute_message_post(
            dispute=dispute, author=request.user, text=data["text"], now=timezone.now()
        )
        return Response(DisputeMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class DisputeDossierView(APIView):
    @extend_schema(
        operation_id="disputes_dossier",
        summary="The case dossier: one ZIP of the whole dispute (parties and staff)",
        description=(
            "A ZIP with `manifest.json`: `dispute` (as `GET /disputes/{id}/` shows it to the "
            "caller), `milestone_terms` (`title`, `description`, `amount`, `currency`, "
            "`due_date`, `frozen_at`, `sha256`: the terms frozen when the milestone was funded; "
            "the hash is the SHA-256 of those six fields as JSON with sorted keys, no "
            "whitespace, UTF-8), `timeline` (as `GET /disputes/{id}/timeline/` lists it to "
            "the caller: a party's never holds an internal note, staff's does), `evidence` "
            "(`id`, `name`, `size`, `sha256`, `path`) and `messages` (the thread, or null when "
            "it is not the caller's); a printable `timeline.html`; and each evidence file at "
            "its `path`, under a generated name (`evidence/evidence-12.pdf`), never the name it "
            "was uploaded with. Each file's `sha256` is the one recorded at its upload."
        ),
        tags=DISPUTES,
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The ZIP, as an attachment."
            ),
            **errors(404),
        },
    )
    def get(self, request, pk: int):
        dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
        made = dossier.dossier_build(dispute=dispute, request=request, now=timezone.now())
        staff_reads.dossier_read(
            user=request.user, dispute=dispute, dossier=made, via=f"{API} (its dossier)"
        )
        return private_download(made.file, filename=made.filename, content_type="application/zip")


# --- Evidence files ----------------------------------------------------------------------------


class EvidenceDownloadView(APIView):
    @extend_schema(
        operation_id="evidence_download",
        summary="The evidence file, as an attachment (parties and staff)",
        tags=EVIDENCE,
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file's bytes; Content-Type is the type found from its content.",
            ),
            **errors(404),
        },
    )
    def get(self, request, pk: int):
        stored = selectors.evidence_get_for_user(user=request.user, pk=pk)
        staff_reads.file_read(user=request.user, evidence=stored, via=API)
        return private_file_response(
            stored.file, filename=stored.download_name, content_type=stored.content_type
        )


# --- Support cases -----------------------------------------------------------------------------


class SupportCaseListCreateView(GenericAPIView):
    parser_classes = [JSONParser, StrictMultiPartParser]

    @extend_schema(
        operation_id="support_cases_list",
        summary="The support cases the user opened, newest first (staff: all)",
        tags=SUPPORT_CASES,
        responses={200: SupportCaseSerializer(many=True), **errors()},
    )
    def get(self, request):
        if selectors.reads_support_cases(request.user):
            staff_reads.list_read(user=request.user, request=request)
        page = self.paginate_queryset(api_selectors.support_cases_for_user(user=request.user))
        serializer = SupportCaseSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        operation_id="support_cases_create",
        summary="Ask staff for help with funded work the client neither pays nor ends (freelancer)",
        description=(
            'JSON `{"milestone", "description"}`, or multipart/form-data with `milestone`, '
            "`description` and `files` (checked as on `POST /disputes/{id}/evidence/`). An "
            "unknown milestone, or one of another user's contracts, is 400 invalid_milestone."
        ),
        tags=SUPPORT_CASES,
        request=SupportCaseCreateSerializer,
        responses={
            201: OpenApiResponse(SupportCaseSerializer, description="The open support case."),
            **errors(400, 403, 409, 413),
        },
    )
    def post(self, request):
        data = _validated(SupportCaseCreateSerializer, request).validated_data
        try:
            milestone = contract_selectors.milestone_get_for_user(
                user=request.user, pk=data["milestone"]
            )
        except Http404:
            message = "There is no such milestone on your contracts."
            raise InvalidInput(
                message, code="invalid_milestone", fields={"milestone": [message]}
            ) from None
        case = services.support_case_open(
            milestone=milestone,
            actor=request.user,
            description=data["description"],
            files=data["files"],
            now=timezone.now(),
        )
        case = api_selectors.support_case_detail_for_user(user=request.user, pk=case.pk)
        return Response(
            SupportCaseSerializer(case, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class SupportCaseDetailView(JSONView):
    @extend_schema(
        operation_id="support_cases_retrieve",
        summary="One support case with its files",
        tags=SUPPORT_CASES,
        responses={200: SupportCaseSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        case = api_selectors.support_case_detail_for_user(user=request.user, pk=pk)
        staff_reads.case_read(user=request.user, case=case, via=API)
        return Response(SupportCaseSerializer(case, context={"request": request}).data)
