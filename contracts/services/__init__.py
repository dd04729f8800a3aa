"""Everything that changes a contract, a milestone or the money in its escrow.

Each entry point is one transaction (``core.actions.service``) that locks what it changes
before it reads its state, takes one of the actions declared on ``Contract.lifecycle`` or
``Milestone.lifecycle`` through ``core.actions.perform`` (which checks the table, the person,
the deadline and the guard, writes the status and the contract's timeline, and records the
notifications), and moves money only through ``contracts.ledger``. An action that is not
allowed raises a named error and changes nothing — except that a passed deadline is applied
first (``core.actions``): a client who releases or ends after the auto-release fell due finds
the work released to the freelancer.
"""

from core.errors import NotTheClient, NotTheFreelancer

from ..models import ContractEnded
from .common import lock_milestone, lock_milestones
from .contracts import HeldMilestone, contract_create, contract_end, milestone_create
from .milestones import (
    milestone_fund,
    milestone_release,
    milestone_submit,
    milestones_auto_release,
    milestones_release,
)
from .settlement import SettledMilestone, Settlement, milestones_settle

__all__ = [
    "ContractEnded",
    "HeldMilestone",
    "NotTheClient",
    "NotTheFreelancer",
    "SettledMilestone",
    "Settlement",
    "contract_create",
    "contract_end",
    "lock_milestone",
    "lock_milestones",
    "milestone_create",
    "milestone_fund",
    "milestone_release",
    "milestone_submit",
    "milestones_auto_release",
    "milestones_release",
    "milestones_settle",
]
