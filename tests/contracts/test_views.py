from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts import services
from contracts.models import Contract, LedgerTransaction, Milestone, Submission, SubmissionFile
from tests.kit import (
    PASSWORD,
    PDF_BYTES,
    ContractFactory,
    UserFactory,
    agent,
    browser_for,
    make_milestone,
    reload,
    shown_messages,
)

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def submit_with_file(milestone: Milestone, *, name="report.pdf", content=PDF_BYTES):
    return services.milestone_submit(
        milestone=milestone,
        actor=milestone.contract.freelancer,
        message="The report is attached.",
        files=[upload(name, content, "application/pdf")],
        now=timezone.now(),
    )


class TestLoginPage:
    def test_shows_a_form_with_labelled_inputs(self, client):
        response = client.get(reverse("login"))

        assert response.status_code == 200
        assert b'<label for="id_username"' in response.content
        assert b'<label for="id_password"' in response.content
        assert b"csrfmiddlewaretoken" in response.content

    def test_logs_a_user_in_and_lands_on_the_contract_history(self, client, client_user):
        response = client.post(
            reverse("login"), {"username": "carol-client", "password": PASSWORD}, follow=True
        )

        assert response.redirect_chain[-1][0] == reverse("contracts:history")
        assert response.context["user"] == client_user

    def test_refuses_a_wrong_password_with_a_message(self, client, client_user):
        response = client.post(reverse("login"), {"username": "carol-client", "password": "nope"})

        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
        assert "_auth_user_id" not in client.session

    def test_the_header_offers_logout_as_a_post_form(self, client_user):
        browser = browser_for(client_user)

        response = browser.get(reverse("contracts:history"))

        html = response.content.decode()
        assert f'<form method="post" action="{reverse("logout")}"' in html
        assert "carol-client" in html

    def test_logging_out_ends_the_session(self, client_user):
        browser = browser_for(client_user)

        response = browser.post(reverse("logout"))

        assert response.status_code == 302
        assert "_auth_user_id" not in browser.session


class TestPagesNeedLogin:
    def test_the_root_redirects_to_the_contract_history(self, client):
        response = client.get("/")

        assert response.status_code == 302
        assert response["Location"] == reverse("contracts:history")

    @pytest.mark.parametrize("name", ["contracts:history", "contracts:new"])
    def test_an_anonymous_visitor_is_sent_to_the_login_page(self, client, name):
        response = client.get(reverse(name))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_an_anonymous_action_moves_nothing(self, client, contract):
        milestone = make_milestone(contract)

        response = client.post(reverse("contracts:milestone-fund", args=[milestone.pk]))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert reload(milestone).status == Milestone.Status.PENDING


class TestLayout:
    def test_shows_the_admin_link_only_to_staff(self, client_user):
        staff = UserFactory(username="stella-staff", is_staff=True)

        ordinary = browser_for(client_user).get(reverse("contracts:history"))
        as_staff = browser_for(staff).get(reverse("contracts:history"))

        assert reverse("admin:index").encode() not in ordinary.content
        assert reverse("admin:index").encode() in as_staff.content
        assert reverse("api-docs").encode() in ordinary.content

    def test_sends_the_csrf_token_with_htmx_requests(self, client_user):
        response = browser_for(client_user).get(reverse("contracts:history"))

        assert b'hx-headers=\'{"X-CSRFToken": "' in response.content
        assert b"js/htmx.min.js" in response.content

    def test_warns_a_suspended_user_that_they_can_only_read(self, contract, client_user):
        make_milestone(contract)
        client_user.suspended_at = timezone.now()
        client_user.save(update_fields=["suspended_at"])

        response = browser_for(client_user).get(contract.get_absolute_url())

        assert b"Your account is suspended" in response.content
        assert b"milestones/" not in response.content  # no action forms
        assert response.context["milestone_form"] is None


class TestContractHistory:
    def test_lists_contracts_as_client_and_as_freelancer_but_not_others(self, client_user):
        hiring = ContractFactory(client=client_user, title="Logo for Carol")
        hired = ContractFactory(freelancer=client_user, title="Carol writes copy")
        ContractFactory(title="Someone else's deal")

        response = browser_for(client_user).get(reverse("contracts:history"))

        rows = {row.contract.pk: row for row in response.context["rows"]}
        assert set(rows) == {hiring.pk, hired.pk}
        assert rows[hiring.pk].role == "client"
        assert rows[hiring.pk].other_party == hiring.freelancer
        assert rows[hired.pk].role == "freelancer"
        assert rows[hired.pk].other_party == hired.client
        assert b"Someone else" not in response.content

    def test_shows_each_milestone_with_status_money_and_next_step(self, contract, freelancer):
        make_milestone(contract, title="Wireframes", amount="500.00", funded=True)
        make_milestone(contract, title="Build", amount="1250.50")

        response = browser_for(freelancer).get(reverse("contracts:history"))

        html = response.content.decode()
        assert "Wireframes" in html and "Build" in html
        assert "Funded" in html and "Awaiting funding" in html
        assert "500.00 USD" in html and "1250.50 USD" in html and "0.00 USD" in html
        assert "Submit work" in html
        assert "Waiting for the client to fund" in html

    def test_hints_the_client_to_fund_and_then_to_release(self, contract, client_user):
        make_milestone(contract, title="Pending one")
        make_milestone(contract, title="Submitted one", submitted=True)

        response = browser_for(client_user).get(reverse("contracts:history"))

        hints = [item.hint for item in response.context["rows"][0].milestones]
        assert hints == ["Fund", "Release"]

    def test_uses_the_same_number_of_queries_for_3_or_30_contracts_in_pages_of_20(
        self, client_user
    ):
        def add_contracts(count):
            for _ in range(count):
                contract = ContractFactory(client=client_user)
                make_milestone(contract, funded=True)
                make_milestone(contract)

        add_contracts(3)
        browser = browser_for(client_user)
        browser.get(reverse("contracts:history"))  # warm the session
        with CaptureQueriesContext(connection) as few:
            browser.get(reverse("contracts:history"))
        few = len(few.captured_queries)  # the next request resets the connection's query log
        add_contracts(27)

        browser.get(
            reverse("contracts:history")
        )  # warm the cache: the new rows may have notified the user
        with CaptureQueriesContext(connection) as many:
            response = browser.get(reverse("contracts:history"))

        assert len(response.context["rows"]) == 20
        assert len(many.captured_queries) == few > 0

    def test_stays_within_a_fixed_query_budget(self, client_user, django_assert_max_num_queries):
        for _ in range(30):
            make_milestone(ContractFactory(client=client_user), funded=True)
        browser = browser_for(client_user)

        # The session (from the cache), the user and their roles, the waiting contracts, the
        # filters' counts, the page, its milestones, the unread notifications.
        with django_assert_max_num_queries(8):
            response = browser.get(reverse("contracts:history"))

        assert len(response.context["rows"]) == 20

    def test_says_so_when_there_are_no_contracts(self, stranger):
        response = browser_for(stranger).get(reverse("contracts:history"))

        assert b"No contracts yet" in response.content


class TestContractDetail:
    def test_shows_milestones_with_amount_escrow_and_due_date(self, contract, client_user):
        services.milestone_create(
            contract=contract,
            actor=client_user,
            title="Design",
            amount="500.00",
            due_date=date(2031, 3, 14),
            now=timezone.now(),
        )

        response = browser_for(client_user).get(contract.get_absolute_url())

        html = response.content.decode()
        assert response.status_code == 200
        assert "Design" in html
        assert "500.00 USD" in html and "0.00 USD" in html
        assert "14 Mar 2031" in html
        assert "Awaiting funding" in html

    def test_offers_the_client_fund_and_add_milestone_but_not_submit(self, contract, client_user):
        pending = make_milestone(contract, title="Pending")
        funded = make_milestone(contract, title="Funded", funded=True)

        response = browser_for(client_user).get(contract.get_absolute_url())

        html = response.content.decode()
        assert reverse("contracts:milestone-fund", args=[pending.pk]) in html
        assert reverse("contracts:milestone-release", args=[funded.pk]) in html
        assert reverse("contracts:milestone-fund", args=[funded.pk]) not in html
        assert reverse("contracts:milestone-new", args=[contract.pk]) in html
        assert "/submit/" not in html

    def test_offers_the_freelancer_a_multipart_submit_form_only(self, contract, freelancer):
        pending = make_milestone(contract, title="Pending")
        funded = make_milestone(contract, title="Funded", funded=True)

        response = browser_for(freelancer).get(contract.get_absolute_url())

        html = response.content.decode()
        assert reverse("contracts:milestone-submit", args=[funded.pk]) in html
        assert 'enctype="multipart/form-data"' in html
        assert f'<label for="submit-{funded.pk}-message"' in html
        assert reverse("contracts:milestone-fund", args=[pending.pk]) not in html
        assert "/release/" not in html
        assert response.context["milestone_form"] is None

    def test_lists_submitted_files_with_download_link_and_sha256(self, contract, freelancer):
        milestone = make_milestone(contract, funded=True)
        submission = submit_with_file(milestone)
        stored = submission.files.get()

        response = browser_for(freelancer).get(contract.get_absolute_url())

        html = response.content.decode()
        assert "The report is attached." in html
        assert stored.get_absolute_url() in html
        assert stored.sha256 in html
        assert "report.pdf" in html

    def test_shows_times_in_the_users_time_zone(self, contract, client_user):
        client_user.time_zone = "Asia/Tokyo"
        client_user.save(update_fields=["time_zone"])
        local = timezone.localtime(contract.created_at, ZoneInfo("Asia/Tokyo"))

        response = browser_for(client_user).get(contract.get_absolute_url())

        assert f"{local:%H:%M} JST".encode() in response.content

    def test_shows_when_submitted_work_is_released_automatically(self, contract, client_user):
        client_user.time_zone = "America/New_York"
        client_user.save(update_fields=["time_zone"])
        milestone = make_milestone(contract, submitted=True)
        due = timezone.localtime(milestone.auto_release_due_at, ZoneInfo("America/New_York"))

        response = browser_for(client_user).get(contract.get_absolute_url())

        html = response.content.decode()
        assert "otherwise the escrow is released to frank-freelancer automatically" in html
        assert f"{due:%H:%M} E" in html  # EST or EDT
        assert "data-countdown" in html

    def test_is_404_for_someone_who_is_not_a_party(self, contract, stranger):
        response = browser_for(stranger).get(contract.get_absolute_url())

        assert response.status_code == 404

    def test_uses_the_same_number_of_queries_for_2_or_12_milestones(self, contract, freelancer):
        def add_milestones(count):
            for _ in range(count):
                submit_with_file(make_milestone(contract, funded=True))

        add_milestones(2)
        browser = browser_for(freelancer)
        browser.get(contract.get_absolute_url())
        with CaptureQueriesContext(connection) as few:
            browser.get(contract.get_absolute_url())
        few = len(few.captured_queries)  # read now: the next request resets the query log
        add_milestones(10)

        browser.get(
            contract.get_absolute_url()
        )  # warm the cache: the new rows may have notified the user
        with CaptureQueriesContext(connection) as many:
            browser.get(contract.get_absolute_url())
        many = len(many.captured_queries)

        assert many == few > 0


class TestNewContractView:
    def test_opens_a_contract_and_shows_it(self, client_user, freelancer):
        browser = browser_for(client_user)

        response = browser.post(
            reverse("contracts:new"),
            {"title": "Landing page", "freelancer": "frank-freelancer", "currency": "EUR"},
            follow=True,
        )

        contract = Contract.objects.get()
        assert (contract.client, contract.freelancer, contract.currency) == (
            client_user,
            freelancer,
            "EUR",
        )
        assert response.redirect_chain[-1][0] == contract.get_absolute_url()
        assert shown_messages(response) == [
            "Contract “Landing page” opened with frank-freelancer. Add its first milestone below."
        ]

    def test_offers_the_configured_currencies(self, client_user, settings):
        settings.CURRENCIES = {"USD": 2, "JPY": 0}

        response = browser_for(client_user).get(reverse("contracts:new"))

        assert response.context["form"].fields["currency"].choices == [
            ("USD", "USD"),
            ("JPY", "JPY"),
        ]
        assert b'<label for="id_freelancer"' in response.content

    def test_reports_an_unknown_username_on_the_field(self, client_user):
        response = browser_for(client_user).post(
            reverse("contracts:new"),
            {"title": "Landing page", "freelancer": "nobody", "currency": "USD"},
        )

        assert response.status_code == 400
        assert response.context["form"].errors["freelancer"] == ["There is no user named “nobody”."]
        assert Contract.objects.count() == 0

    def test_reports_hiring_yourself_as_an_error(self, client_user):
        response = browser_for(client_user).post(
            reverse("contracts:new"),
            {"title": "Landing page", "freelancer": "carol-client", "currency": "USD"},
        )

        assert response.status_code == 400
        assert shown_messages(response) == []
        assert response.context["form"].non_field_errors() == ["You cannot hire yourself."]
        assert response.context["form"].errors["freelancer"] == [
            "Choose another user as the freelancer."
        ]
        assert response.content.decode().count("You cannot hire yourself.") == 1
        assert Contract.objects.count() == 0


class TestAddMilestoneView:
    def test_adds_a_milestone_awaiting_funding(self, contract, client_user):
        response = browser_for(client_user).post(
            reverse("contracts:milestone-new", args=[contract.pk]),
            {
                "title": "Design",
                "description": "Three concepts",
                "amount": "500.00",
                "due_date": "2031-03-14",
            },
            follow=True,
        )

        milestone = contract.milestones.get()
        assert (milestone.title, milestone.amount, milestone.due_date) == (
            "Design",
            Decimal("500.00"),
            date(2031, 3, 14),
        )
        assert milestone.status == Milestone.Status.PENDING
        assert shown_messages(response) == [
            "Added milestone “Design” of 500.00 USD. Fund it to let the work start."
        ]

    @pytest.mark.parametrize(
        ("amount", "error"),
        [
            ("10.001", "USD amounts have at most 2 decimal places."),
            ("-5", "The amount cannot be negative."),
            ("0", "The amount must be greater than zero."),
            ("lots", "Enter an amount such as 250.00."),
        ],
    )
    def test_shows_the_amount_error_on_the_form_and_adds_nothing(
        self, contract, client_user, amount, error
    ):
        response = browser_for(client_user).post(
            reverse("contracts:milestone-new", args=[contract.pk]),
            {"title": "Design", "amount": amount},
        )

        assert response.status_code == 400
        assert response.context["milestone_form"].errors["amount"] == [error]
        assert shown_messages(response) == []
        assert response.content.decode().count(error) == 1
        assert Milestone.objects.count() == 0

    def test_tells_the_freelancer_only_the_client_can_add_one(self, contract, freelancer):
        response = browser_for(freelancer).post(
            reverse("contracts:milestone-new", args=[contract.pk]),
            {"title": "Design", "amount": "500"},
            follow=True,
        )

        assert shown_messages(response) == ["Only the contract's client can take this action."]
        assert Milestone.objects.count() == 0

    def test_is_404_for_a_stranger(self, contract, stranger):
        response = browser_for(stranger).post(
            reverse("contracts:milestone-new", args=[contract.pk]),
            {"title": "Design", "amount": "500"},
        )

        assert response.status_code == 404
        assert Milestone.objects.count() == 0


class TestFundView:
    def test_moves_the_amount_into_escrow_and_says_so(self, contract, client_user):
        milestone = make_milestone(contract, title="Design", amount="500.00")

        response = browser_for(client_user).post(
            reverse("contracts:milestone-fund", args=[milestone.pk]), follow=True
        )

        milestone = reload(milestone)
        assert milestone.status == Milestone.Status.FUNDED
        assert milestone.escrow_balance == Decimal("500.00")
        assert response.redirect_chain[-1][0] == contract.get_absolute_url()
        assert shown_messages(response) == ["Funded 500.00 USD into escrow for “Design”."]
        assert 'role="status"' in response.content.decode()

    def test_refuses_to_fund_twice_and_moves_nothing(self, contract, client_user):
        milestone = make_milestone(contract, funded=True)
        transactions = LedgerTransaction.objects.count()

        response = browser_for(client_user).post(
            reverse("contracts:milestone-fund", args=[milestone.pk]), follow=True
        )

        assert shown_messages(response) == ["This milestone is funded; it cannot become funded."]
        assert 'role="alert"' in response.content.decode()
        assert LedgerTransaction.objects.count() == transactions
        assert reload(milestone).escrow_balance == Decimal("500.00")

    def test_tells_the_freelancer_only_the_client_can_fund(self, contract, freelancer):
        milestone = make_milestone(contract)

        response = browser_for(freelancer).post(
            reverse("contracts:milestone-fund", args=[milestone.pk]), follow=True
        )

        assert shown_messages(response) == ["Only the contract's client can take this action."]
        assert reload(milestone).status == Milestone.Status.PENDING
        assert LedgerTransaction.objects.count() == 0

    def test_refuses_a_suspended_client(self, contract, client_user):
        milestone = make_milestone(contract)
        client_user.suspended_at = timezone.now()
        client_user.save(update_fields=["suspended_at"])

        response = browser_for(client_user).post(
            reverse("contracts:milestone-fund", args=[milestone.pk]), follow=True
        )

        assert shown_messages(response) == [
            "Your account is suspended: you can read, but not take actions."
        ]
        assert LedgerTransaction.objects.count() == 0

    def test_is_404_for_a_stranger(self, contract, stranger):
        milestone = make_milestone(contract)

        response = browser_for(stranger).post(
            reverse("contracts:milestone-fund", args=[milestone.pk])
        )

        assert response.status_code == 404
        assert LedgerTransaction.objects.count() == 0


class TestSubmitView:
    def test_records_the_work_with_its_files(self, contract, freelancer):
        milestone = make_milestone(contract, title="Design", funded=True)

        response = browser_for(freelancer).post(
            reverse("contracts:milestone-submit", args=[milestone.pk]),
            {
                "message": "Both files attached.",
                "files": [
                    upload("report.pdf", PDF_BYTES, "application/pdf"),
                    upload("notes.txt", b"plain notes\n", "text/plain"),
                ],
            },
            follow=True,
        )

        assert reload(milestone).status == Milestone.Status.SUBMITTED
        submission = Submission.objects.get()
        assert submission.message == "Both files attached."
        assert sorted(submission.files.values_list("name", "content_type")) == [
            ("notes.txt", "text/plain"),
            ("report.pdf", "application/pdf"),
        ]
        [message] = shown_messages(response)
        assert message.startswith(
            "Submitted your work for “Design” with 2 files. Unless carol-client releases the "
            "payment or ends the contract first, it is released to you automatically on "
        )

    def test_records_work_without_files(self, contract, freelancer):
        milestone = make_milestone(contract, funded=True)

        browser_for(freelancer).post(
            reverse("contracts:milestone-submit", args=[milestone.pk]), {"message": "Done."}
        )

        assert reload(milestone).status == Milestone.Status.SUBMITTED
        assert SubmissionFile.objects.count() == 0

    def test_refuses_a_file_whose_content_is_not_allowed_and_stores_nothing(
        self, contract, freelancer, settings
    ):
        milestone = make_milestone(contract, funded=True)

        response = browser_for(freelancer).post(
            reverse("contracts:milestone-submit", args=[milestone.pk]),
            {"message": "Here it is.", "files": [upload("x.pdf", bytes(range(256)) * 4)]},
        )

        assert response.status_code == 400
        error = "This file is not a PDF, PNG, JPEG, plain text or ZIP file."
        assert shown_messages(response) == []
        assert response.content.decode().count(error) == 1
        form = response.context["panels"][0].submit_form
        assert form.errors["files"] == [error]
        assert form["message"].value() == "Here it is."
        assert reload(milestone).status == Milestone.Status.FUNDED
        assert Submission.objects.count() == 0
        stored = settings.PRIVATE_MEDIA_ROOT / "submissions"
        assert not stored.exists() or not any(stored.iterdir())

    def test_asks_for_a_message(self, contract, freelancer):
        milestone = make_milestone(contract, funded=True)

        response = browser_for(freelancer).post(
            reverse("contracts:milestone-submit", args=[milestone.pk]), {"message": ""}
        )

        assert response.status_code == 400
        assert response.context["panels"][0].submit_form.errors["message"] == [
            "This field is required."
        ]
        assert Submission.objects.count() == 0

    def test_refuses_work_on_a_milestone_not_yet_funded(self, contract, freelancer):
        milestone = make_milestone(contract)

        response = browser_for(freelancer).post(
            reverse("contracts:milestone-submit", args=[milestone.pk]),
            {"message": "Too early."},
            follow=True,
        )

        assert shown_messages(response) == [
            "This milestone is pending; it cannot become submitted."
        ]
        assert reload(milestone).status == Milestone.Status.PENDING
        assert Submission.objects.count() == 0

    def test_tells_the_client_only_the_freelancer_can_submit(self, contract, client_user):
        milestone = make_milestone(contract, funded=True)

        response = browser_for(client_user).post(
            reverse("contracts:milestone-submit", args=[milestone.pk]),
            {"message": "Mine."},
            follow=True,
        )

        assert shown_messages(response) == ["Only the contract's freelancer can take this action."]
        assert Submission.objects.count() == 0

    def test_is_404_for_a_stranger(self, contract, stranger):
        milestone = make_milestone(contract, funded=True)

        response = browser_for(stranger).post(
            reverse("contracts:milestone-submit", args=[milestone.pk]), {"message": "Hi."}
        )

        assert response.status_code == 404
        assert Submission.objects.count() == 0


class TestSubmissionFileDownload:
    @pytest.mark.parametrize("party", ["client_user", "freelancer"])
    def test_sends_the_file_as_an_attachment_to_each_party(self, contract, party, request):
        stored = submit_with_file(make_milestone(contract, funded=True)).files.get()
        user = request.getfixturevalue(party)

        response = browser_for(user).get(stored.get_absolute_url())

        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF_BYTES
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="work-{stored.pk}.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_is_404_for_a_stranger(self, contract, stranger):
        stored = submit_with_file(make_milestone(contract, funded=True)).files.get()

        response = browser_for(stranger).get(stored.get_absolute_url())

        assert response.status_code == 404

    def test_is_served_to_staff(self, contract):
        stored = submit_with_file(make_milestone(contract, funded=True)).files.get()
        staff = agent()  # roles are groups: a mediation agent reads the delivered work

        response = browser_for(staff).get(stored.get_absolute_url())

        assert response.status_code == 200

    def test_sends_anonymous_visitors_to_log_in(self, client, contract):
        stored = submit_with_file(make_milestone(contract, funded=True)).files.get()

        response = client.get(stored.get_absolute_url())

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


class TestReleaseView:
    def test_releases_everything_when_no_amount_is_given(self, contract, client_user):
        milestone = make_milestone(contract, title="Design", submitted=True)

        response = browser_for(client_user).post(
            reverse("contracts:milestone-release", args=[milestone.pk]),
            {"amount": ""},
            follow=True,
        )

        milestone = reload(milestone)
        assert milestone.status == Milestone.Status.RELEASED
        assert milestone.escrow_balance == Decimal("0.00")
        assert shown_messages(response) == ["Released 500.00 USD to frank-freelancer for “Design”."]
        assert b"Released" in response.content

    def test_releases_part_and_keeps_the_rest_in_escrow(self, contract, client_user):
        milestone = make_milestone(contract, title="Design", submitted=True)

        response = browser_for(client_user).post(
            reverse("contracts:milestone-release", args=[milestone.pk]),
            {"amount": "200.00"},
            follow=True,
        )

        milestone = reload(milestone)
        assert milestone.status == Milestone.Status.SUBMITTED
        assert milestone.escrow_balance == Decimal("300.00")
        assert shown_messages(response) == [
            "Released 200.00 USD to frank-freelancer for “Design”. 300.00 USD stays in escrow."
        ]

    @pytest.mark.parametrize(
        ("amount", "error"),
        [
            ("600.00", "Only 500.00 USD is held in escrow for this milestone."),
            ("1.001", "USD amounts have at most 2 decimal places."),
            ("-1", "The amount cannot be negative."),
            ("1e2", "Enter an amount such as 250.00."),
        ],
    )
    def test_shows_a_bad_amount_and_writes_no_ledger_row(
        self, contract, client_user, amount, error
    ):
        milestone = make_milestone(contract, submitted=True)
        transactions = LedgerTransaction.objects.count()

        response = browser_for(client_user).post(
            reverse("contracts:milestone-release", args=[milestone.pk]), {"amount": amount}
        )

        assert response.status_code == 400
        assert shown_messages(response) == []
        assert response.content.decode().count(error) == 1
        assert response.context["panels"][0].release_form.errors["amount"] == [error]
        assert LedgerTransaction.objects.count() == transactions
        assert reload(milestone).escrow_balance == Decimal("500.00")

    def test_refuses_a_milestone_that_is_not_funded(self, contract, client_user):
        milestone = make_milestone(contract)

        response = browser_for(client_user).post(
            reverse("contracts:milestone-release", args=[milestone.pk]),
            {"amount": ""},
            follow=True,
        )

        assert shown_messages(response) == ["This milestone is pending; it cannot become released."]
        assert LedgerTransaction.objects.count() == 0

    def test_tells_the_freelancer_only_the_client_can_release(self, contract, freelancer):
        milestone = make_milestone(contract, submitted=True)
        transactions = LedgerTransaction.objects.count()

        response = browser_for(freelancer).post(
            reverse("contracts:milestone-release", args=[milestone.pk]),
            {"amount": ""},
            follow=True,
        )

        assert shown_messages(response) == ["Only the contract's client can take this action."]
        assert LedgerTransaction.objects.count() == transactions

    def test_is_404_for_a_stranger(self, contract, stranger):
        milestone = make_milestone(contract, submitted=True)
        transactions = LedgerTransaction.objects.count()

        response = browser_for(stranger).post(
            reverse("contracts:milestone-release", args=[milestone.pk]), {"amount": ""}
        )

        assert response.status_code == 404
        assert LedgerTransaction.objects.count() == transactions


class TestActionUrls:
    @pytest.mark.parametrize("name", ["milestone-fund", "milestone-submit", "milestone-release"])
    def test_a_get_on_a_milestone_action_is_405(self, contract, client_user, name):
        milestone = make_milestone(contract)

        response = browser_for(client_user).get(reverse(f"contracts:{name}", args=[milestone.pk]))

        assert response.status_code == 405

    def test_a_get_on_add_milestone_is_405(self, contract, client_user):
        response = browser_for(client_user).get(
            reverse("contracts:milestone-new", args=[contract.pk])
        )

        assert response.status_code == 405

    @pytest.mark.parametrize("name", ["milestone-fund", "milestone-submit", "milestone-release"])
    def test_an_unknown_milestone_is_404(self, client_user, name):
        response = browser_for(client_user).post(reverse(f"contracts:{name}", args=[999999]))

        assert response.status_code == 404
