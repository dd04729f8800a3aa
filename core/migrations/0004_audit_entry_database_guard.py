"""Make the database itself keep the audit log append-only on PostgreSQL.

Rows of ``core_auditentry`` cannot be updated or deleted: a trigger raises on any UPDATE or
DELETE, whoever sends it. Other databases get the same guarantee from the model and its
queryset alone (``core.models.AuditEntry``).
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION audit_entry_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER auditentry_append_only
    BEFORE UPDATE OR DELETE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_reject_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS auditentry_append_only ON core_auditentry;
DROP FUNCTION IF EXISTS audit_entry_reject_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_entry")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
