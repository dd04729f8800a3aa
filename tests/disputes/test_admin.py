import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from disputes import services
from disputes.models import SupportCase
from tests.kit import UserFactory, end_contract, file_dispute, make_milestone

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


class TestDisputeAdmin:
    def test_shows_the_timeline_and_the_evidence_with_its_hash(self, staff_client, contract):
        dispute = file_dispute(
            end_contract(contract),
            evidence=[SimpleUploadedFile("brief.pdf", b"%PDF-1.4 brief")],
        )
        evidence = dispute.evidence.get()

        response = staff_client.get(reverse("admin:disputes_dispute_change", args=[dispute.pk]))

        assert response.status_code == 200
        html = response.content.decode()
        assert "DISPUTE_FILED" in html
        assert evidence.sha256 in html
        assert evidence.get_absolute_url() in html

    def test_lists_disputes_and_refund_requests(self, staff_client, contract):
        file_dispute(end_contract(contract))

        for name in ("disputes_dispute", "disputes_refundrequest", "disputes_supportcase"):
            assert staff_client.get(reverse(f"admin:{name}_changelist")).status_code == 200


class TestLedgerAdmin:
    def test_is_read_only(self, staff_client, contract):
        milestone = make_milestone(contract, funded=True)
        movement = milestone.ledger_transactions.get()

        change = staff_client.get(
            reverse("admin:contracts_ledgertransaction_change", args=[movement.pk])
        )
        add = staff_client.get(reverse("admin:contracts_entry_add"))
        delete = staff_client.post(
            reverse("admin:contracts_ledgertransaction_delete", args=[movement.pk]),
            {"post": "yes"},
        )

        assert change.status_code == 200
        assert 'name="_save"' not in change.content.decode()
        assert add.status_code == 403
        assert delete.status_code == 403
        assert milestone.ledger_transactions.count() == 1


class TestSupportCaseAdmin:
    def test_staff_close_a_case_with_a_note_and_the_freelancer_is_told(
        self, staff_client, contract
    ):
        milestone = make_milestone(contract, submitted=True)
        case = services.support_case_open(
            milestone=milestone,
            actor=contract.freelancer,
            description="No answer.",
            now=timezone.now(),
        )
        url = reverse("admin:disputes_supportcase_changelist")

        confirm = staff_client.post(url, {"action": "close_cases", "_selected_action": [case.pk]})
        done = staff_client.post(
            url,
            {
                "action": "close_cases",
                "_selected_action": [case.pk],
                "apply": "1",
                "note": "We asked the client to release the payment.",
            },
        )

        case.refresh_from_db()
        assert confirm.status_code == 200
        assert done.status_code == 302
        assert case.status == SupportCase.Status.CLOSED
        assert case.staff_note == "We asked the client to release the payment."
        assert Notification.objects.filter(
            user=contract.freelancer, kind="support_case_closed"
        ).exists()
