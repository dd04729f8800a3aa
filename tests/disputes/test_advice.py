"""What each reader is told comes next, per state: the sentences that predict where money goes.

The story: the client funds 500, ends the contract paying 200 (R = 300), the freelancer
(frank-freelancer) disputes 250 and the client (carol-client) answers. In the arbitration window
each party's fee is 50.00.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from arbitration import services as arbitration
from core.formats import local_when
from disputes.advice import dispute_advice, refund_request_advice
from tests import kit
from tests.kit import browser_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("arbitration_fee_of_50")]

CASE = "an arbitrator takes the case and issues a final, binding award"


@pytest.fixture
def window(contract, agent):
    return kit.window(contract, agent)


def paying(window, contract, parties):
    for party in parties:
        arbitration.arbitration_fee_pay(
            dispute=window, actor=getattr(contract, party), now=timezone.now()
        )
    window.refresh_from_db()
    return window


class TestTheArbitrationWindow:
    """Each combination of who paid the fee (none, client, freelancer, both) and each reader."""

    # (who paid, reader) -> (summary, what paying says, or None where the reader cannot pay)
    EXPECTED = {
        ((), "freelancer"): (
            "Neither party has agreed to arbitration yet. If neither pays by {due}, 300.00 USD "
            "is refunded to carol-client and the dispute closes.",
            "Agreeing to binding arbitration charges 50.00 USD to your account now. If "
            "carol-client does not pay too by {due}, you receive 300.00 USD and your fee back; "
            f"if carol-client does, {CASE}.",
        ),
        ((), "client"): (
            "Neither party has agreed to arbitration yet. If neither pays by {due}, 300.00 USD "
            "is refunded to you and the dispute closes.",
            "Agreeing to binding arbitration charges 50.00 USD to your account now. If "
            "frank-freelancer does not pay too by {due}, you receive 300.00 USD and your fee "
            f"back; if frank-freelancer does, {CASE}.",
        ),
        ((), None): (
            "Neither party has agreed to arbitration yet. If neither pays by {due}, 300.00 USD "
            "is refunded to the client and the dispute closes.",
            None,
        ),
        (("freelancer",), "freelancer"): (
            f"You paid your fee. If carol-client pays too by {{due}}, {CASE}; if not, you "
            "receive 300.00 USD and your fee back.",
            None,
        ),
        (("freelancer",), "client"): (
            f"frank-freelancer paid their fee. If you pay too by {{due}}, {CASE}; if not, "
            "frank-freelancer receives 300.00 USD and their fee back.",
            "Agreeing to binding arbitration charges 50.00 USD to your account now. "
            f"frank-freelancer has paid already, so if you pay too, {CASE}. If you do not pay "
            "by {due}, frank-freelancer receives 300.00 USD and their fee back.",
        ),
        (("freelancer",), None): (
            f"The freelancer paid their fee. If the client pays too by {{due}}, {CASE}; if not, "
            "the freelancer receives 300.00 USD and their fee back.",
            None,
        ),
        (("client",), "freelancer"): (
            f"carol-client paid their fee. If you pay too by {{due}}, {CASE}; if not, "
            "carol-client receives 300.00 USD and their fee back.",
            "Agreeing to binding arbitration charges 50.00 USD to your account now. "
            f"carol-client has paid already, so if you pay too, {CASE}. If you do not pay by "
            "{due}, carol-client receives 300.00 USD and their fee back.",
        ),
        (("client",), "client"): (
            f"You paid your fee. If frank-freelancer pays too by {{due}}, {CASE}; if not, you "
            "receive 300.00 USD and your fee back.",
            None,
        ),
        (("client",), None): (
            f"The client paid their fee. If the freelancer pays too by {{due}}, {CASE}; if not, "
            "the client receives 300.00 USD and their fee back.",
            None,
        ),
        (("freelancer", "client"), "freelancer"): (
            f"Both parties paid: {CASE} splitting 300.00 USD.",
            None,
        ),
        (("freelancer", "client"), "client"): (
            f"Both parties paid: {CASE} splitting 300.00 USD.",
            None,
        ),
        (("freelancer", "client"), None): (
            f"Both parties paid: {CASE} splitting 300.00 USD.",
            None,
        ),
    }

    @pytest.mark.parametrize(("paid", "reader"), list(EXPECTED))
    def test_tells_each_reader_what_the_deadline_will_do(self, window, paid, reader):
        summary, on_pay = self.EXPECTED[(paid, reader)]
        due = local_when(window.response_due_at)

        advice = dispute_advice(dispute=window, role=reader, paid=paid, fee=Decimal("50.00"))

        assert advice.summary == summary.format(due=due)
        if on_pay is not None:
            assert advice.on_act == on_pay.format(due=due)
        elif paid and reader in paid:
            assert advice.on_act == ""

    def test_never_promises_the_client_the_money_once_the_freelancer_paid(
        self, window, contract, client_user
    ):
        paying(window, contract, ["freelancer"])

        html = browser_for(client_user).get(window.get_absolute_url()).content.decode()

        assert "you receive 300.00 USD" not in html
        assert "frank-freelancer has paid already, so if you pay too" in html
        assert "frank-freelancer receives 300.00 USD and their fee back" in html

    def test_tells_the_payer_what_waiting_gives_it(self, window, contract, freelancer):
        paying(window, contract, ["freelancer"])

        html = browser_for(freelancer).get(window.get_absolute_url()).content.decode()

        assert "You paid your fee. If carol-client pays too by" in html
        assert "if not, you receive 300.00 USD and your fee back." in html
        assert "Neither pays" not in html  # no longer possible

    def test_lists_only_the_outcomes_still_possible(self, window, contract):
        paying(window, contract, ["client"])

        advice = dispute_advice(dispute=window, role="freelancer", paid={"client"})

        assert advice.outcomes == (
            f"You pay too: {CASE} splitting 300.00 USD. It cannot be appealed.",
            "You do not pay: carol-client receives 300.00 USD and their fee back.",
        )


class TestTheProposedResolution:
    """Each combination of who has accepted the agent's 180/120 split, and each reader."""

    SPLIT = (Decimal("180.00"), Decimal("120.00"))
    EXPECTED = {
        ((), "freelancer"): (
            "Accept or reject the resolution by {due}. If both of you accept, the money moves "
            "as proposed: 180.00 USD to you and 120.00 USD to carol-client. A rejection, or no "
            "answer from either of you by then, leads to a Notice of Non-Resolution; the money "
            "stays in escrow.",
            "If carol-client accepts too by {due}, the money moves as proposed: 180.00 USD to "
            "you and 120.00 USD to carol-client, and the dispute closes.",
        ),
        ((), None): (
            "If both parties accept by {due}, the money moves as proposed: 180.00 USD to the "
            "freelancer and 120.00 USD to the client. Otherwise a Notice of Non-Resolution "
            "follows and the money stays in escrow.",
            "",
        ),
        (("freelancer",), "freelancer"): (
            "You accepted the resolution. If carol-client accepts it too by {due}, the money "
            "moves as proposed: 180.00 USD to you and 120.00 USD to carol-client. Otherwise a "
            "Notice of Non-Resolution follows and the money stays in escrow.",
            "",
        ),
        (("freelancer",), "client"): (
            "frank-freelancer accepted the resolution. If you accept it too by {due}, the money "
            "moves at once: 180.00 USD to frank-freelancer and 120.00 USD to you. If you reject "
            "it or do not answer by then, a Notice of Non-Resolution follows and the money stays "
            "in escrow.",
            "frank-freelancer has accepted already. If you accept too, the money moves at once: "
            "180.00 USD to frank-freelancer and 120.00 USD to you, and the dispute closes.",
        ),
        (("client",), None): (
            "The client accepted. If both parties accept by {due}, the money moves as proposed: "
            "180.00 USD to the freelancer and 120.00 USD to the client. Otherwise a Notice of "
            "Non-Resolution follows and the money stays in escrow.",
            "",
        ),
    }

    @pytest.mark.parametrize(("accepted", "reader"), list(EXPECTED))
    def test_tells_each_reader_what_the_answers_will_do(self, contract, agent, accepted, reader):
        dispute = kit.proposed(contract, agent, to_freelancer="180.00", to_client="120.00")
        summary, on_accept = self.EXPECTED[(accepted, reader)]
        due = local_when(dispute.response_due_at)

        advice = dispute_advice(dispute=dispute, role=reader, split=self.SPLIT, accepted=accepted)

        assert advice.summary == summary.format(due=due)
        assert advice.on_act == on_accept.format(due=due)


class TestTheClientsAnswer:
    @pytest.mark.parametrize(
        ("reader", "summary"),
        [
            (
                "client",
                "Accept or decline by {due}. If you do nothing, 250.00 USD is released to "
                "frank-freelancer and 50.00 USD refunded to you.",
            ),
            (
                "freelancer",
                "Waiting for carol-client to accept or decline. If they do nothing by {due}, "
                "250.00 USD is released to you and 50.00 USD refunded to carol-client.",
            ),
            (
                None,
                "Waiting for the client to accept or decline. If the client does nothing by "
                "{due}, 250.00 USD is released to the freelancer and 50.00 USD refunded to the "
                "client.",
            ),
        ],
    )
    def test_tells_each_reader_what_silence_does(self, contract, reader, summary):
        dispute = kit.filed(contract)

        advice = dispute_advice(dispute=dispute, role=reader)

        assert advice.summary == summary.format(due=local_when(dispute.response_due_at))

    def test_tells_the_client_what_accepting_does(self, contract):
        dispute = kit.filed(contract)

        advice = dispute_advice(dispute=dispute, role="client")

        assert advice.on_act == (
            "250.00 USD is released to frank-freelancer and 50.00 USD refunded to you. "
            "The dispute closes."
        )


class TestTheRefundRequest:
    @pytest.mark.parametrize(
        ("reader", "summary"),
        [
            (
                "freelancer",
                "Accept the refund or file a dispute by {due}. If you do nothing, 300.00 USD is "
                "refunded to carol-client.",
            ),
            (
                "client",
                "frank-freelancer can accept the refund or file a dispute until {due}. If they do "
                "nothing, 300.00 USD comes back to you automatically.",
            ),
            (
                None,
                "The freelancer can accept the refund or file a dispute until {due}. If the "
                "freelancer does nothing, 300.00 USD is refunded to the client.",
            ),
        ],
    )
    def test_tells_each_reader_what_silence_does(self, contract, reader, summary):
        refund = kit.ended(contract)

        advice = refund_request_advice(refund=refund, role=reader)

        assert advice.summary == summary.format(due=local_when(refund.response_due_at))

    def test_says_nothing_once_the_request_is_answered(self, contract, freelancer):
        from disputes import services

        refund = kit.ended(contract)
        services.refund_request_accept(refund_request=refund, actor=freelancer, now=timezone.now())
        refund.refresh_from_db()

        assert refund_request_advice(refund=refund, role="client").summary == ""
