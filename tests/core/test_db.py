"""``core.db``: a query compiled once with stand-ins, and prepared once per connection."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from core import db
from tests.kit import UserFactory

pytestmark = pytest.mark.django_db

SOMEONE = -(2**53) + 101
SOME_TIME = datetime(1901, 1, 1, 1, 1, 1, 101, tzinfo=UTC)


def _joined_since(*, user_id, since):
    return User.objects.filter(pk=user_id, date_joined__gte=since).values("pk", "username")


JOINED = db.Compiled(_joined_since, {"user_id": SOMEONE, "since": SOME_TIME})


class TestCompiled:
    def test_runs_with_the_values_in_place_of_the_stand_ins(self):
        user = UserFactory(username="ann")

        columns, rows = JOINED.rows(
            "default", user_id=user.pk, since=datetime(2000, 1, 1, tzinfo=UTC)
        )

        assert columns == ("pk", "username")
        assert rows == [(user.pk, "ann")]

    def test_finds_nothing_when_the_values_exclude_the_row(self):
        user = UserFactory()

        _columns, rows = JOINED.rows(
            "default", user_id=user.pk, since=datetime(2999, 1, 1, tzinfo=UTC)
        )

        assert rows == []

    def test_builds_the_query_once(self):
        built = []

        def build(*, user_id):
            built.append(user_id)
            return User.objects.filter(pk=user_id).values("pk")

        compiled = db.Compiled(build, {"user_id": SOMEONE})
        for user in (UserFactory(), UserFactory()):
            assert compiled.rows("default", user_id=user.pk)[1] == [(user.pk,)]

        assert built == [SOMEONE]

    def test_keeps_a_list_parameter_as_it_is(self):
        ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
        compiled = db.Compiled(
            lambda user_id: User.objects.filter(pk=user_id, username__any=["ann", "cy"]).values(
                "pk"
            ),
            {"user_id": SOMEONE},
        )

        assert compiled.rows("default", user_id=ann.pk)[1] == [(ann.pk,)]
        assert compiled.rows("default", user_id=bob.pk)[1] == []

    def test_refuses_a_stand_in_that_does_not_reach_the_sql(self):
        compiled = db.Compiled(lambda user_id: User.objects.values("pk"), {"user_id": SOMEONE})

        with pytest.raises(RuntimeError, match="stand-ins"):
            compiled.rows("default", user_id=1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # each test opens a new connection
class TestPreparedOnPostgreSQL:
    def _prepared(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    def test_prepares_once_per_connection_and_executes_after(self):
        users = [UserFactory(), UserFactory()]
        since = datetime(2000, 1, 1, tzinfo=UTC)
        connection.close()  # a new connection has nothing prepared

        with CaptureQueriesContext(connection) as first:
            assert JOINED.rows("default", user_id=users[0].pk, since=since)[1][0][0] == users[0].pk
        with CaptureQueriesContext(connection) as second:
            assert JOINED.rows("default", user_id=users[1].pk, since=since)[1][0][0] == users[1].pk

        # One round trip each time: the first prepares and executes in one.
        (sent,) = [q["sql"] for q in first.captured_queries]
        assert sent.startswith("PREPARE ") and "; EXECUTE " in sent
        assert [q["sql"].split()[0] for q in second.captured_queries] == ["EXECUTE"]
        assert sum("accounts_user" in s for s in self._prepared()) == 1

    def test_prepares_again_on_a_new_connection(self):
        user = UserFactory()
        since = datetime(2000, 1, 1, tzinfo=UTC)
        JOINED.rows("default", user_id=user.pk, since=since)
        connection.close()

        assert JOINED.rows("default", user_id=user.pk, since=since)[1][0][0] == user.pk

    def test_sends_plain_queries_when_prepared_statements_are_off(self, settings):
        settings.DB_PREPARED_STATEMENTS = False
        user = UserFactory()
        connection.close()

        with CaptureQueriesContext(connection) as sent:
            rows = JOINED.rows("default", user_id=user.pk, since=datetime(2000, 1, 1, tzinfo=UTC))

        assert rows[1][0][0] == user.pk
        assert [q["sql"].split()[0] for q in sent.captured_queries] == ["SELECT"]

    def test_runs_a_query_without_parameters(self):
        user = UserFactory()
        compiled = db.Compiled(lambda: User.objects.values("pk").order_by("pk"), {})

        assert (user.pk,) in compiled.rows("default")[1]
        assert (user.pk,) in compiled.rows("default")[1]

    def test_keeps_a_literal_percent_sign(self):
        from django.db.models.expressions import RawSQL

        user = UserFactory()
        compiled = db.Compiled(
            lambda user_id: (
                User.objects.filter(pk=user_id)
                .annotate(share=RawSQL("'100%%'", ()))
                .values("pk", "share")
            ),
            {"user_id": SOMEONE},
        )

        assert compiled.rows("default", user_id=user.pk)[1] == [(user.pk, "100%")]
        assert compiled.rows("default", user_id=user.pk)[1] == [(user.pk, "100%")]
