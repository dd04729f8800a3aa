"""What the events about contracts and milestones carry, and who receives them: both parties
of the contract, each with the object as their own GET returns it (``webhooks.events``)."""

from webhooks.events import Subject, register

from . import selectors
from .models import Contract, Milestone
from .serializers import ContractSerializer, MilestoneSerializer


def _parties(rows) -> dict[int, tuple[int, int]]:
    return {pk: (client_id, freelancer_id) for pk, client_id, freelancer_id in rows}


register(
    Subject(
        model="contracts.Contract",
        serializer=ContractSerializer,
        load=selectors.contracts_as_read,
        audience=lambda ids: _parties(
            Contract.objects.filter(pk__any=list(ids)).values_list(
                "pk", "client_id", "freelancer_id"
            )
        ),
    ),
    Subject(
        model="contracts.Milestone",
        serializer=MilestoneSerializer,
        load=selectors.milestones_as_read,
        audience=lambda ids: _parties(
            Milestone.objects.filter(pk__any=list(ids)).values_list(
                "pk", "contract__client_id", "contract__freelancer_id"
            )
        ),
    ),
)
