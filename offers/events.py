"""What the events about offers carry, and who receives them (``webhooks.events``): both
parties of the offer's dispute, each with the offer as ``GET /disputes/{id}/offers/`` lists it."""

from webhooks.events import Subject, register

from .models import Offer
from .serializers import OfferSerializer

register(
    Subject(
        model="offers.Offer",
        serializer=OfferSerializer,
        load=lambda ids: Offer.objects.filter(pk__any=list(ids)),
        audience=lambda ids: {
            pk: (client_id, freelancer_id)
            for pk, client_id, freelancer_id in Offer.objects.filter(pk__any=list(ids)).values_list(
                "pk",
                "dispute__refund_request__contract__client_id",
                "dispute__refund_request__contract__freelancer_id",
            )
        },
    )
)
