"""Make the database itself guard the ledger on PostgreSQL.

* Rows of ``contracts_ledgertransaction`` and ``contracts_entry`` cannot be updated or deleted.
* At commit, every new transaction, and every transaction that gained entries, must have two or more of them, summing to
  zero, all on accounts of the transaction's currency (a deferred constraint trigger, so the
  entries of one transaction can be inserted one by one before the check runs).

Other databases get the same guarantees from ``contracts.ledger`` and the models alone.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER ledgertransaction_append_only
    BEFORE UPDATE OR DELETE ON contracts_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();

CREATE TRIGGER entry_append_only
    BEFORE UPDATE OR DELETE ON contracts_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();

CREATE FUNCTION ledger_check_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx_id bigint;
    legs integer;
    total numeric;
    foreign_legs integer;
BEGIN
    IF TG_TABLE_NAME = 'contracts_entry' THEN
        tx_id := NEW.transaction_id;
    ELSE
        tx_id := NEW.id;
    END IF;
    SELECT count(e.id), coalesce(sum(e.amount), 0),
           count(e.id) FILTER (WHERE a.currency <> t.currency)
      INTO legs, total, foreign_legs
      FROM contracts_ledgertransaction t
      LEFT JOIN contracts_entry e ON e.transaction_id = t.id
      LEFT JOIN contracts_account a ON a.id = e.account_id
     WHERE t.id = tx_id
     GROUP BY t.id;
    IF legs < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: % entries summing to %',
            tx_id, legs, total USING ERRCODE = 'check_violation';
    END IF;
    IF foreign_legs > 0 THEN
        RAISE EXCEPTION 'ledger transaction % has entries in another currency',
            tx_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER entry_balanced_at_commit
    AFTER INSERT ON contracts_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_transaction();

CREATE CONSTRAINT TRIGGER ledgertransaction_balanced_at_commit
    AFTER INSERT ON contracts_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_transaction();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS ledgertransaction_balanced_at_commit ON contracts_ledgertransaction;
DROP TRIGGER IF EXISTS entry_balanced_at_commit ON contracts_entry;
DROP FUNCTION IF EXISTS ledger_check_transaction();
DROP TRIGGER IF EXISTS entry_append_only ON contracts_entry;
DROP TRIGGER IF EXISTS ledgertransaction_append_only ON contracts_ledgertransaction;
DROP FUNCTION IF EXISTS ledger_reject_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
