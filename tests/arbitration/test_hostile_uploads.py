"""The file an arbitrator asks a party for goes through the same upload checks as every other."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from arbitration import services
from disputes.models import Evidence
from tests import kit
from tests import upload_samples as samples

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("arbitration_fee_of_50", "private_storage_per_test"),
]


@pytest.fixture
def asked(contract, agent, arbitrator):
    """An open case in which the arbitrator asked the client for a file."""
    dispute = kit.case(contract, agent)
    services.evidence_request_create(
        dispute=dispute,
        arbitrator=arbitrator,
        party="client",
        message="Send the chat log.",
        due_at=timezone.now() + timedelta(days=3),
        now=timezone.now(),
    )
    return dispute


@pytest.mark.parametrize(("name", "content", "message"), samples.hostile()[::2])
def test_the_requested_evidence_form_refuses_the_file_and_stores_nothing(
    asked, client_user, settings, name, content, message
):
    response = kit.browser_for(client_user).post(
        reverse("arbitration:evidence-upload", args=[asked.pk]),
        {"file": samples.upload(name, content)},
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Evidence.objects.filter(uploaded_by=client_user).exists()
    folder = settings.PRIVATE_MEDIA_ROOT / "evidence"
    assert not folder.exists() or not any(folder.iterdir())
