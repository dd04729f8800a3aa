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
