"""The parties' side of arbitration on See Dispute: the Notice of Non-Resolution with the fee
window, the case with its evidence requests, and the award.

The story: the client funds 500, ends the contract paying 200 (R = 300), the freelancer disputes
250, the client declines, an agent proposes 150/150 and the client rejects it. Each party's fee
is 50.00.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from arbitration import services
from arbitration.models import ArbitrationFee, EvidenceRequest
from contracts.models import LedgerTransaction
from core import deadlines
from disputes import services as disputes
from disputes.models import Dispute, Evidence
from mediation import services as mediation
from tests import kit
from tests.kit import (
    DISGUISED_EXE,
    NOT_ALLOWED,
    PDF_BYTES,
    browser_for,
    declined_dispute,
    reload,
    shown_messages,
    suspend,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("arbitration_fee_of_50", "private_storage_per_test"),
]


def upload(name: str = "chat-log.pdf", content: bytes = PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def pay_url(dispute: Dispute) -> str:
    return reverse("arbitration:fee-pay", args=[dispute.pk])


def upload_url(dispute: Dispute) -> str:
    return reverse("arbitration:evidence-upload", args=[dispute.pk])


def pay(dispute: Dispute, party: User) -> ArbitrationFee:
    return services.arbitration_fee_pay(dispute=dispute, actor=party, now=timezone.now())


def ask(dispute: Dispute, arbitrator: User, party: str, message: str = "Send the chat log."):
    return services.evidence_request_create(
        dispute=dispute,
        arbitrator=arbitrator,
        party=party,
        message=message,
        due_at=timezone.now() + timedelta(days=3),
        now=timezone.now(),
    )


@pytest.fixture
def window(contract, agent) -> Dispute:
    """The client rejected the proposed resolution: the arbitration window is open."""
    return kit.window(contract, agent)


@pytest.fixture
def case(contract, window) -> Dispute:
    """Both parties paid: the case is open, with no arbitrator yet."""
    pay(window, contract.freelancer)
    pay(window, contract.client)
    return reload(window)


class TestNoticePanel:
    @pytest.mark.parametrize("party", ["freelancer", "client_user"])
    def test_shows_each_party_the_notice_the_window_the_fee_and_the_outcomes(
        self, window, party, request
    ):
        response = browser_for(request.getfixturevalue(party)).get(window.get_absolute_url())

        html = response.content.decode()
        assert response.status_code == 200
        assert "Notice of Non-Resolution: The client rejected the proposed resolution." in html
        assert "Arbitration window open" in html
        assert "Each party&#x27;s time to agree to arbitration and pay its fee" in html
        assert html.count("badge-fee-unpaid") == 2
        assert "Agree to arbitration and pay 50.00 USD" in html
        assert pay_url(window) in html
        assert "Only you pay: you receive 300.00 USD and your fee back." in html
        assert "Neither pays: 300.00 USD is refunded to " in html

    def test_both_parties_see_who_has_paid(self, window, freelancer, client_user):
        fee = pay(window, freelancer)

        as_freelancer = browser_for(freelancer).get(window.get_absolute_url())
        as_client = browser_for(client_user).get(window.get_absolute_url())

        paid_at = f"50.00 USD, {timezone.localtime(fee.paid_at):%-d %b %Y, %H:%M}"
        for response in (as_freelancer, as_client):
            html = response.content.decode()
            assert html.count("badge-fee-paid") == 1 and html.count("badge-fee-unpaid") == 1
            assert paid_at in html
        assert pay_url(window) not in as_freelancer.content.decode()
        assert "You agreed to arbitration and paid 50.00 USD" in as_freelancer.content.decode()
        assert pay_url(window) in as_client.content.decode()

    def test_offers_no_payment_to_a_suspended_party(self, window, client_user):
        suspend(client_user)

        response = browser_for(client_user).get(window.get_absolute_url())

        html = response.content.decode()
        assert "Your account is suspended" in html
        assert "Notice of Non-Resolution" in html
        assert pay_url(window) not in html

    def test_offers_no_payment_once_the_window_has_closed_in_time(self, window, client_user):
        with time_machine.travel(window.response_due_at, tick=False):
            response = browser_for(client_user).get(window.get_absolute_url())

        assert pay_url(window) not in response.content.decode()

    def test_is_not_shown_before_the_notice(self, contract, client_user):
        dispute = declined_dispute(contract)

        response = browser_for(client_user).get(dispute.get_absolute_url())

        assert "Notice of Non-Resolution" not in response.content.decode()

    def test_shows_the_refunded_fee_when_only_one_party_paid(self, window, freelancer):
        pay(window, freelancer)
        deadlines.sweep("arbitration.windows_close", now=window.response_due_at, batch_size=10)

        response = browser_for(freelancer).get(window.get_absolute_url())

        html = response.content.decode()
        assert "only the freelancer paid for arbitration" in html
        assert "Arbitration window closed" in html and "Fee refunded" in html
        assert "Paid to the freelancer" in html
        assert pay_url(window) not in html

    def test_shows_the_refund_to_the_client_when_neither_paid(self, window, client_user):
        deadlines.sweep("arbitration.windows_close", now=window.response_due_at, batch_size=10)

        response = browser_for(client_user).get(window.get_absolute_url())

        html = response.content.decode()
        assert "neither party paid for arbitration: refunded" in html
        assert html.count("badge-fee-unpaid") == 2


class TestFeePay:
    def test_takes_the_fee_and_says_what_happens_next(self, window, freelancer):
        response = browser_for(freelancer).post(pay_url(window), follow=True)

        [message] = shown_messages(response)
        assert message.startswith("You agreed to arbitration and paid your fee of 50.00 USD.")
        assert "if not, you receive 300.00 USD and your fee back" in message
        fee = ArbitrationFee.objects.get(dispute=window)
        assert (fee.party, fee.amount) == ("freelancer", Decimal("50.00"))
        assert LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.FEE).count() == 1
        assert "Arbitration fee paid" in response.content.decode()  # on the timeline

    def test_the_second_payment_opens_the_case(self, window, freelancer, client_user):
        pay(window, freelancer)

        response = browser_for(client_user).post(pay_url(window), follow=True)

        [message] = shown_messages(response)
        assert "Both parties have now paid: the arbitration case is open." in message
        assert reload(window).status == Dispute.Status.IN_ARBITRATION
        assert "To be assigned" in response.content.decode()

    def test_refuses_to_take_the_fee_twice(self, window, freelancer):
        pay(window, freelancer)

        response = browser_for(freelancer).post(pay_url(window), follow=True)

        assert shown_messages(response) == ["You have already paid your arbitration fee."]
        assert ArbitrationFee.objects.count() == 1

    def test_refuses_once_the_window_has_closed(self, window, client_user):
        with time_machine.travel(window.response_due_at, tick=False):
            response = browser_for(client_user).post(pay_url(window), follow=True)

        assert shown_messages(response)[0].startswith("The arbitration window closed ")
        assert ArbitrationFee.objects.count() == 0

    def test_takes_the_fee_the_instant_before_the_window_closes(self, window, client_user):
        with time_machine.travel(window.response_due_at - timedelta(seconds=1), tick=False):
            browser_for(client_user).post(pay_url(window))

        assert ArbitrationFee.objects.filter(party="client").exists()

    def test_refuses_a_suspended_party(self, window, client_user):
        suspend(client_user)

        response = browser_for(client_user).post(pay_url(window), follow=True)

        assert shown_messages(response) == [
            "Your account is suspended: you can read, but not take actions."
        ]
        assert ArbitrationFee.objects.count() == 0

    def test_refuses_a_dispute_not_in_its_window(self, contract, freelancer):
        dispute = declined_dispute(contract)

        response = browser_for(freelancer).post(pay_url(dispute), follow=True)

        assert shown_messages(response)[0] == (
            "This dispute is in mediation: the arbitration window is not open."
        )
        assert ArbitrationFee.objects.count() == 0

    def test_is_404_for_a_stranger(self, window, stranger):
        response = browser_for(stranger).post(pay_url(window))

        assert response.status_code == 404
        assert ArbitrationFee.objects.count() == 0


class TestCasePanel:
    @pytest.mark.parametrize("party", ["freelancer", "client_user"])
    def test_shows_each_party_the_case_and_the_requests_to_either_party(
        self, case, arbitrator, party, request
    ):
        ask(case, arbitrator, "client", "Send the chat log of March.")
        ask(case, arbitrator, "freelancer", "Send the source files.")

        response = browser_for(request.getfixturevalue(party)).get(case.get_absolute_url())

        html = response.content.decode()
        assert "Case open" in html and "art-arbitrator" in html
        assert "To carol-client (client)" in html and "Send the chat log of March." in html
        assert "To frank-freelancer (freelancer)" in html and "Send the source files." in html
        assert html.count("badge-request-open") == 2
        assert "Fee paid by each party" in html

    def test_says_the_arbitrator_is_to_be_assigned(self, case, client_user):
        response = browser_for(client_user).get(case.get_absolute_url())

        html = response.content.decode()
        assert "To be assigned" in html
        assert "The arbitrator has not asked either party for more evidence." in html

    def test_offers_the_upload_form_to_the_party_asked_only(
        self, case, arbitrator, freelancer, client_user
    ):
        ask(case, arbitrator, "client")

        as_client = browser_for(client_user).get(case.get_absolute_url())
        as_freelancer = browser_for(freelancer).get(case.get_absolute_url())

        assert upload_url(case) in as_client.content.decode()
        assert "Send the evidence the arbitrator asked for" in as_client.content.decode()
        assert upload_url(case) not in as_freelancer.content.decode()

    def test_shows_the_evidence_due_date_as_the_deadline(
        self, case, arbitrator, freelancer, client_user
    ):
        request = ask(case, arbitrator, "client")

        as_client = browser_for(client_user).get(case.get_absolute_url())
        as_freelancer = browser_for(freelancer).get(case.get_absolute_url())

        assert as_client.context["deadline"].due_at == request.due_at
        assert as_client.context["deadline"].yours is True
        assert as_freelancer.context["deadline"].party == "the client"
        assert as_freelancer.context["deadline"].yours is False

    def test_shows_a_closed_request_without_the_form(self, case, arbitrator, client_user):
        request = ask(case, arbitrator, "client")
        deadlines.sweep("arbitration.evidence_requests_close", now=request.due_at, batch_size=10)

        response = browser_for(client_user).get(case.get_absolute_url())

        html = response.content.decode()
        assert "badge-request-closed" in html
        assert upload_url(case) not in html
        assert response.context["deadline"] is None

    def test_offers_no_upload_to_a_suspended_party(self, case, arbitrator, client_user):
        ask(case, arbitrator, "client")
        suspend(client_user)

        response = browser_for(client_user).get(case.get_absolute_url())

        assert upload_url(case) not in response.content.decode()

    @pytest.mark.parametrize("party", ["freelancer", "client_user"])
    def test_shows_the_award_to_both_parties_with_the_money_moved(
        self, case, arbitrator, party, request
    ):
        services.award_issue(
            dispute=case,
            arbitrator=arbitrator,
            to_freelancer="180.00",
            to_client="120.00",
            reasons="Four pages of five were delivered.",
            now=timezone.now(),
        )

        response = browser_for(request.getfixturevalue(party)).get(case.get_absolute_url())

        html = response.content.decode()
        assert "Final award" in html and "final and binding" in html
        assert "Four pages of five were delivered." in html
        assert "Issued by art-arbitrator," in html
        assert "decided by the arbitrator&#x27;s award" in html
        assert "Paid to the freelancer" in html and "180.00 USD" in html
        assert "Refunded to the client" in html and "120.00 USD" in html
        assert "Award issued" in html


class TestEvidenceUpload:
    def test_adds_the_requested_file_for_both_parties_to_see(
        self, case, arbitrator, client_user, freelancer
    ):
        ask(case, arbitrator, "client")

        response = browser_for(client_user).post(
            upload_url(case),
            {"file": upload(), "description": "The March chat log."},
            follow=True,
        )

        [message] = shown_messages(response)
        assert message.startswith("Sent “chat-log.pdf” to the arbitrator")
        evidence = Evidence.objects.get(dispute=case, uploaded_by=client_user)
        assert evidence.description == "The March chat log."
        as_freelancer = browser_for(freelancer).get(case.get_absolute_url()).content.decode()
        assert evidence.sha256 in as_freelancer and "The March chat log." in as_freelancer

    def test_refuses_when_no_request_is_open(self, case, client_user):
        response = browser_for(client_user).post(upload_url(case), {"file": upload()}, follow=True)

        [message] = shown_messages(response)
        assert message.startswith("Evidence can be added only by")
        assert not Evidence.objects.filter(uploaded_by=client_user).exists()

    def test_refuses_the_party_not_asked(self, case, arbitrator, freelancer):
        ask(case, arbitrator, "client")
        before = Evidence.objects.count()

        response = browser_for(freelancer).post(upload_url(case), {"file": upload()}, follow=True)

        assert shown_messages(response)[0].startswith("Evidence can be added only by")
        assert Evidence.objects.count() == before

    def test_refuses_once_the_request_is_due(self, case, arbitrator, client_user):
        request = ask(case, arbitrator, "client")

        with time_machine.travel(request.due_at, tick=False):
            browser_for(client_user).post(upload_url(case), {"file": upload()})

        assert not Evidence.objects.filter(uploaded_by=client_user).exists()

    def test_asks_for_a_file(self, case, arbitrator, client_user):
        ask(case, arbitrator, "client")

        response = browser_for(client_user).post(upload_url(case), {"description": "x"})

        assert response.status_code == 400
        assert response.content.decode().count("Choose a file.") == 1
        assert shown_messages(response) == []

    def test_refuses_a_disguised_file_on_its_field_and_stores_nothing(
        self, case, arbitrator, client_user, settings
    ):
        ask(case, arbitrator, "client")

        response = browser_for(client_user).post(
            upload_url(case), {"file": upload("log.pdf", DISGUISED_EXE)}
        )

        assert response.status_code == 400
        assert NOT_ALLOWED in response.content.decode()
        assert not Evidence.objects.filter(uploaded_by=client_user).exists()
        folder = settings.PRIVATE_MEDIA_ROOT / "evidence"
        assert not folder.exists() or not any(folder.iterdir())

    def test_refuses_a_suspended_party(self, case, arbitrator, client_user):
        ask(case, arbitrator, "client")
        suspend(client_user)

        response = browser_for(client_user).post(upload_url(case), {"file": upload()}, follow=True)

        assert shown_messages(response) == [
            "Your account is suspended: you can read, but not take actions."
        ]
        assert not Evidence.objects.filter(uploaded_by=client_user).exists()

    def test_is_404_for_a_stranger(self, case, arbitrator, stranger):
        ask(case, arbitrator, "client")

        response = browser_for(stranger).post(upload_url(case), {"file": upload()})

        assert response.status_code == 404
        assert not Evidence.objects.filter(uploaded_by=stranger).exists()


class TestSeeDisputeQueries:
    def test_costs_the_same_with_few_or_many_evidence_requests_and_events(
        self, case, arbitrator, client_user, django_assert_num_queries
    ):
        ask(case, arbitrator, "client")
        browser = browser_for(client_user)
        browser.get(case.get_absolute_url())  # warm the session
        with CaptureQueriesContext(connection) as few:
            browser.get(case.get_absolute_url())
        few = len(few.captured_queries)  # read now: the next request resets the query log
        for number in range(6):
            ask(case, arbitrator, "freelancer" if number % 2 else "client", f"Item {number}.")
            disputes.evidence_add(
                dispute=case, actor=client_user, file=upload(f"{number}.pdf"), now=timezone.now()
            )

        assert few > 0
        browser.get(
            case.get_absolute_url()
        )  # warm the cache: the new rows may have notified the user
        with django_assert_num_queries(few):
            response = browser.get(case.get_absolute_url())

        [panel, *_] = response.context["panels"]
        assert len(panel.context["requests"]) == 7
        assert EvidenceRequest.objects.count() == 7

    def test_the_window_costs_the_same_before_and_after_a_payment(
        self, window, freelancer, client_user
    ):
        browser = browser_for(client_user)
        browser.get(window.get_absolute_url())
        with CaptureQueriesContext(connection) as none_paid:
            browser.get(window.get_absolute_url())
        none_paid = len(
            none_paid.captured_queries
        )  # read now: the next request resets the query log
        pay(window, freelancer)

        browser.get(
            window.get_absolute_url()
        )  # warm the cache: the new rows may have notified the user
        with CaptureQueriesContext(connection) as one_paid:
            browser.get(window.get_absolute_url())
        one_paid = len(one_paid.captured_queries)

        assert one_paid == none_paid > 0


class TestActionUrls:
    @pytest.mark.parametrize("name", ["arbitration:fee-pay", "arbitration:evidence-upload"])
    def test_a_get_is_405(self, case, client_user, name):
        response = browser_for(client_user).get(reverse(name, args=[case.pk]))

        assert response.status_code == 405

    @pytest.mark.parametrize("name", ["arbitration:fee-pay", "arbitration:evidence-upload"])
    def test_an_unknown_dispute_is_404(self, client_user, name):
        response = browser_for(client_user).post(reverse(name, args=[999999]))

        assert response.status_code == 404


class TestContractHistoryHints:
    def hints(self, user: User) -> list[tuple[str, bool]]:
        response = browser_for(user).get(reverse("contracts:history"))
        return [
            (item.hint, item.your_turn)
            for row in response.context["rows"]
            for item in row.milestones
        ]

    def test_invites_both_parties_to_pay_in_the_window(self, window, freelancer, client_user):
        pay(window, freelancer)

        assert self.hints(freelancer) == [("Waiting for the client to agree to arbitration", False)]
        assert self.hints(client_user) == [
            ("Pay the arbitration fee, or let the window close", True)
        ]

    def test_asks_the_party_asked_for_evidence_to_upload_it(
        self, case, arbitrator, freelancer, client_user
    ):
        ask(case, arbitrator, "client")

        assert self.hints(client_user) == [("Upload the evidence the arbitrator asked for", True)]
        assert self.hints(freelancer) == [("Waiting for the arbitrator's award", False)]

    def test_stops_inviting_once_the_window_has_closed(self, window, client_user):
        with time_machine.travel(window.response_due_at, tick=False):
            hints = self.hints(client_user)

        assert hints == [("Not resolved: arbitration window open", False)]


class TestContractHistoryQueries:
    def test_stay_the_same_with_1_or_4_contracts_in_each_later_stage(
        self, agent, arbitrator, client_user, freelancer
    ):
        from tests.kit import ContractFactory

        def add(count):
            for _ in range(count):
                disputes_in_stage = []
                for _stage in range(3):
                    contract = ContractFactory(client=client_user, freelancer=freelancer)
                    dispute = declined_dispute(contract)
                    mediation.resolution_propose(
                        dispute=dispute,
                        agent=agent,
                        to_freelancer="150.00",
                        to_client="150.00",
                        rationale="Half each.",
                        now=timezone.now(),
                    )
                    disputes_in_stage.append(dispute)
                for dispute in disputes_in_stage[1:]:
                    mediation.resolution_answer(
                        dispute=dispute, actor=client_user, accept=False, now=timezone.now()
                    )
                in_case = disputes_in_stage[2]
                pay(in_case, freelancer)
                pay(in_case, client_user)
                ask(reload(in_case), arbitrator, "client")

        add(1)
        browser = browser_for(client_user)
        browser.get(reverse("contracts:history"))
        with CaptureQueriesContext(connection) as few:
            browser.get(reverse("contracts:history"))
        few = len(few.captured_queries)  # read now: the next request resets the query log
        add(3)

        browser.get(
            reverse("contracts:history")
        )  # warm the cache: the new rows may have notified the user
        with CaptureQueriesContext(connection) as many:
            response = browser.get(reverse("contracts:history"))
        many = len(many.captured_queries)

        hints = {item.hint for row in response.context["rows"] for item in row.milestones}
        assert len(response.context["rows"]) == 12
        assert {
            "Answer the proposed resolution",
            "Pay the arbitration fee, or let the window close",
            "Upload the evidence the arbitrator asked for",
        } <= hints
        assert many == few > 0
