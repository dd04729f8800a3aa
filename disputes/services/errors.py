"""The named refusals of refund requests and disputes.

The refusals of the declared actions (wrong person, wrong state, a passed deadline) are raised
by ``core.actions`` from the tables in ``disputes.models``; these are the ones those tables and
the services name. Nothing has changed when one is raised.
"""

from core.errors import NotTheClient, NotTheFreelancer

from ..models import DisputeAlreadyStarted, FilingLocked

__all__ = ["DisputeAlreadyStarted", "FilingLocked", "NotTheClient", "NotTheFreelancer"]
