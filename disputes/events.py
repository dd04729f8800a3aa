"""What the events about refund requests and disputes carry, and who receives them
(``webhooks.events``): the parties who can see the object, each with the object as their own
GET returns it. A draft dispute is the freelancer's own until it is submitted, so its events
(an extension while drafting) reach the freelancer only."""

from webhooks.events import Subject, register

from .models import Dispute, RefundRequest
from .serializers import DisputeSerializer, RefundRequestSerializer, provide_dispute_fields


def _refund_requests(ids):
    return RefundRequest.objects.select_related(
        "contract__client", "contract__freelancer", "milestone__escrow_account", "dispute"
    ).filter(pk__any=list(ids))


def _disputes(ids):
    return Dispute.objects.select_related(
        "refund_request__contract__client", "refund_request__contract__freelancer", "milestone"
    ).filter(pk__any=list(ids))


def _dispute_audience(ids) -> dict[int, tuple[int, ...]]:
    rows = Dispute.objects.filter(pk__any=list(ids)).values_list(
        "pk",
        "refund_request__contract__client_id",
        "refund_request__contract__freelancer_id",
        "submitted_at",
    )
    return {
        pk: (client_id, freelancer_id) if submitted_at is not None else (freelancer_id,)
        for pk, client_id, freelancer_id, submitted_at in rows
    }


register(
    Subject(
        model="disputes.RefundRequest",
        serializer=RefundRequestSerializer,
        load=_refund_requests,
        audience=lambda ids: {
            pk: (client_id, freelancer_id)
            for pk, client_id, freelancer_id in RefundRequest.objects.filter(
                pk__any=list(ids)
            ).values_list("pk", "contract__client_id", "contract__freelancer_id")
        },
    ),
    Subject(
        model="disputes.Dispute",
        serializer=DisputeSerializer,
        load=_disputes,
        audience=_dispute_audience,
        prepare=lambda rows, context: provide_dispute_fields(context, rows),
    ),
)
