"""The table test: every action a person can take, from every state, as every actor.

Each stateful model declares one table of named actions (``<Model>.lifecycle``). This module
reads those tables as data and holds the services to them: for every person-facing action, from
every state its model reaches through the services, as every kind of person, the entry point a
person goes through (the API, the browser and the admin all call it) refuses exactly what the
table refuses, and changes nothing when it refuses.

The oracle is the table's data, never the checking code: an action is allowed when the row's
state is one of its ``sources`` and the person is one of its ``actors`` (a party of the row's
contract, or a member of a staff group; superusers hold every group), unless the person is
suspended, is staff on a contract they are a party to, or would arbitrate a dispute they
mediated (``conflict_of_interest``), or the action's own ``guard`` refuses the row. Every
person acts before every deadline; the deadlines have their own cases below, and so do a few
guards. A refusal is a ``DomainError``: 403 when the person may not take the action at all, 409
when the state, a deadline or a guard refuses; an input error (400) is a bug of this test.

Each combination runs in a savepoint that is rolled back, so every person meets the same row.
Where a service and its table disagree, the test fails; ``KNOWN`` could list a tolerated
disagreement with what each says, and a test keeps that list empty.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Max
from django.test import override_settings
from django.utils import timezone

from accounts.models import Notification, Role, User
from accounts.services import user_suspend
from arbitration import services as arbitration
from arbitration.models import ArbitrationCase, ArbitrationFee, Award, EvidenceRequest
from contracts import services as contracts
from contracts.models import (
    Account,
    Contract,
    ContractEvent,
    Entry,
    LedgerTransaction,
    Milestone,
    Submission,
)
from core import deadlines
from core.actions import PARTIES, STAFF, Actor, perform
from core.errors import DomainError, InvalidInput
from disputes import services as disputes
from disputes.models import (
    Dispute,
    DisputeMessage,
    Evidence,
    RefundRequest,
    SupportCase,
    TimelineEvent,
)
from mediation import services as mediation
from mediation.models import Resolution
from offers import services as offers
from offers.models import Offer
from tests import kit

pytestmark = pytest.mark.django_db

DS, MS, RS = Dispute.Status, Milestone.Status, RefundRequest.Status

# The models with a table, and the path from a row to its contract (which gives the parties)
# and to its dispute (whose mediation agent may not arbitrate it).
MODELS: dict[type, tuple[str, str | None]] = {
    Contract: ("", None),
    Milestone: ("contract", None),
    RefundRequest: ("contract", None),
    Dispute: ("refund_request.contract", ""),
    SupportCase: ("milestone.contract", None),
    Resolution: ("dispute.refund_request.contract", "dispute"),
    ArbitrationFee: ("dispute.refund_request.contract", "dispute"),
    ArbitrationCase: ("dispute.refund_request.contract", "dispute"),
    EvidenceRequest: ("case.dispute.refund_request.contract", "case.dispute"),
    Offer: ("dispute.refund_request.contract", "dispute"),
}

# Person actions no person takes on their own: ending a contract takes them for its milestones.
TAKEN_INSIDE = {
    (Milestone, "hold"): "Contract.end",
    (Milestone, "cancel"): "Contract.end",
    (Dispute, "settle"): "Offer.accept",
}

SPLIT = {"to_freelancer": "150.00", "to_client": "150.00"}  # of R = 300 in every dispute
SMALL_CLAIMS = {"SMALL_CLAIMS_ENABLED": True, "SMALL_CLAIMS_LIMIT": "1000.00"}


def follow(row, path: str | None):
    for part in filter(None, (path or "").split(".")):
        row = getattr(row, part)
    return row


def reload(row):
    return type(row)._base_manager.get(pk=row.pk)


# --- The world: the parties, the staff, and the clock --------------------------------------------


@dataclass
class World:
    built: datetime  # when the rows of the states are made
    now: datetime  # when the people act: before every deadline of those rows
    users: dict[str, User]

    def __getattr__(self, name: str) -> User:
        try:
            return self.__dict__["users"][name]
        except KeyError:
            raise AttributeError(name) from None

    def contract(self) -> Contract:
        return kit.ContractFactory(client=self.client, freelancer=self.freelancer)

    def dispute(self, stage: str, *, now: datetime | None = None) -> Dispute:
        """A dispute at ``stage``, mediated by ``mediator`` and arbitrated by ``arbitrator``."""
        return kit.dispute_at(
            stage,
            self.contract(),
            agent=self.mediator,
            arbitrator=self.arbitrator,
            now=now or self.built,
        )


@pytest.fixture
def world(db, settings) -> World:
    settings.SMALL_CLAIMS_ENABLED = False
    built = timezone.now().replace(microsecond=0)
    users = {
        "client": kit.UserFactory(username="table-client"),
        "freelancer": kit.UserFactory(username="table-freelancer"),
        "agent": kit.agent("table-agent"),
        "arbitrator": kit.arbitrator("table-arbitrator"),
        "support": kit.support("table-support"),
        # A mediation agent who is an arbitrator too: every dispute here that an agent took was
        # taken by them, so they may not arbitrate it.
        "mediator": kit.grant(kit.agent("table-mediator"), Role.ARBITRATOR),
        "superuser": kit.UserFactory(username="table-root", is_superuser=True, is_staff=True),
        "stranger": kit.UserFactory(username="table-stranger"),
    }
    return World(built=built, now=built + timedelta(minutes=1), users=users)


@dataclass(frozen=True)
class Person:
    """Who acts: one of the world's users, possibly suspended or made staff just before."""

    key: str
    user: str
    suspended: bool = False
    staff_party: bool = False  # a party who is also in every staff group

    @property
    def side(self) -> str | None:
        return self.user if self.user in ("client", "freelancer") else None


PEOPLE = (
    Person("client", "client"),
    Person("freelancer", "freelancer"),
    Person("agent", "agent"),
    Person("arbitrator", "arbitrator"),
    Person("support", "support"),
    Person("mediator", "mediator"),
    Person("superuser", "superuser"),
    Person("stranger", "stranger"),
    Person("suspended-client", "client", suspended=True),
    Person("suspended-freelancer", "freelancer", suspended=True),
    Person("staff-client", "client", staff_party=True),
    Person("staff-freelancer", "freelancer", staff_party=True),
)
PERSON = {p.key: p for p in PEOPLE}


def prepare(world: World, person: Person) -> User:
    """Make ``person`` who they are (inside the caller's savepoint) and return a fresh user."""
    user = world.users[person.user]
    if person.suspended:
        user_suspend(
            user=user, actor=world.support, reason="Ignored every deadline.", now=world.built
        )
    if person.staff_party:
        for role in Role:
            kit.grant(user, role)
    return User.objects.get(pk=user.pk)


# --- The oracle: the table's data ----------------------------------------------------------------

GROUP_ACTORS = {
    Role.MEDIATION_AGENT.value: Actor.AGENT,
    Role.ARBITRATOR.value: Actor.ARBITRATOR,
    Role.SUPPORT.value: Actor.SUPPORT,
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    status: int | None = None  # of the refusal: 403 (who) or 409 (state, deadline, guard)
    code: str | None = None  # of the refusal, where the rules name it
    target: str | None = None  # of the allowed action (None: the status stays)

    def __str__(self) -> str:
        if self.allowed:
            return f"allowed -> {self.target or 'same status'}"
        return f"refused {self.status}" + (f" {self.code}" if self.code else "")


def table_verdict(model: type, name: str, row, user: User, now: datetime) -> Verdict:
    """What ``model``'s table says of ``user`` taking action ``name`` on ``row`` now."""
    action = model.lifecycle[name]
    contract_path, dispute_path = MODELS[model]
    contract = follow(row, contract_path)
    party = {contract.client_id: Actor.CLIENT, contract.freelancer_id: Actor.FREELANCER}.get(
        user.pk
    )
    if user.is_superuser:
        roles = set(STAFF)
    else:
        roles = {
            GROUP_ACTORS[g] for g in user.groups.values_list("name", flat=True) if g in GROUP_ACTORS
        }
    mediated = dispute_path is not None and follow(row, dispute_path).agent_id == user.pk

    if user.suspended_at is not None:
        return Verdict(False, 403, "account_suspended")
    if party in action.actors:
        actor = party
    else:
        held = roles & action.actors
        if not held:
            return Verdict(False, 403)
        if party is not None:
            return Verdict(False, 403, "conflict_of_interest")
        usable = held - ({Actor.ARBITRATOR} if mediated else set())
        if not usable:
            return Verdict(False, 403, "conflict_of_interest")
        actor = min(usable)
    if getattr(row, model.lifecycle.status_field) not in action.sources:
        return Verdict(False, 409)
    if action.guard is not None:
        refusal = action.guard(row, actor=actor, user=user, now=now)
        if refusal is not None:
            return Verdict(False, refusal.status, refusal.code)
    return Verdict(True, target=action.target)


def either(verdicts: list[Verdict]) -> Verdict:
    """An entry point that takes whichever of several actions fits: allowed if one allows it;
    refused 403 only if none of them is the person's to take."""
    for verdict in verdicts:
        if verdict.allowed:
            return verdict
    if all(v.status == 403 for v in verdicts):
        codes = {v.code for v in verdicts}
        return Verdict(False, 403, codes.pop() if len(codes) == 1 else None)
    return next(v for v in verdicts if v.status != 403)


# --- The entry points ---------------------------------------------------------------------------


def pdf():
    return kit.pdf("evidence.pdf")


def draft_of(request: RefundRequest) -> Dispute:
    return Dispute.objects.get(refund_request=request)


@dataclass(frozen=True)
class Spec:
    """One person-facing action of a table and the service a person takes it through."""

    model: type
    action: str
    call: Callable[[World, Any, User], Any]
    # More actions of the same table the entry point takes instead, by the row's stage.
    instead: tuple[str, ...] = ()
    # Which of a state's rows a person meets (e.g. the resolution the other party accepted).
    variant: Callable[[Person], str] = lambda person: ""
    settings: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.model.__name__}.{self.action}"


def by_side(default: str) -> Callable[[Person], str]:
    return lambda person: person.side or default


SPECS = (
    Spec(
        Contract,
        "add_milestone",
        lambda w, row, user: contracts.milestone_create(
            contract=row, actor=user, title="Extra pages", amount="100.00", now=w.now
        ),
    ),
    Spec(
        Contract,
        "end",
        lambda w, row, user: disputes.contract_end(
            contract=row, actor=user, payments={}, now=w.now
        ),
    ),
    Spec(
        Milestone,
        "fund",
        lambda w, row, user: contracts.milestone_fund(milestone=row, actor=user, now=w.now),
    ),
    Spec(
        Milestone,
        "submit",
        lambda w, row, user: contracts.milestone_submit(
            milestone=row, actor=user, message="All five pages.", now=w.now
        ),
    ),
    Spec(
        Milestone,
        "release",
        lambda w, row, user: contracts.milestone_release(
            milestone=row, actor=user, amount=None, now=w.now
        ),
    ),
    Spec(
        Milestone,
        "release_part",
        lambda w, row, user: contracts.milestone_release(
            milestone=row, actor=user, amount="1.00", now=w.now
        ),
    ),
    Spec(
        Milestone,
        "open_support_case",
        lambda w, row, user: disputes.support_case_open(
            milestone=row, actor=user, description="Delivered; the client is silent.", now=w.now
        ),
    ),
    Spec(
        RefundRequest,
        "accept",
        lambda w, row, user: disputes.refund_request_accept(
            refund_request=row, actor=user, now=w.now
        ),
    ),
    Spec(
        RefundRequest,
        "start_dispute",
        lambda w, row, user: disputes.dispute_start(
            refund_request=row,
            actor=user,
            feedback_rating=3,
            feedback_comment="Slow to answer.",
            reason="QUALITY",
            description="Three of five pages were accepted.",
            amount="100.00",
            now=w.now,
        ),
    ),
    Spec(
        RefundRequest,
        "dispute",
        lambda w, row, user: disputes.dispute_submit(dispute=draft_of(row), actor=user, now=w.now),
    ),
    Spec(
        Dispute,
        "update",
        lambda w, row, user: disputes.dispute_update(
            dispute=row, actor=user, changes={"description": "Five pages, on time."}, now=w.now
        ),
    ),
    Spec(
        Dispute,
        "submit",
        lambda w, row, user: disputes.dispute_submit(dispute=row, actor=user, now=w.now),
    ),
    Spec(
        Dispute,
        "add_evidence",
        lambda w, row, user: disputes.evidence_add(dispute=row, actor=user, file=pdf(), now=w.now),
        # The freelancer's files of a draft are part of the filing (``update``); in a case a
        # party adds what an arbitrator asked for (``add_requested_evidence``, then
        # ``EvidenceRequest.answer``, tested below).
        instead=("update", "add_requested_evidence"),
    ),
    Spec(
        Dispute,
        "add_requested_evidence",
        lambda w, row, user: disputes.evidence_add(dispute=row, actor=user, file=pdf(), now=w.now),
        # In a case: the party the arbitrator asked (the freelancer, in these cases).
        instead=("update", "add_evidence"),
    ),
    Spec(
        Dispute,
        "accept",
        lambda w, row, user: disputes.dispute_accept(dispute=row, actor=user, now=w.now),
    ),
    Spec(
        Dispute,
        "decline",
        lambda w, row, user: disputes.dispute_decline(
            dispute=row, actor=user, reason="Two pages are missing.", now=w.now
        ),
    ),
    Spec(
        Dispute,
        "note",
        lambda w, row, user: disputes.dispute_note_add(
            dispute=row, author=user, text="Called the client.", now=w.now
        ),
    ),
    Spec(
        Dispute,
        "message",
        lambda w, row, user: disputes.dispute_message_post(
            dispute=row, author=user, text="Which part was missing?", now=w.now
        ),
    ),
    Spec(
        Dispute,
        "extend",
        lambda w, row, user: disputes.dispute_extend(
            dispute=row,
            actor=user,
            due_at=w.now + timedelta(days=60),
            reason="The freelancer is in hospital.",
            now=w.now,
        ),
    ),
    Spec(
        Dispute,
        "assign_agent",
        lambda w, row, user: disputes.dispute_assign(
            dispute=row, staff=user, role="agent", now=w.now
        ),
    ),
    Spec(
        Dispute,
        "reassign_agent",
        lambda w, row, user: disputes.dispute_reassign(
            dispute=row, actor=user, role="agent", to=kit.agent(), reason="Away.", now=w.now
        ),
    ),
    Spec(
        Dispute,
        "propose",
        lambda w, row, user: mediation.resolution_propose(
            dispute=row, agent=user, rationale="Half each.", now=w.now, **SPLIT
        ),
    ),
    Spec(
        Dispute,
        "decide_small_claim",
        lambda w, row, user: mediation.resolution_propose(
            dispute=row, agent=user, rationale="Half each.", now=w.now, **SPLIT
        ),
        settings=SMALL_CLAIMS,
    ),
    Spec(
        Dispute,
        "answer_resolution",
        lambda w, row, user: mediation.resolution_answer(
            dispute=row, actor=user, accept=True, now=w.now
        ),
    ),
    Spec(
        Dispute,
        "pay_fee",
        lambda w, row, user: arbitration.arbitration_fee_pay(dispute=row, actor=user, now=w.now),
    ),
    Spec(
        Dispute,
        "assign_arbitrator",
        lambda w, row, user: disputes.dispute_assign(
            dispute=row, staff=user, role="arbitrator", now=w.now
        ),
    ),
    Spec(
        Dispute,
        "reassign_arbitrator",
        lambda w, row, user: disputes.dispute_reassign(
            dispute=row,
            actor=user,
            role="arbitrator",
            to=kit.arbitrator(),
            reason="Ill.",
            now=w.now,
        ),
    ),
    Spec(
        Dispute,
        "request_evidence",
        lambda w, row, user: arbitration.evidence_request_create(
            dispute=row,
            arbitrator=user,
            party="freelancer",
            message="Send the delivery e-mails.",
            due_at=w.now + timedelta(days=3),
            now=w.now,
        ),
    ),
    Spec(
        Dispute,
        "award",
        lambda w, row, user: arbitration.award_issue(
            dispute=row, arbitrator=user, reasons="Half of it was delivered.", now=w.now, **SPLIT
        ),
    ),
    Spec(
        Resolution,
        "accept",
        lambda w, row, user: mediation.resolution_answer(
            dispute=row.dispute, actor=user, accept=True, now=w.now
        ),
    ),
    Spec(
        Resolution,
        "accept_last",
        lambda w, row, user: mediation.resolution_answer(
            dispute=row.dispute, actor=user, accept=True, now=w.now
        ),
        # A party answers last on a resolution the other party accepted already.
        variant=by_side("client"),
    ),
    Spec(
        Resolution,
        "reject",
        lambda w, row, user: mediation.resolution_answer(
            dispute=row.dispute, actor=user, accept=False, now=w.now
        ),
    ),
    Spec(
        ArbitrationCase,
        "award",
        lambda w, row, user: arbitration.award_issue(
            dispute=row.dispute,
            arbitrator=user,
            reasons="Half of it was delivered.",
            now=w.now,
            **SPLIT,
        ),
    ),
    Spec(
        EvidenceRequest,
        "answer",
        lambda w, row, user: disputes.evidence_add(
            dispute=row.case.dispute, actor=user, file=pdf(), now=w.now
        ),
        # A party answers the request made to them.
        variant=by_side("freelancer"),
    ),
    Spec(
        SupportCase,
        "close",
        lambda w, row, user: disputes.support_case_close(
            case=row, actor=user, note="The client paid.", now=w.now
        ),
    ),
    Spec(
        Dispute,
        "offer",
        lambda w, row, user: offers.offer_make(
            dispute=row, actor=user, message="Let us settle.", now=w.now, **SPLIT
        ),
    ),
    # A party answers the other party's offer, and withdraws its own (see ``_offers``).
    Spec(
        Offer,
        "accept",
        lambda w, row, user: offers.offer_accept(offer=row, actor=user, now=w.now),
        variant=by_side("client"),
    ),
    Spec(
        Offer,
        "decline",
        lambda w, row, user: offers.offer_decline(offer=row, actor=user, now=w.now),
        variant=by_side("client"),
    ),
    Spec(
        Offer,
        "withdraw",
        lambda w, row, user: offers.offer_withdraw(offer=row, actor=user, now=w.now),
        variant=by_side("client"),
    ),
)
SPEC = {(s.model, s.action): s for s in SPECS}


# --- The states: every state each model reaches through the services ---------------------------


def _milestone_released(w: World, action: str) -> Milestone:
    milestone = kit.submitted(w.contract(), now=w.built)
    contracts.milestone_release(milestone=milestone, actor=w.client, now=w.built)
    return milestone


def _milestone_cancelled(w: World, action: str) -> Milestone:
    contract = w.contract()
    milestone = contracts.milestone_create(
        contract=contract, actor=w.client, title="Never funded", amount="100.00", now=w.built
    )
    disputes.contract_end(contract=contract, actor=w.client, payments={}, now=w.built)
    return milestone


def _request(w: World, action: str, *, then: str = "", now: datetime | None = None):
    """A refund request; for ``dispute`` with the draft it would submit."""
    now = now or w.built
    request = kit.refund_request(w.contract(), now=now)
    if action == "dispute":
        kit.draft(request, now=now)
    if then == "accepted":
        disputes.refund_request_accept(refund_request=request, actor=w.freelancer, now=now)
    return request


def _request_expired(w: World, action: str) -> RefundRequest:
    past = w.built - django_settings.REFUND_REQUEST_RESPONSE_PERIOD - timedelta(hours=1)
    request = _request(w, action, now=past)
    deadlines.sweep("disputes.refund_requests_expire", now=w.built)
    return request


def _in_arbitration(w: World, action: str) -> Dispute:
    dispute = w.dispute("case")
    if action in ("extend", "add_requested_evidence"):
        # The party deadline an agent extends in a case is an open evidence request's; and a
        # party adds evidence in a case when the arbitrator asked it (the freelancer here).
        kit.evidence_request(dispute, w.arbitrator, now=w.built)
    return dispute


def _resolution(w: World, answers: tuple[str, ...] = ()) -> Resolution:
    dispute = w.dispute("proposed")
    for party in answers:
        mediation.resolution_answer(dispute=dispute, actor=w.users[party], accept=True, now=w.built)
    return Resolution.objects.get(dispute=dispute)


def _resolution_proposed(w: World, action: str):
    if action == "accept_last":
        return {
            "client": _resolution(w, ("freelancer",)),
            "freelancer": _resolution(w, ("client",)),
        }
    return _resolution(w)


def _resolution_expired(w: World, action: str) -> Resolution:
    past = w.built - django_settings.RESOLUTION_RESPONSE_PERIOD - timedelta(hours=1)
    dispute = w.dispute("proposed", now=past)
    deadlines.sweep("mediation.resolutions_expire", now=w.built)
    return Resolution.objects.get(dispute=dispute)


def _resolution_binding(w: World, action: str) -> Resolution:
    dispute = w.dispute("declined")
    with override_settings(**SMALL_CLAIMS):
        return mediation.resolution_propose(
            dispute=dispute, agent=w.mediator, rationale="Half each.", now=w.built, **SPLIT
        )


def _fee(w: World, *, past: bool = False) -> ArbitrationFee:
    at = w.built - django_settings.ARBITRATION_WINDOW_PERIOD - timedelta(hours=1) if past else None
    dispute = w.dispute("window", now=at)
    fee = arbitration.arbitration_fee_pay(dispute=dispute, actor=w.freelancer, now=at or w.built)
    if past:  # only the freelancer paid: the window's end gives back its fee
        deadlines.sweep("arbitration.windows_close", now=w.built)
    return fee


def _evidence_request(w: World, party: str) -> EvidenceRequest:
    return kit.evidence_request(w.dispute("case"), w.arbitrator, party=party, now=w.built)


def _evidence_request_closed(w: World, action: str) -> EvidenceRequest:
    past = w.built - timedelta(days=3)
    request = kit.evidence_request(
        w.dispute("case", now=past), w.arbitrator, due_at=past + timedelta(days=1), now=past
    )
    deadlines.sweep("arbitration.evidence_requests_close", now=w.built)
    return request


def _support_case(w: World, *, closed: bool = False) -> SupportCase:
    case = kit.support_case(kit.funded(w.contract(), now=w.built), now=w.built)
    if closed:
        disputes.support_case_close(case=case, actor=w.support, note="Settled.", now=w.built)
    return case


def _offers(w: World, action: str, *, then: str = "") -> dict[str, Offer]:
    """A dispute awaiting the client with an open offer from each party; by the side of who
    acts, the other party's (to accept or decline) or their own (to withdraw). ``then``: the
    client accepts, declines or withdraws, or both offers lapse."""
    built = w.built - django_settings.OFFER_RESPONSE_PERIOD if then == "lapsed" else w.built
    dispute = w.dispute("filed", now=built)
    made = {
        side: offers.offer_make(dispute=dispute, actor=w.users[side], now=built, **SPLIT)
        for side in ("freelancer", "client")
    }
    if then == "lapsed":
        deadlines.sweep("offers.offers_lapse", now=w.built)
    elif then == "accepted":
        offers.offer_accept(offer=made["freelancer"], actor=w.client, now=w.built)
    elif then == "declined":
        offers.offer_decline(offer=made["freelancer"], actor=w.client, now=w.built)
    elif then == "withdrawn":
        offers.offer_withdraw(offer=made["client"], actor=w.client, now=w.built)
        return {"": made["client"]}
    if then in ("accepted", "declined"):
        return {"": made["freelancer"]}
    if action == "withdraw":
        return made
    return {"client": made["freelancer"], "freelancer": made["client"]}


def _settled(w: World, stage: str) -> Dispute:
    """A dispute at ``stage`` the parties settled: the client accepted the freelancer's offer."""
    dispute = w.dispute(stage)
    offer = offers.offer_make(dispute=dispute, actor=w.freelancer, now=w.built, **SPLIT)
    offers.offer_accept(offer=offer, actor=w.client, now=w.built)
    return dispute


# model -> state -> build(world, action) -> a row, or the rows by variant
STATES: dict[type, dict[str, Callable[[World, str], Any]]] = {
    Contract: {
        Contract.Status.ACTIVE: lambda w, a: kit.funded(w.contract(), now=w.built).contract,
        Contract.Status.ENDED: lambda w, a: kit.refund_request(w.contract(), now=w.built).contract,
    },
    Milestone: {
        MS.PENDING: lambda w, a: contracts.milestone_create(
            contract=w.contract(), actor=w.client, title="Pages", amount="500.00", now=w.built
        ),
        MS.FUNDED: lambda w, a: kit.funded(w.contract(), now=w.built),
        MS.SUBMITTED: lambda w, a: kit.submitted(w.contract(), now=w.built),
        MS.RELEASED: _milestone_released,
        MS.HELD: lambda w, a: kit.refund_request(w.contract(), now=w.built).milestone,
        MS.REFUNDED: lambda w, a: _request(w, a, then="accepted").milestone,
        MS.SETTLED: lambda w, a: w.dispute("accepted").milestone,
        MS.CANCELLED: _milestone_cancelled,
    },
    RefundRequest: {
        RS.OPEN: _request,
        RS.ACCEPTED: lambda w, a: _request(w, a, then="accepted"),
        RS.EXPIRED: _request_expired,
        RS.DISPUTED: lambda w, a: w.dispute("filed").refund_request,
    },
    Dispute: {
        DS.DRAFT: lambda w, a: w.dispute("draft"),
        DS.AWAITING_CLIENT: lambda w, a: w.dispute("filed"),
        DS.IN_MEDIATION: lambda w, a: w.dispute("declined"),
        DS.RESOLUTION_PROPOSED: lambda w, a: w.dispute("proposed"),
        DS.ARBITRATION_WINDOW: lambda w, a: w.dispute("window"),
        DS.IN_ARBITRATION: _in_arbitration,
        DS.CLOSED: lambda w, a: w.dispute("accepted"),
        DS.LAPSED: lambda w, a: w.dispute("lapsed"),
    },
    Resolution: {
        Resolution.Status.PROPOSED: _resolution_proposed,
        Resolution.Status.ACCEPTED: lambda w, a: _resolution(w, ("freelancer", "client")),
        Resolution.Status.REJECTED: lambda w, a: Resolution.objects.get(
            dispute=w.dispute("window")
        ),
        Resolution.Status.EXPIRED: _resolution_expired,
        Resolution.Status.BINDING: _resolution_binding,
        Resolution.Status.SUPERSEDED: lambda w, a: Resolution.objects.get(
            dispute=_settled(w, "proposed")
        ),
    },
    ArbitrationFee: {
        ArbitrationFee.Status.PAID: lambda w, a: _fee(w),
        ArbitrationFee.Status.REFUNDED: lambda w, a: _fee(w, past=True),
    },
    ArbitrationCase: {
        ArbitrationCase.Status.OPEN: lambda w, a: w.dispute("case").arbitration_case,
        ArbitrationCase.Status.AWARDED: lambda w, a: w.dispute("awarded").arbitration_case,
        ArbitrationCase.Status.SETTLED: lambda w, a: ArbitrationCase.objects.get(
            dispute=_settled(w, "case")
        ),
    },
    EvidenceRequest: {
        EvidenceRequest.Status.OPEN: lambda w, a: {
            "client": _evidence_request(w, "client"),
            "freelancer": _evidence_request(w, "freelancer"),
        },
        EvidenceRequest.Status.CLOSED: _evidence_request_closed,
    },
    SupportCase: {
        SupportCase.Status.OPEN: lambda w, a: _support_case(w),
        SupportCase.Status.CLOSED: lambda w, a: _support_case(w, closed=True),
    },
    Offer: {
        Offer.Status.OPEN: _offers,
        Offer.Status.ACCEPTED: lambda w, a: _offers(w, a, then="accepted"),
        Offer.Status.DECLINED: lambda w, a: _offers(w, a, then="declined"),
        Offer.Status.WITHDRAWN: lambda w, a: _offers(w, a, then="withdrawn"),
        Offer.Status.LAPSED: lambda w, a: _offers(w, a, then="lapsed"),
    },
}


def build(world: World, model: type, state: str, action: str) -> dict[str, Any]:
    """The rows of ``model`` in ``state`` by variant ("" for the one row), checked to be there."""
    made = STATES[model][state](world, action)
    rows = made if isinstance(made, dict) else {"": made}
    for row in rows.values():
        assert reload(row).status == state, f"the {model.__name__} builder of {state} is wrong"
    return rows


def row_for(rows: dict[str, Any], spec: Spec, person: Person):
    return rows.get(spec.variant(person)) or next(iter(rows.values()))


# --- One attempt ---------------------------------------------------------------------------------

WATCHED = (
    Contract,
    Milestone,
    Account,
    RefundRequest,
    Dispute,
    Resolution,
    ArbitrationFee,
    ArbitrationCase,
    EvidenceRequest,
    SupportCase,
    Offer,
)
COUNTED = (
    LedgerTransaction,
    Entry,
    TimelineEvent,
    ContractEvent,
    Notification,
    Evidence,
    DisputeMessage,
    Submission,
    Award,
)


def snapshot() -> dict[str, Any]:
    """Every column of every stateful row, and how many rows each append-only table has.

    Read with plain SQL: it runs twice per combination.
    """
    quote = connection.ops.quote_name
    state: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for model in WATCHED:
            table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
            cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")
            state[model.__name__] = cursor.fetchall()
        counts = ", ".join(f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in COUNTED)
        cursor.execute(f"SELECT {counts}")
        state.update(zip((m.__name__ for m in COUNTED), cursor.fetchone(), strict=True))
    return state


def changes(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


@dataclass
class Outcome:
    expected: Verdict
    error: DomainError | None
    status_before: str
    status_after: str
    changed: list[str]

    def disagreement(self) -> str | None:
        """What the service did that its table does not say, or None."""
        expected, error = self.expected, self.error
        got = f"refused {error.status} {error.code}: {error.message}" if error else "allowed"
        if expected.allowed:
            if error is not None:
                return f"table: {expected}; service: {got}"
            want = expected.target or self.status_before
            if self.status_after != want:
                return f"table: {expected}; service: allowed -> {self.status_after}"
            return None
        if error is None:
            return f"table: {expected}; service: allowed -> {self.status_after}"
        if self.changed:
            return f"table: {expected}; service: {got}, yet changed {self.changed}"
        if error.status != expected.status or (expected.code and error.code != expected.code):
            return f"table: {expected}; service: {got}"
        return None


def attempt(world: World, spec: Spec, row, person: Person) -> Outcome:
    """``person`` takes ``spec``'s action on ``row`` through its service; all is rolled back."""
    savepoint = transaction.savepoint()
    try:
        user = prepare(world, person)
        row = reload(row)
        expected = either(
            [
                table_verdict(spec.model, name, row, user, world.now)
                for name in (spec.action, *spec.instead)
            ]
        )
        before = snapshot()
        error = None
        try:
            spec.call(world, row, user)
        except InvalidInput as exc:
            raise AssertionError(
                f"{spec.id} from {row.status} as {person.key} (table: {expected}): an input error "
                f"is no verdict; fix the test's input ({exc.code}: {exc.message} {exc.fields})"
            ) from exc
        except DomainError as exc:
            error = exc
        after = snapshot()
        return Outcome(expected, error, row.status, reload(row).status, changes(before, after))
    finally:
        transaction.savepoint_rollback(savepoint)


# --- Where a service and its table disagree -------------------------------------------------------

# (model, action, state, person) -> what the table says and what the service does.
KNOWN: dict[tuple[type, str, str, str], str] = {}


def known_for(spec: Spec) -> dict[tuple[str, str], str]:
    return {
        (state, person): why
        for (model, action, state, person), why in KNOWN.items()
        if (model, action) == (spec.model, spec.action)
    }


# --- The table test ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_the_service_refuses_exactly_what_the_table_refuses(world, settings, spec):
    action = spec.model.lifecycle[spec.action]
    states = {state: build(world, spec.model, state, spec.action) for state in STATES[spec.model]}
    for name, value in spec.settings.items():
        setattr(settings, name, value)

    found: dict[tuple[str, str], str] = {}
    allowed_from: set[str] = set()
    for state, rows in states.items():
        for person in PEOPLE:
            outcome = attempt(world, spec, row_for(rows, spec, person), person)
            if outcome.expected.allowed:
                allowed_from.add(state)
            problem = outcome.disagreement()
            if problem:
                found[(state, person.key)] = problem

    expected = known_for(spec)
    report = "\n".join(
        f"  {spec.id} from {state} as {person}: {found[(state, person)]}"
        for state, person in sorted(found.keys() - expected.keys())
    )
    assert not found.keys() - expected.keys(), f"the service and the table disagree:\n{report}"
    assert not expected.keys() - found.keys(), (
        f"these listed disagreements are gone; take them out of KNOWN: "
        f"{sorted(expected.keys() - found.keys())}"
    )
    # The setups let the action through somewhere from each state it leaves from (its guard
    # passes there), so the refusals above are the table's.
    assert set(action.sources) <= allowed_from, sorted(set(action.sources) - allowed_from)
    # A person's action is never the system's to take.
    some = reload(next(iter(states[min(action.sources)].values())))
    with pytest.raises(RuntimeError):
        spec.model.lifecycle.check(spec.action, some, user=None, now=world.now)


def test_no_service_is_allowed_to_disagree_with_its_table():
    """``KNOWN`` lists tolerated disagreements; there are none, and new ones fail above."""
    assert KNOWN == {}


def test_an_agent_may_not_extend_a_case_with_no_evidence_request_as_the_table_says(world):
    dispute = world.dispute("case")  # no evidence request open: no party deadline runs
    outcome = attempt(world, SPEC[(Dispute, "extend")], dispute, PERSON["agent"])
    assert outcome.disagreement() is None, outcome.disagreement()
    assert outcome.error is not None and outcome.error.code == "no_deadline"


def test_every_person_action_of_every_table_is_tested():
    """A new action in a table, or a new state, fails here until this module covers it."""
    assert set(MODELS) == set(STATES)
    for model in MODELS:
        assert set(STATES[model]) == set(model.Status.values), model
        for action in model.lifecycle:
            # The oracle knows the parties, the staff groups and the system.
            assert action.actors, (model, action.name)
            assert action.actors <= {*PARTIES, *STAFF, Actor.SYSTEM}, (model, action.name)
            assert not (action.by_system and action.by_people), (
                f"{model.__name__}.{action.name} mixes the system and people"
            )
            if action.by_people:
                assert (model, action.name) in SPEC or (model, action.name) in TAKEN_INSIDE, (
                    f"{model.__name__}.{action.name} has no entry point in this test"
                )


# --- Guards --------------------------------------------------------------------------------------


def refused(call: Callable[[], Any], status: int, code: str) -> DomainError:
    """Assert ``call`` is refused with ``status`` and ``code`` and changes nothing."""
    before = snapshot()
    with pytest.raises(DomainError) as caught:
        call()
    assert not isinstance(caught.value, InvalidInput), caught.value.fields
    assert (caught.value.status, caught.value.code) == (status, code), caught.value.message
    assert changes(before, snapshot()) == []
    return caught.value


def test_paying_the_fee_twice_is_refused(world):
    dispute = world.dispute("window")
    arbitration.arbitration_fee_pay(dispute=dispute, actor=world.freelancer, now=world.now)
    refused(
        lambda: arbitration.arbitration_fee_pay(
            dispute=dispute, actor=world.freelancer, now=world.now
        ),
        409,
        "fee_already_paid",
    )


@pytest.mark.parametrize("again", [True, False], ids=["accept-again", "reject-after-accepting"])
def test_answering_a_resolution_twice_is_refused(world, again):
    dispute = world.dispute("proposed")
    mediation.resolution_answer(dispute=dispute, actor=world.client, accept=True, now=world.now)
    refused(
        lambda: mediation.resolution_answer(
            dispute=dispute, actor=world.client, accept=again, now=world.now
        ),
        409,
        "already_answered",
    )


def test_a_second_dispute_on_one_refund_request_is_refused(world):
    request = kit.refund_request(world.contract(), now=world.built)
    kit.draft(request, now=world.built)
    refused(
        lambda: SPEC[(RefundRequest, "start_dispute")].call(
            world, reload(request), world.freelancer
        ),
        409,
        "dispute_exists",
    )


def test_evidence_only_from_the_party_the_arbitrator_asked(world):
    request = _evidence_request(world, "client")
    refused(
        lambda: disputes.evidence_add(
            dispute=request.case.dispute, actor=world.freelancer, file=pdf(), now=world.now
        ),
        409,
        "filing_locked",
    )


def test_the_freelancer_adds_no_evidence_once_the_filing_is_submitted(world):
    dispute = world.dispute("filed")
    refused(
        lambda: disputes.evidence_add(
            dispute=dispute, actor=world.freelancer, file=pdf(), now=world.now
        ),
        409,
        "filing_locked",
    )


# --- Deadlines: a person's late action is refused, and the deadline's outcome stands -------------


@dataclass(frozen=True)
class Late:
    model: type
    action: str
    state: str
    person: str
    due: str  # the path from the row to the deadline's due time
    outcome: tuple[tuple[str, str], ...]  # (path from the row, status) after the refusal

    @property
    def id(self) -> str:
        return f"{self.model.__name__}.{self.action}-{self.state}"


# What a deadline writes, and the column naming who acted (None: the system).
EVENTS = {TimelineEvent: "actor", ContractEvent: "actor", LedgerTransaction: "created_by"}

LATE = (
    Late(Milestone, "release", MS.SUBMITTED, "client", "auto_release_due_at", (("", MS.RELEASED),)),
    Late(
        Milestone,
        "release_part",
        MS.SUBMITTED,
        "client",
        "auto_release_due_at",
        (("", MS.RELEASED),),
    ),
    Late(RefundRequest, "accept", RS.OPEN, "freelancer", "response_due_at", (("", RS.EXPIRED),)),
    Late(
        RefundRequest,
        "start_dispute",
        RS.OPEN,
        "freelancer",
        "response_due_at",
        (("", RS.EXPIRED),),
    ),
    Late(
        RefundRequest,
        "dispute",
        RS.OPEN,
        "freelancer",
        "response_due_at",
        (("", RS.EXPIRED), ("dispute", DS.LAPSED)),
    ),
    Late(
        Dispute,
        "update",
        DS.DRAFT,
        "freelancer",
        "refund_request.response_due_at",
        (("", DS.LAPSED), ("refund_request", RS.EXPIRED)),
    ),
    Late(
        Dispute,
        "submit",
        DS.DRAFT,
        "freelancer",
        "refund_request.response_due_at",
        (("", DS.LAPSED), ("refund_request", RS.EXPIRED)),
    ),
    Late(
        Dispute,
        "add_evidence",
        DS.AWAITING_CLIENT,
        "client",
        "response_due_at",
        (("", DS.CLOSED), ("milestone", MS.SETTLED)),
    ),
    Late(Dispute, "accept", DS.AWAITING_CLIENT, "client", "response_due_at", (("", DS.CLOSED),)),
    Late(Dispute, "decline", DS.AWAITING_CLIENT, "client", "response_due_at", (("", DS.CLOSED),)),
    Late(Dispute, "extend", DS.AWAITING_CLIENT, "agent", "response_due_at", (("", DS.CLOSED),)),
    Late(
        Dispute,
        "answer_resolution",
        DS.RESOLUTION_PROPOSED,
        "freelancer",
        "response_due_at",
        (("", DS.ARBITRATION_WINDOW),),
    ),
    Late(
        Dispute, "pay_fee", DS.ARBITRATION_WINDOW, "client", "response_due_at", (("", DS.CLOSED),)
    ),
    Late(
        Resolution,
        "accept",
        Resolution.Status.PROPOSED,
        "client",
        "dispute.response_due_at",
        (("", Resolution.Status.EXPIRED), ("dispute", DS.ARBITRATION_WINDOW)),
    ),
    Late(
        Resolution,
        "reject",
        Resolution.Status.PROPOSED,
        "freelancer",
        "dispute.response_due_at",
        (("", Resolution.Status.EXPIRED), ("dispute", DS.ARBITRATION_WINDOW)),
    ),
    Late(
        EvidenceRequest,
        "answer",
        EvidenceRequest.Status.OPEN,
        "freelancer",
        "due_at",
        (("", EvidenceRequest.Status.CLOSED),),
    ),
)


@pytest.mark.parametrize("late", LATE, ids=[late.id for late in LATE])
def test_a_late_action_is_refused_and_the_deadline_decides(world, late):
    spec = SPEC[(late.model, late.action)]
    person = PERSON[late.person]
    row = row_for(build(world, late.model, late.state, late.action), spec, person)
    due = follow(row, late.due)
    assert due is not None
    late_world = World(built=world.built, now=due + timedelta(seconds=1), users=world.users)
    # On time, the table lets this person through.
    assert table_verdict(late.model, late.action, row, world.users[person.user], world.now).allowed

    events = {m: m.objects.aggregate(last=Max("pk"))["last"] or 0 for m in EVENTS}

    with pytest.raises(DomainError) as caught:
        spec.call(late_world, reload(row), world.users[person.user])

    assert (caught.value.status, caught.value.code) == (409, "deadline_passed"), caught.value
    row = reload(row)
    for path, status in late.outcome:
        assert follow(row, path).status == status, (path or late.model.__name__, status)
    # What happened is the deadline's doing, the system's: nothing the person asked for.
    written = {model: model.objects.filter(pk__gt=events[model]) for model in EVENTS}
    assert any(rows.exists() for rows in written.values())
    for model, rows in written.items():
        assert not rows.filter(**{f"{EVENTS[model]}__isnull": False}).exists(), model.__name__


def test_ending_after_the_auto_release_releases_the_submitted_work(world):
    """``hold`` comes before the auto-release: past it, ending finds the work released."""
    milestone = kit.submitted(world.contract(), now=world.built)
    later = milestone.auto_release_due_at + timedelta(seconds=1)

    disputes.contract_end(contract=milestone.contract, actor=world.client, payments={}, now=later)

    assert reload(milestone).status == MS.RELEASED
    assert reload(milestone.contract).status == Contract.Status.ENDED
    assert not RefundRequest.objects.filter(milestone=milestone).exists()


def test_ending_a_contract_holds_and_cancels_its_milestones_as_the_table_says(world):
    """``hold`` and ``cancel`` are taken inside ``Contract.end`` (tested above as a whole)."""
    contract = world.contract()
    pending = contracts.milestone_create(
        contract=contract, actor=world.client, title="Later", amount="100.00", now=world.built
    )
    funded = kit.funded(contract, now=world.built)
    submitted = kit.submitted(contract, now=world.built)
    released = kit.submitted(contract, now=world.built)
    contracts.milestone_release(milestone=released, actor=world.client, now=world.built)
    before = {m.pk: reload(m).status for m in (pending, funded, submitted, released)}

    disputes.contract_end(contract=contract, actor=world.client, payments={}, now=world.now)

    hold, cancel = Milestone.lifecycle["hold"], Milestone.lifecycle["cancel"]
    for pk, status in before.items():
        if status in hold.sources:
            expected = hold.target
        elif status in cancel.sources:
            expected = cancel.target
        else:
            expected = status
        assert Milestone.objects.get(pk=pk).status == expected, status


# --- The system's actions: no person takes them --------------------------------------------------

SYSTEM_ACTIONS = [
    (model, action.name)
    for model in MODELS
    for action in model.lifecycle
    if action.actors == {Actor.SYSTEM}
]


@pytest.mark.parametrize(
    "model,name", SYSTEM_ACTIONS, ids=[f"{m.__name__}.{n}" for m, n in SYSTEM_ACTIONS]
)
def test_no_person_takes_a_system_action(world, model, name):
    lifecycle = model.lifecycle
    action = lifecycle[name]
    state = min(action.sources)
    row = next(iter(build(world, model, state, name).values()))
    # The system may, from this state.
    assert lifecycle.check(name, reload(row), user=None, now=world.now) == Actor.SYSTEM

    for person in PEOPLE:
        savepoint = transaction.savepoint()
        try:
            user = prepare(world, person)
            before = snapshot()
            for take in (lifecycle.check, functools.partial(perform, lifecycle)):
                with pytest.raises((RuntimeError, DomainError)) as caught:
                    take(name, reload(row), user=user, now=world.now)
                if isinstance(caught.value, DomainError):
                    assert caught.value.status == 403, (person.key, caught.value.message)
            assert changes(before, snapshot()) == [], person.key
        finally:
            transaction.savepoint_rollback(savepoint)
