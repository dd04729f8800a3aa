"""Browser forms that store files keep what a passed deadline did, as every other door does."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from disputes.models import Dispute, Evidence, RefundRequest
from tests.kit import browser_for, draft, filed, followed_messages, pdf, refund_request

pytestmark = pytest.mark.django_db


class TestLateFormsWithFiles:
    def test_the_clients_late_evidence_finds_the_disputed_amount_released(self, contract):
        dispute = filed(contract)
        browser = browser_for(contract.client)

        with time_machine.travel(dispute.response_due_at + timedelta(minutes=1), tick=False):
            response = browser.post(
                reverse("disputes:evidence-add", args=[dispute.pk]),
                {"files": [pdf()], "description": "Too late."},
            )
            shown = followed_messages(browser, response)

        assert shown[0].startswith("The deadline to add evidence passed on ")
        dispute.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.CLIENT_SILENT
        assert not Evidence.objects.filter(dispute=dispute, uploaded_by=contract.client).exists()

    def test_a_late_draft_save_finds_the_refund_made_and_the_draft_lapsed(self, contract):
        request = refund_request(contract)
        dispute = draft(request)
        browser = browser_for(contract.freelancer)

        with time_machine.travel(request.response_due_at + timedelta(minutes=1), tick=False):
            browser.post(
                reverse("disputes:dispute-details", args=[dispute.pk]),
                {"reason": "QUALITY", "description": "All five pages.", "action": "save"},
            )

        assert RefundRequest.objects.get(pk=request.pk).status == RefundRequest.Status.EXPIRED
        assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.LAPSED
