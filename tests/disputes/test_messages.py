"""The dispute's message thread: both parties and the staff member assigned to the case (the
mediation agent, then the arbitrator) write to each other from the client's decline until the
dispute closes; text only; on the timeline and notified to the others. Through every door: the
service, the API, See Dispute and the staff case pages."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from core.errors import Conflict, NotAllowed
from core.models import AuditEntry
from disputes import services
from disputes.models import DisputeMessage, TimelineEvent
from tests.kit import api_as, assert_error, browser_for, dispute_at, followed_messages, pdf, url

pytestmark = pytest.mark.django_db

Kind = TimelineEvent.Kind


def post(dispute, author, text="Could you send the delivery report?"):
    return services.dispute_message_post(
        dispute=dispute, author=author, text=text, now=timezone.now()
    )


@pytest.fixture
def mediated(contract, agent):
    """In mediation, taken by the agent."""
    dispute = dispute_at("declined", contract)
    services.dispute_assign(dispute=dispute, staff=agent, role="agent", now=timezone.now())
    dispute.refresh_from_db()
    return dispute


@pytest.fixture
def arbitrated(contract, agent, arbitrator):
    """In arbitration after the agent mediated it, taken by the arbitrator."""
    dispute = dispute_at("case", contract, agent=agent)
    services.dispute_assign(
        dispute=dispute, staff=arbitrator, role="arbitrator", now=timezone.now()
    )
    dispute.refresh_from_db()
    return dispute


@pytest.fixture
def other_agent(db):
    from tests.kit import agent

    return agent("otto-agent")


class TestWhoWritesAndReads:
    def test_both_parties_and_the_assigned_agent_write_in_order(
        self, mediated, client_user, freelancer, agent
    ):
        post(mediated, agent, "Client, which part was missing?")
        post(mediated, client_user, "The export feature.")
        post(mediated, freelancer, "It is in the second delivery.")

        thread = list(DisputeMessage.objects.filter(dispute=mediated).order_by("created_at", "pk"))
        assert [(m.author, m.role) for m in thread] == [
            (agent, "agent"),
            (client_user, "client"),
            (freelancer, "freelancer"),
        ]

    def test_the_arbitrator_takes_over_from_the_agent(self, arbitrated, arbitrator, agent):
        message = post(arbitrated, arbitrator, "Please both confirm the delivery dates.")

        assert message.role == "arbitrator"
        with pytest.raises(NotAllowed) as refused:
            post(arbitrated, agent)
        assert refused.value.code == "not_in_thread"

    def test_an_unassigned_agent_cannot_write(self, mediated, other_agent):
        with pytest.raises(NotAllowed) as refused:
            post(mediated, other_agent)

        assert refused.value.code == "not_in_thread"
        assert not DisputeMessage.objects.exists()

    def test_before_an_agent_takes_the_case_no_staff_member_writes(self, contract, agent):
        dispute = dispute_at("declined", contract)

        with pytest.raises(NotAllowed):
            post(dispute, agent)

    def test_a_staff_member_who_is_a_party_writes_as_the_party(self, contract, client_user):
        from accounts.models import Role
        from tests.kit import grant

        grant(client_user, Role.MEDIATION_AGENT)
        dispute = dispute_at("declined", contract)

        assert post(dispute, client_user).role == "client"


class TestWhen:
    @pytest.mark.parametrize("stage", ["draft", "filed"])
    def test_refused_before_the_decline(self, contract, freelancer, stage):
        dispute = dispute_at(stage, contract)

        with pytest.raises(Conflict) as refused:
            post(dispute, freelancer)

        assert refused.value.code == "messages_not_open"
        assert refused.value.status == 409

    @pytest.mark.parametrize("stage", ["accepted", "awarded"])
    def test_refused_after_the_dispute_closes(self, contract, freelancer, agent, arbitrator, stage):
        dispute = dispute_at(stage, contract, agent=agent, arbitrator=arbitrator)

        with pytest.raises(Conflict) as refused:
            post(dispute, freelancer)

        assert refused.value.code == "dispute_closed"

    @pytest.mark.parametrize("stage", ["proposed", "window", "case"])
    def test_open_through_mediation_and_arbitration(self, contract, client_user, agent, stage):
        dispute = dispute_at(stage, contract, agent=agent)

        assert post(dispute, client_user).pk


class TestWhatAMessageDoes:
    def test_it_goes_on_the_timeline_without_its_text(self, mediated, client_user):
        post(mediated, client_user, "Secret-ish detail")

        event = TimelineEvent.objects.get(dispute=mediated, kind=Kind.MESSAGE_POSTED)
        assert event.actor == client_user
        assert not event.internal
        assert "Secret-ish" not in event.note

    def test_the_others_in_the_thread_are_notified(self, mediated, client_user, freelancer, agent):
        post(mediated, client_user, "Here is my answer.")

        told = Notification.objects.filter(kind="dispute_message")
        assert sorted(n.user_id for n in told) == sorted([freelancer.pk, agent.pk])
        assert all("Here is my answer." in n.body for n in told)

    def test_the_agent_writing_is_an_audited_staff_action(self, mediated, agent):
        post(mediated, agent)

        assert AuditEntry.objects.filter(
            kind=AuditEntry.Kind.ACTION, user=agent, name="dispute.message"
        ).exists()

    @pytest.mark.parametrize("text", ["", "   ", "x" * 10_001, "nul\x00byte"])
    def test_empty_overlong_or_unstorable_text_is_refused(self, mediated, freelancer, text):
        from core.errors import InvalidInput

        with pytest.raises(InvalidInput) as refused:
            post(mediated, freelancer, text)

        assert "text" in refused.value.fields
        assert not DisputeMessage.objects.exists()


class TestTheApi:
    def test_parties_and_the_assigned_agent_post_and_read_oldest_first(
        self, mediated, client_user, freelancer, agent
    ):
        for user, text in ((agent, "Question?"), (client_user, "Answer."), (freelancer, "Yes.")):
            response = api_as(user).post(url(mediated, "messages/"), {"text": text}, format="json")
            assert response.status_code == 201, response.content
            assert set(response.json()) == {"id", "author", "role", "text", "created_at"}

        for user in (client_user, freelancer, agent):
            listed = api_as(user).get(url(mediated, "messages/")).json()["results"]
            assert [(m["author"], m["role"], m["text"]) for m in listed] == [
                (agent.username, "agent", "Question?"),
                (client_user.username, "client", "Answer."),
                (freelancer.username, "freelancer", "Yes."),
            ]
            assert listed[0]["created_at"].endswith("Z")

    def test_the_assigned_arbitrator_reads_the_whole_thread(
        self, contract, agent, arbitrator, client_user
    ):
        dispute = dispute_at("window", contract, agent=agent)
        post(dispute, client_user, "Said in mediation.")
        from arbitration import services as arbitration

        for party in (contract.freelancer, contract.client):
            arbitration.arbitration_fee_pay(dispute=dispute, actor=party, now=timezone.now())
        services.dispute_assign(
            dispute=dispute, staff=arbitrator, role="arbitrator", now=timezone.now()
        )

        listed = api_as(arbitrator).get(url(dispute, "messages/")).json()["results"]

        assert [m["text"] for m in listed] == ["Said in mediation."]

    def test_a_stranger_gets_404(self, mediated, stranger):
        api = api_as(stranger)

        assert_error(api.get(url(mediated, "messages/")), 404, "not_found")
        assert_error(
            api.post(url(mediated, "messages/"), {"text": "hi"}, format="json"), 404, "not_found"
        )

    def test_an_unassigned_agent_gets_403_and_reads_nothing(self, mediated, other_agent, agent):
        post(mediated, agent, "For the parties only.")
        api = api_as(other_agent)

        assert_error(api.get(url(mediated, "messages/")), 403, "not_in_thread")
        assert_error(
            api.post(url(mediated, "messages/"), {"text": "hi"}, format="json"),
            403,
            "not_in_thread",
        )
        assert DisputeMessage.objects.count() == 1

    def test_refused_before_the_decline(self, contract, freelancer):
        filed = dispute_at("filed", contract)
        api = api_as(freelancer)

        assert_error(
            api.post(url(filed, "messages/"), {"text": "hi"}, format="json"),
            409,
            "messages_not_open",
        )

    def test_refused_after_close(self, contract, freelancer):
        closed = dispute_at("accepted", contract)

        response = api_as(freelancer).post(url(closed, "messages/"), {"text": "hi"}, format="json")

        assert_error(response, 409, "dispute_closed")

    def test_a_file_is_refused(self, mediated, freelancer):
        api = api_as(freelancer)

        multipart = api.post(
            url(mediated, "messages/"), {"text": "see file", "file": pdf()}, format="multipart"
        )
        assert_error(multipart, 415, "unsupported_media_type")
        extra = api.post(
            url(mediated, "messages/"), {"text": "see file", "file": "JVBERi0="}, format="json"
        )
        assert_error(extra, 400, "unknown_field")
        assert not DisputeMessage.objects.exists()

    def test_nul_and_overlong_text_are_refused(self, mediated, freelancer):
        api = api_as(freelancer)

        nul = api.post(url(mediated, "messages/"), {"text": "a\u0000b"}, format="json")
        long = api.post(url(mediated, "messages/"), {"text": "x" * 10_001}, format="json")

        assert_error(nul, 400, "unstorable_text")
        assert assert_error(long, 400, "invalid")["fields"]["text"]

    def test_the_agents_reads_are_audited(self, mediated, agent, client_user):
        post(mediated, client_user, "Hello.")

        api_as(agent).get(url(mediated, "messages/"))

        reads = AuditEntry.objects.filter(kind=AuditEntry.Kind.READ, user=agent)
        assert sorted(reads.values_list("name", flat=True)) == ["case", "messages"]

    def test_a_partys_reads_are_not_audited(self, mediated, client_user):
        post(mediated, client_user, "Hello.")

        api_as(client_user).get(url(mediated, "messages/"))

        assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.READ).exists()


class TestSeeDispute:
    def page(self, dispute):
        return reverse("disputes:dispute", kwargs={"pk": dispute.pk})

    def send(self, dispute):
        return reverse("disputes:dispute-message", kwargs={"pk": dispute.pk})

    def test_a_party_reads_the_thread_and_replies(self, mediated, client_user, agent):
        post(mediated, agent, "Which part was missing?")
        browser = browser_for(client_user)

        page = browser.get(self.page(mediated))
        assert b"Which part was missing?" in page.content
        assert b'action="%s"' % self.send(mediated).encode() in page.content
        response = browser.post(self.send(mediated), {"text": "The export."})

        assert any("sent" in m for m in followed_messages(browser, response))
        assert DisputeMessage.objects.filter(author=client_user, text="The export.").exists()

    def test_the_assigned_agent_replies_from_see_dispute(self, mediated, agent):
        response = browser_for(agent).post(self.send(mediated), {"text": "Hello both."})

        assert response.status_code == 302
        assert DisputeMessage.objects.get().role == "agent"

    def test_an_empty_message_shows_the_error(self, mediated, freelancer):
        response = browser_for(freelancer).post(self.send(mediated), {"text": "  "})

        assert response.status_code == 400
        assert b"Write the message first." in response.content

    def test_an_unassigned_agent_sees_no_thread_and_cannot_post(self, mediated, other_agent, agent):
        post(mediated, agent, "For the parties only.")
        browser = browser_for(other_agent)

        page = browser.get(self.page(mediated))
        assert b"For the parties only." not in page.content
        response = browser.post(self.send(mediated), {"text": "hi"})
        assert any("assigned" in m for m in followed_messages(browser, response))
        assert DisputeMessage.objects.count() == 1

    def test_a_stranger_gets_404(self, mediated, stranger):
        response = browser_for(stranger).post(self.send(mediated), {"text": "hi"})

        assert response.status_code == 404

    def test_no_reply_form_before_the_decline(self, contract, freelancer):
        dispute = dispute_at("filed", contract)
        browser = browser_for(freelancer)

        page = browser.get(self.page(dispute))
        assert self.send(dispute).encode() not in page.content
        response = browser.post(self.send(dispute), {"text": "hi"})
        assert any("client declines" in m for m in followed_messages(browser, response))

    def test_after_the_close_the_thread_stays_readable_without_a_form(
        self, contract, client_user, freelancer, agent
    ):
        from mediation import services as mediation

        dispute = dispute_at("proposed", contract, agent=agent)
        post(dispute, client_user, "Fine by me.")
        for party in (client_user, freelancer):
            mediation.resolution_answer(
                dispute=dispute, actor=party, accept=True, now=timezone.now()
            )

        page = browser_for(freelancer).get(self.page(dispute))

        assert b"Fine by me." in page.content
        assert self.send(dispute).encode() not in page.content
        assert b"no more messages" in page.content

    def test_a_file_is_never_kept(self, mediated, freelancer):
        response = browser_for(freelancer).post(
            self.send(mediated), {"text": "see attached", "file": pdf()}
        )

        assert response.status_code == 302
        message = DisputeMessage.objects.get()
        assert message.text == "see attached"
        assert not mediated.evidence.exists()


class TestStaffCasePages:
    def case_page(self, dispute, queue="mediation_mediationqueueitem"):
        return reverse(f"admin:{queue}_change", args=[dispute.pk])

    def test_the_assigned_agent_reads_and_replies_on_the_case_page(
        self, mediated, agent, freelancer
    ):
        post(mediated, freelancer, "Please look at the report.")
        browser = browser_for(agent)

        page = browser.get(self.case_page(mediated))
        assert b"Please look at the report." in page.content
        response = browser.post(
            reverse("admin:mediation_mediationqueueitem_message", args=[mediated.pk]),
            {"text": "I have."},
        )

        assert response.status_code == 302
        assert DisputeMessage.objects.filter(author=agent, role="agent").exists()
        reads = AuditEntry.objects.filter(kind=AuditEntry.Kind.READ, user=agent, name="messages")
        assert reads.exists()

    def test_another_agent_sees_no_thread_and_cannot_post(self, mediated, other_agent, freelancer):
        post(mediated, freelancer, "Please look at the report.")
        browser = browser_for(other_agent)

        page = browser.get(self.case_page(mediated))
        assert b"Please look at the report." not in page.content
        response = browser.post(
            reverse("admin:mediation_mediationqueueitem_message", args=[mediated.pk]),
            {"text": "hi"},
        )
        assert response.status_code == 403
        assert DisputeMessage.objects.count() == 1

    def test_the_arbitrator_replies_on_the_arbitration_case_page(self, arbitrated, arbitrator):
        browser = browser_for(arbitrator)

        page = browser.get(self.case_page(arbitrated, "arbitration_arbitrationqueueitem"))
        assert b"Send message" in page.content
        response = browser.post(
            reverse("admin:arbitration_arbitrationqueueitem_message", args=[arbitrated.pk]),
            {"text": "Both, send your dates."},
        )

        assert response.status_code == 302
        assert DisputeMessage.objects.get().role == "arbitrator"
