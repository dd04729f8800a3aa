"""What happens next, in words: every sentence that tells a person where the money will go.

No page writes such a sentence itself. It asks this module, which reads the current state (the
stage, who has paid the arbitration fee, who the reader is) and words the rule of DESIGN §3 that
applies from there for that reader: "you" for the reader's own side, the other party by name, and
"the freelancer" / "the client" for staff. A sentence can only go wrong here, and a test per state
says it does not.

Moments are named in the current time zone (the reader's, set by the middleware), like the rest
of the page. Arbitration is a later app: its panel passes in who has paid, so this module never
imports it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from core.formats import local_when
from core.money import money

from .models import Dispute, RefundRequest

DStatus = Dispute.Status
PARTIES = ("freelancer", "client")


def _other(party: str) -> str:
    return "client" if party == "freelancer" else "freelancer"


def _start(words: str) -> str:
    """``words`` at the start of a sentence: "You …", "The client …"; a username as it is."""
    if words.startswith(("you", "the ")):
        return words[0].upper() + words[1:]
    return words


@dataclass(frozen=True)
class Advice:
    """The sentences a reader sees about what comes next, each empty where nothing applies.

    ``summary`` heads the stage's panel; ``on_act`` says what the reader's own action there does
    (accepting the dispute or the resolution, paying the fee), ``on_reject`` what rejecting does;
    ``outcomes`` lists what each way the deadline can still go gives, from where things stand.
    """

    summary: str = ""
    on_act: str = ""
    on_reject: str = ""
    outcomes: tuple[str, ...] = field(default_factory=tuple)


class _Reader:
    """How a sentence names each party for one reader."""

    def __init__(self, contract, role: str | None):
        self.contract = contract
        self.role = role if role in PARTIES else None

    def name(self, party: str) -> str:
        """The party as the subject of a sentence: "you", its username, or "the client"."""
        if party == self.role:
            return "you"
        if self.role is None:
            return f"the {party}"
        return str(getattr(self.contract, party))

    def its(self, party: str) -> str:
        """The possessive for ``party``: "your" for the reader, "their" for anyone else."""
        return "your" if party == self.role else "their"

    def receives(self, party: str) -> str:
        return "receive" if party == self.role else "receives"

    def pays(self, party: str) -> str:
        return "pay" if party == self.role else "pays"

    def does(self, party: str) -> str:
        return "do" if party == self.role else "does"


def refund_request_advice(*, refund: RefundRequest, role: str | None) -> Advice:
    """What the freelancer's silence on an open refund request does, and what accepting does."""
    if refund.status != RefundRequest.Status.OPEN:
        return Advice()
    reader = _Reader(refund.contract, role)
    amount = money(refund.amount, refund.currency)
    due = local_when(refund.response_due_at)
    freelancer, client = reader.name("freelancer"), reader.name("client")
    if role == "freelancer":
        summary = (
            f"Accept the refund or file a dispute by {due}. If you do nothing, {amount} is "
            f"refunded to {client}."
        )
    elif role == "client":
        summary = (
            f"{freelancer} can accept the refund or file a dispute until {due}. If they do "
            f"nothing, {amount} comes back to you automatically."
        )
    else:
        summary = (
            f"The freelancer can accept the refund or file a dispute until {due}. If the "
            f"freelancer does nothing, {amount} is refunded to the client."
        )
    return Advice(
        summary=summary,
        on_act=f"{amount} is refunded to {client} and the request closes.",
    )


def dispute_advice(
    *,
    dispute: Dispute,
    role: str | None,
    paid: Collection[str] = (),
    fee: Decimal | None = None,
    split: tuple[Decimal, Decimal] | None = None,
    accepted: Collection[str] = (),
) -> Advice:
    """What comes next on ``dispute`` for a reader in ``role`` (None: staff or another reader).

    ``paid`` names the parties who have paid the arbitration fee; ``fee`` is the reader's share,
    for the sentence beside the button that pays it. ``split`` is the proposed resolution (to
    the freelancer, to the client) and ``accepted`` the parties who have accepted it so far.
    """
    request = dispute.refund_request
    reader = _Reader(request.contract, role)
    if dispute.status == DStatus.DRAFT:
        return _draft(dispute, reader)
    if dispute.status == DStatus.AWAITING_CLIENT:
        return _awaiting_client(dispute, reader)
    if dispute.status == DStatus.IN_MEDIATION:
        return Advice(
            summary=(
                f"{_start(reader.name('client'))} declined. A mediation agent reviews both "
                "sides and proposes a non-binding resolution; the money stays in escrow meanwhile."
            )
        )
    if dispute.status == DStatus.RESOLUTION_PROPOSED and split is not None:
        return _resolution_proposed(dispute, reader, split, frozenset(accepted))
    if dispute.status == DStatus.ARBITRATION_WINDOW:
        return _arbitration_window(dispute, reader, frozenset(paid), fee)
    return Advice()


def _resolution_proposed(
    dispute: Dispute, reader: _Reader, split: tuple[Decimal, Decimal], accepted: frozenset[str]
) -> Advice:
    """The rule at the answers' deadline (DESIGN §3.6), from who has accepted so far.

    Both accept: the money moves as proposed. A rejection, or silence from either at the
    deadline: a Notice of Non-Resolution, and the money stays in escrow.
    """
    request = dispute.refund_request
    currency = request.currency
    due = local_when(dispute.response_due_at)
    n = reader.name
    moves = (
        f"{money(split[0], currency)} to {n('freelancer')} and {money(split[1], currency)} to "
        f"{n('client')}"
    )
    notice = "a Notice of Non-Resolution follows and the money stays in escrow"
    on_reject = (
        "Rejecting leads to a Notice of Non-Resolution; the money stays in escrow. Each party "
        "may then pay for binding arbitration; if neither does, "
        f"{money(request.amount, currency)} is refunded to {n('client')}."
    )
    if reader.role is None:
        answered = " and ".join(f"the {p}" for p in PARTIES if p in accepted)
        summary = (
            (f"{_start(answered)} accepted. " if answered else "")
            + f"If both parties accept by {due}, the money moves as proposed: {moves}. "
            f"Otherwise {notice}."
        )
        return Advice(summary=summary)
    other = _other(reader.role)
    if reader.role in accepted and other in accepted:
        return Advice(summary=f"Both of you accepted: the money moves as proposed: {moves}.")
    if reader.role in accepted:
        summary = (
            f"You accepted the resolution. If {n(other)} accepts it too by {due}, the money "
            f"moves as proposed: {moves}. Otherwise {notice}."
        )
        return Advice(summary=summary)
    if other in accepted:
        summary = (
            f"{_start(n(other))} accepted the resolution. If you accept it too by {due}, the "
            f"money moves at once: {moves}. If you reject it or do not answer by then, {notice}."
        )
        on_act = (
            f"{_start(n(other))} has accepted already. If you accept too, the money moves at "
            f"once: {moves}, and the dispute closes."
        )
        return Advice(summary=summary, on_act=on_act, on_reject=on_reject)
    summary = (
        f"Accept or reject the resolution by {due}. If both of you accept, the money moves as "
        f"proposed: {moves}. A rejection, or no answer from either of you by then, leads to a "
        "Notice of Non-Resolution; the money stays in escrow."
    )
    on_act = (
        f"If {n(other)} accepts too by {due}, the money moves as proposed: {moves}, and the "
        "dispute closes."
    )
    return Advice(summary=summary, on_act=on_act, on_reject=on_reject)


def draft_advice(*, refund: RefundRequest, role: str | None) -> Advice:
    """What a draft dispute on ``refund`` leaves to happen: the refund request's deadline."""
    return _draft_of(refund, _Reader(refund.contract, role))


def _draft(dispute: Dispute, reader: _Reader) -> Advice:
    return _draft_of(dispute.refund_request, reader)


def _draft_of(request: RefundRequest, reader: _Reader) -> Advice:
    return Advice(
        summary=(
            f"Submit it by {local_when(request.response_due_at)}, or "
            f"{money(request.amount, request.currency)} is refunded to {reader.name('client')}."
        )
    )


def _awaiting_client(dispute: Dispute, reader: _Reader) -> Advice:
    request = dispute.refund_request
    currency = request.currency
    disputed = money(dispute.amount, currency)
    rest = money(request.amount - dispute.amount, currency)
    due = local_when(dispute.response_due_at)
    freelancer, client = reader.name("freelancer"), reader.name("client")
    split = f"{disputed} is released to {freelancer} and {rest} refunded to {client}"
    if reader.role == "client":
        summary = f"Accept or decline by {due}. If you do nothing, {split}."
    elif reader.role == "freelancer":
        summary = (
            f"Waiting for {client} to accept or decline. If they do nothing by {due}, {split}."
        )
    else:
        summary = (
            f"Waiting for the client to accept or decline. If the client does nothing by {due}, "
            f"{split}."
        )
    return Advice(summary=summary, on_act=f"{split[0].upper()}{split[1:]}. The dispute closes.")


def _arbitration_window(
    dispute: Dispute, reader: _Reader, paid: frozenset[str], fee: Decimal | None
) -> Advice:
    """The rule at the window's deadline (DESIGN §3.7), from who has paid so far.

    Both paid: a case opens. Only one paid: that party receives R and its fee back. Neither:
    R is refunded to the client.
    """
    request = dispute.refund_request
    amount = money(request.amount, request.currency)
    due = local_when(dispute.response_due_at)
    n = reader.name
    case = "an arbitrator takes the case and issues a final, binding award"

    def wins(party: str) -> str:
        return f"{n(party)} {reader.receives(party)} {amount} and {reader.its(party)} fee back"

    if paid >= set(PARTIES):
        return Advice(summary=f"Both parties paid: {case} splitting {amount}.")

    if not paid:
        summary = (
            "Neither party has agreed to arbitration yet. If neither pays by "
            f"{due}, {amount} is refunded to {n('client')} and the dispute closes."
        )
        outcomes = (
            f"Both pay: {case} splitting {amount}. It cannot be appealed.",
            *(f"Only {n(p)} {reader.pays(p)}: {wins(p)}." for p in _order(reader)),
            f"Neither pays: {amount} is refunded to {n('client')} and the dispute closes.",
        )
        on_act = ""
        if reader.role is not None:
            other = _other(reader.role)
            on_act = (
                f"If {n(other)} {reader.does(other)} not pay too by {due}, you receive {amount} "
                f"and your fee back; if {n(other)} {reader.does(other)}, {case}."
            )
    else:
        (payer,) = paid
        waiting = _other(payer)
        summary = (
            f"{_start(n(payer))} paid {reader.its(payer)} fee. If "
            f"{n(waiting)} {reader.pays(waiting)} too by {due}, {case}; "
            f"if not, {wins(payer)}."
        )
        outcomes = (
            f"{_start(n(waiting))} {reader.pays(waiting)} too: "
            f"{case} splitting {amount}. It cannot be appealed.",
            f"{_start(n(waiting))} {reader.does(waiting)} not pay: {wins(payer)}.",
        )
        on_act = ""
        if reader.role == waiting:
            on_act = (
                f"{_start(n(payer))} has paid already, so if you pay too, {case}. If you do "
                f"not pay by {due}, {wins(payer)}."
            )
    if on_act and fee is not None:
        on_act = (
            f"Agreeing to binding arbitration charges {money(fee, request.currency)} to your "
            f"account now. {on_act}"
        )
    return Advice(summary=summary, on_act=on_act, outcomes=outcomes)


def _order(reader: _Reader) -> tuple[str, ...]:
    """The reader's own side first."""
    if reader.role == "client":
        return ("client", "freelancer")
    return PARTIES
