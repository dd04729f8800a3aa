"""What the database itself guarantees about the audit log: no UPDATE, no DELETE."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from core.models import AuditEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_auditentry SET description = 'Nothing happened'",
        "UPDATE core_auditentry SET user_id = user_id",
        "DELETE FROM core_auditentry",
    ],
)
def test_the_database_refuses_an_update_or_delete_written_in_sql(agent, statement):
    AuditEntry.objects.create(
        at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        user=agent,
        kind=AuditEntry.Kind.READ,
        name="case",
        description="Dispute #1",
    )

    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert AuditEntry.objects.get().description == "Dispute #1"
