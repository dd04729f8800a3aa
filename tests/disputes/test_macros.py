"""Macros: reusable texts with placeholders, kept by Support, inserted on the case pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from disputes import macros
from disputes.models import Macro, TimelineEvent
from tests import kit
from tests.factories import declined_dispute

pytestmark = pytest.mark.django_db

MACROS = reverse("admin:disputes_macro_changelist")
ADD = reverse("admin:disputes_macro_add")


def case_url(dispute):
    return reverse("admin:mediation_mediationqueueitem_change", args=[dispute.pk])


@pytest.fixture
def dispute():
    contract = kit.ContractFactory(
        client=kit.UserFactory(username="carol"),
        freelancer=kit.UserFactory(username="frank"),
        title="Shop front",
    )
    return declined_dispute(contract)


class TestRender:
    def test_fills_the_placeholders_for_the_case(self, dispute):
        text = (
            "Dear {freelancer} and {client}: {dispute} on “{contract}” is about {amount} "
            "({currency}); the service level runs to {deadline}."
        )

        rendered = macros.render(text, dispute)

        due = dispute.service_level_due_at.strftime("%Y-%m-%d %H:%M")
        assert rendered == (
            f"Dear frank and carol: Dispute #{dispute.pk} on “Shop front” is about 300.00 USD "
            f"(USD); the service level runs to {due} UTC."
        )

    def test_leaves_unknown_placeholders_visible(self, dispute):
        rendered = macros.render("Hi {freelancer}, see {nonsense} and {Client} {", dispute)

        assert rendered == "Hi frank, see {nonsense} and {Client} {"


class TestMacroAdmin:
    def test_support_adds_a_macro(self, client):
        client.force_login(kit.support("sue"))

        response = client.post(
            ADD, {"name": "Ask for files", "kind": "NOTE", "text": "Asked {freelancer}."}
        )

        assert response.status_code == 302
        assert Macro.objects.get().text == "Asked {freelancer}."

    def test_an_agent_does_not_edit_them(self, client):
        client.force_login(kit.agent("ann"))

        assert client.get(MACROS).status_code == 403
        assert client.post(ADD, {"name": "x", "kind": "NOTE", "text": "x"}).status_code == 403


class TestOnTheCasePage:
    def test_the_menu_offers_the_macros_rendered_for_the_case(self, client, dispute):
        Macro.objects.create(name="Opening", kind=Macro.Kind.NOTE, text="Hello {client}.")
        client.force_login(kit.agent("ann"))

        page = client.get(case_url(dispute)).content.decode()

        assert 'data-testid="macros"' in page
        assert 'data-macro-text="Hello carol."' in page
        assert "js/macros.js" in page

    def test_the_macro_link_prefills_its_form_without_javascript(self, client, dispute):
        macro = Macro.objects.create(
            name="Split", kind=Macro.Kind.RATIONALE, text="{freelancer} delivered half of {amount}."
        )
        client.force_login(kit.agent("ann"))

        response = client.get(case_url(dispute), {"macro": macro.pk})

        form = response.context["forms"]["propose"]
        assert form.initial["rationale"] == "frank delivered half of 300.00 USD."
        assert "frank delivered half of 300.00 USD.</textarea>" in response.content.decode()

    def test_the_sent_text_is_what_the_agent_edited(self, client, dispute):
        Macro.objects.create(name="Note", kind=Macro.Kind.NOTE, text="Called {client}.")
        agent = kit.agent("ann")
        client.force_login(agent)
        note_url = reverse("admin:mediation_mediationqueueitem_note", args=[dispute.pk])

        client.post(note_url, {"text": "Called carol twice."})

        note = TimelineEvent.objects.filter(dispute=dispute, kind="INTERNAL_NOTE").get()
        assert note.note == "Called carol twice."

    def test_an_unknown_macro_id_prefills_nothing(self, client, dispute):
        client.force_login(kit.agent("ann"))

        response = client.get(case_url(dispute), {"macro": "999"})

        assert response.status_code == 200
        assert not response.context["forms"]["propose"].initial.get("rationale")
