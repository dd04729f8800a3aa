"""Make the database itself guard the ledger on PostgreSQL.

* Rows of ``contracts_ledgertransaction`` and ``contracts_entry`` cannot be updated or deleted.
* Entries can be added only to a ledger transaction written in the same database transaction
  (each transaction row records the database transaction that wrote it, in ``db_txid``), so a
  committed ledger transaction is final; and only on accounts of that transaction's currency
  (one check per INSERT statement).
* At commit, every new ledger transaction must have two or more entries summing to zero: a
  deferred constraint trigger checks each one once.

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

ALTER TABLE contracts_ledgertransaction
    ADD COLUMN db_txid bigint NOT NULL DEFAULT txid_current();

CREATE FUNCTION ledger_entries_join_new_transactions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM inserted i
          JOIN contracts_ledgertransaction t ON t.id = i.transaction_id
         WHERE t.db_txid <> txid_current()
    ) THEN
        RAISE EXCEPTION 'entries can be added only to a ledger transaction written in the same '
            'database transaction' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM inserted i
          JOIN contracts_ledgertransaction t ON t.id = i.transaction_id
          JOIN contracts_account a ON a.id = i.account_id
         WHERE a.currency <> t.currency
    ) THEN
        RAISE EXCEPTION 'a ledger transaction has entries in another currency'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER entry_joins_a_new_transaction
    AFTER INSERT ON contracts_entry
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_join_new_transactions();

CREATE FUNCTION ledger_check_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    legs integer;
    total numeric;
BEGIN
    SELECT count(*), coalesce(sum(amount), 0) INTO legs, total
      FROM contracts_entry WHERE transaction_id = NEW.id;
    IF legs < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: % entries summing to %',
            NEW.id, legs, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledgertransaction_balanced_at_commit
    AFTER INSERT ON contracts_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_transaction();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS ledgertransaction_balanced_at_commit ON contracts_ledgertransaction;
DROP FUNCTION IF EXISTS ledger_check_transaction();
DROP TRIGGER IF EXISTS entry_joins_a_new_transaction ON contracts_entry;
DROP FUNCTION IF EXISTS ledger_entries_join_new_transactions();
ALTER TABLE contracts_ledgertransaction DROP COLUMN IF EXISTS db_txid;
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
