"""Bulk-load ended contracts with OPEN refund requests, row for row as the services leave them.

Building 1,000,000 refund requests through ``contract_create`` → ``milestone_create`` →
``milestone_fund`` → ``contract_end`` would take hours, so :func:`load_refund_requests` writes the
same rows with ``INSERT … SELECT generate_series`` in one transaction. Per refund request (one
milestone each; ``contracts`` contracts share them in equal blocks), it writes what those services
write:

* a client and a freelancer per contract; the contract, ENDED;
* the client's FUNDING account (−E per milestone), the freelancer's EARNINGS account (+P per
  milestone) when the client paid part on ending, and the milestone's ESCROW account holding
  R = E − P;
* the milestone, HELD; its FUNDING transaction (funding −E, escrow +E) and, when P > 0, its
  RELEASE transaction (escrow −P, earnings +P), with their memos, actors and times;
* the refund request, OPEN, with ``response_due_at = ended_at + REFUND_REQUEST_RESPONSE_PERIOD``
  and the reminder columns the reminder sweep would have filled by ``now``;
* its REFUND_REQUESTED timeline event, and the notifications sent on the way (funded, released,
  refund requested, and the reminders), already e-mailed (``history``).

By default the ledger triggers of ``contracts/migrations/0002`` and the foreign keys stay on:
each loaded transaction is checked at commit like any other. ``unchecked`` skips them for the
million rows not yet due (see :func:`load_refund_requests`). Identity sequences are moved past
the explicit ids afterwards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

# Tables whose ids the loader chooses (the others take their identity defaults).
EXPLICIT_ID_TABLES = (
    "accounts_user",
    "contracts_account",
    "contracts_contract",
    "contracts_milestone",
    "contracts_ledgertransaction",
    "contracts_entry",
    "disputes_refundrequest",
)
LOADED_TABLES = (*EXPLICIT_ID_TABLES, "disputes_timelineevent", "accounts_notification")


@dataclass(frozen=True)
class Batch:
    """``cases`` refund requests on ``contracts`` contracts (``cases`` a multiple of it).

    Contract ``c`` (1-based) ended at ``first_end + (c − 1) × end_step``; its refund requests are
    due ``REFUND_REQUEST_RESPONSE_PERIOD`` later.
    """

    prefix: str
    cases: int
    contracts: int
    first_end: datetime
    end_step: timedelta
    escrowed: Decimal = Decimal("500.00")
    paid: Decimal = Decimal("200.00")
    # The refund request's REFUND_REQUESTED timeline event and the parties' inbox rows on the
    # way (funded, released, refund requested, reminders).
    history: bool = True

    @property
    def per_contract(self) -> int:
        return self.cases // self.contracts

    @property
    def refund(self) -> Decimal:
        return self.escrowed - self.paid


def _url_parts(name: str) -> tuple[str, str]:
    marker = 987654321
    url = reverse(name, kwargs={"pk": marker})
    before, after = url.split(str(marker))
    return before, after


def _bases(cursor) -> dict[str, int]:
    bases = {}
    for table in EXPLICIT_ID_TABLES:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        bases[table] = cursor.fetchone()[0]
    return bases


# Each statement sees: n cases, k contracts, m per contract, the id bases (ub, ab, cb, mb, tb,
# eb, rb), amounts E, P, R, and the contract's row (``ct``) for case i through
# ``ct.id = cb + (i - 1) / m + 1``.
CASES = """
FROM generate_series(1, %(n)s::int) AS i
JOIN contracts_contract ct ON ct.id = %(cb)s::bigint + (i - 1) / %(m)s::int + 1
"""

STATEMENTS = [
    # Users: client 2c − 1 and freelancer 2c of contract c.
    """
    INSERT INTO accounts_user (id, password, last_login, is_superuser, username, first_name,
        last_name, email, is_staff, is_active, date_joined, time_zone, suspended_at,
        suspension_reason)
    SELECT %(ub)s::bigint + 2 * c - r.off, '!bench', NULL, false,
           %(prefix)s || '-' || r.role || '-' || c, '', '',
           %(prefix)s || '-' || r.role || '-' || c || '@example.com', false, true,
           %(joined)s::timestamptz, 'UTC', NULL, ''
      FROM generate_series(1, %(k)s::int) AS c
     CROSS JOIN (VALUES ('client', 1), ('freelancer', 0)) AS r(role, off)
    """,
    """
    INSERT INTO contracts_contract (id, title, currency, status, created_at, ended_at, client_id,
        freelancer_id)
    SELECT %(cb)s::bigint + c, 'Contract ' || %(prefix)s || ' ' || c, 'USD', 'ENDED',
           %(first_end)s::timestamptz + (c - 1) * %(end_step)s::interval - interval '1 day',
           %(first_end)s::timestamptz + (c - 1) * %(end_step)s::interval,
           %(ub)s::bigint + 2 * c - 1, %(ub)s::bigint + 2 * c
      FROM generate_series(1, %(k)s::int) AS c
    """,
    # Accounts: FUNDING of contract c's client at ab + c, EARNINGS of its freelancer at
    # ab + k + c (only when the client paid part), ESCROW of case i at ab + 2k + i.
    """
    INSERT INTO contracts_account (id, kind, currency, balance, created_at, owner_id)
    SELECT %(ab)s::bigint + (ct.id - %(cb)s::bigint), 'FUNDING', 'USD',
           -%(E)s::numeric * %(m)s::int, ct.created_at, ct.client_id
      FROM contracts_contract ct
     WHERE ct.id BETWEEN %(cb)s::bigint + 1 AND %(cb)s::bigint + %(k)s::int
    """,
    """
    INSERT INTO contracts_account (id, kind, currency, balance, created_at, owner_id)
    SELECT %(ab)s::bigint + %(k)s::int + (ct.id - %(cb)s::bigint), 'EARNINGS', 'USD',
           %(P)s::numeric * %(m)s::int, ct.ended_at, ct.freelancer_id
      FROM contracts_contract ct
     WHERE ct.id BETWEEN %(cb)s::bigint + 1 AND %(cb)s::bigint + %(k)s::int
       AND %(P)s::numeric > 0
    """,
    f"""
    INSERT INTO contracts_account (id, kind, currency, balance, created_at, owner_id)
    SELECT %(ab)s::bigint + 2 * %(k)s::int + i, 'ESCROW', 'USD', %(R)s::numeric, ct.created_at,
           NULL
    {CASES}
    """,
    f"""
    INSERT INTO contracts_milestone (id, title, description, amount, due_date, status,
        created_at, funded_at, submitted_at, released_at, contract_id, escrow_account_id,
        auto_release_due_at, auto_release_reminded_24h_at, auto_release_reminded_48h_at,
        closed_at)
    SELECT %(mb)s::bigint + i, 'Milestone ' || i, '', %(E)s::numeric, NULL, 'HELD',
           ct.created_at, ct.created_at, NULL, NULL, ct.id,
           %(ab)s::bigint + 2 * %(k)s::int + i, NULL, NULL, NULL, NULL
    {CASES}
    """,
    # Ledger: FUNDING transaction of case i at tb + i, its RELEASE at tb + n + i; entries
    # eb + 2i − 1, eb + 2i (funding) and eb + 2n + 2i − 1, eb + 2n + 2i (release).
    f"""
    INSERT INTO contracts_ledgertransaction (id, kind, currency, memo, created_at, created_by_id,
        milestone_id)
    SELECT %(tb)s::bigint + i, 'FUNDING', 'USD', 'Fund milestone #' || (%(mb)s::bigint + i),
           ct.created_at, ct.client_id, %(mb)s::bigint + i
    {CASES}
    """,
    f"""
    INSERT INTO contracts_entry (id, amount, account_id, transaction_id)
    SELECT %(eb)s::bigint + 2 * i - leg.off, leg.sign * %(E)s::numeric,
           CASE WHEN leg.sign < 0 THEN %(ab)s::bigint + (ct.id - %(cb)s::bigint)
                ELSE %(ab)s::bigint + 2 * %(k)s::int + i END,
           %(tb)s::bigint + i
    {CASES}
     CROSS JOIN (VALUES (1, -1), (0, 1)) AS leg(off, sign)
    """,
    f"""
    INSERT INTO contracts_ledgertransaction (id, kind, currency, memo, created_at, created_by_id,
        milestone_id)
    SELECT %(tb)s::bigint + %(n)s::int + i, 'RELEASE', 'USD',
           'Release from milestone #' || (%(mb)s::bigint + i), ct.ended_at, ct.client_id,
           %(mb)s::bigint + i
    {CASES}
     WHERE %(P)s::numeric > 0
    """,
    f"""
    INSERT INTO contracts_entry (id, amount, account_id, transaction_id)
    SELECT %(eb)s::bigint + 2 * %(n)s::int + 2 * i - leg.off, leg.sign * %(P)s::numeric,
           CASE WHEN leg.sign < 0 THEN %(ab)s::bigint + 2 * %(k)s::int + i
                ELSE %(ab)s::bigint + %(k)s::int + (ct.id - %(cb)s::bigint) END,
           %(tb)s::bigint + %(n)s::int + i
    {CASES}
     CROSS JOIN (VALUES (1, -1), (0, 1)) AS leg(off, sign)
     WHERE %(P)s::numeric > 0
    """,
    # The refund request, as disputes.services.contract_end opens it; the reminder columns as
    # the reminder sweep leaves them by ``now``.
    f"""
    INSERT INTO disputes_refundrequest (id, currency, escrowed, paid, amount, status, created_at,
        response_due_at, reminded_48h_at, reminded_24h_at, closed_at, contract_id, milestone_id)
    SELECT %(rb)s::bigint + i, 'USD', %(E)s::numeric, %(P)s::numeric, %(R)s::numeric, 'OPEN',
           ct.ended_at, ct.ended_at + %(period)s::interval,
           CASE WHEN ct.ended_at + %(period)s::interval - interval '48 hours' <= %(now)s
                THEN ct.ended_at + %(period)s::interval - interval '48 hours' END,
           CASE WHEN ct.ended_at + %(period)s::interval - interval '24 hours' <= %(now)s
                THEN ct.ended_at + %(period)s::interval - interval '24 hours' END,
           NULL, ct.id, %(mb)s::bigint + i
    {CASES}
    """,
    """
    INSERT INTO disputes_timelineevent (kind, at, amounts, note, deadline_kind, deadline_party,
        deadline_due_at, internal, actor_id, dispute_id, evidence_id, refund_request_id)
    SELECT 'REFUND_REQUESTED', rr.created_at,
           jsonb_build_object('escrowed', rr.escrowed::text, 'paid', rr.paid::text,
                              'refund_requested', rr.amount::text),
           u.username || ' ended the contract and asked for ' || rr.amount || ' USD back.',
           'refund_request_response', 'freelancer', rr.response_due_at, false, ct.client_id,
           NULL, NULL, rr.id
      FROM disputes_refundrequest rr
      JOIN contracts_contract ct ON ct.id = rr.contract_id
      JOIN accounts_user u ON u.id = ct.client_id
     WHERE rr.id BETWEEN %(rb)s::bigint + 1 AND %(rb)s::bigint + %(n)s::int
    """,
    # Notifications to the freelancer: funded, released (when P > 0), refund requested, and the
    # 48- and 24-hour reminders already sent.
    """
    INSERT INTO accounts_notification (kind, title, body, url, created_at, read_at, emailed_at,
        user_id)
    SELECT x.kind, x.title, x.body, x.url, x.at, NULL, x.at, ct.freelancer_id
      FROM disputes_refundrequest rr
      JOIN contracts_contract ct ON ct.id = rr.contract_id
      JOIN contracts_milestone ms ON ms.id = rr.milestone_id
      JOIN accounts_user u ON u.id = ct.client_id
     CROSS JOIN LATERAL (VALUES
        ('milestone_funded', '“' || ms.title || '” is funded',
         rr.escrowed || ' USD is held in escrow for “' || ms.title || '” on “' || ct.title
             || '”.',
         %(contract_url)s || ct.id || %(contract_url_end)s, ms.funded_at),
        ('payment_released', 'Payment released for “' || ms.title || '”',
         rr.paid || ' USD was released to you by ' || u.username || ' on “' || ct.title || '”.',
         %(contract_url)s || ct.id || %(contract_url_end)s, ct.ended_at),
        ('refund_requested', 'Refund request on “' || ct.title || '”',
         u.username || ' ended the contract, paid ' || rr.paid || ' USD of “' || ms.title
             || '” and asks for ' || rr.amount || ' USD back.',
         %(request_url)s || rr.id || %(request_url_end)s, rr.created_at),
        ('deadline_reminder', '48 hours left to answer a refund request',
         'Accept the refund of ' || rr.amount || ' USD on “' || ct.title
             || '” or file a dispute.',
         %(request_url)s || rr.id || %(request_url_end)s, rr.reminded_48h_at),
        ('deadline_reminder', '24 hours left to answer a refund request',
         'Accept the refund of ' || rr.amount || ' USD on “' || ct.title
             || '” or file a dispute.',
         %(request_url)s || rr.id || %(request_url_end)s, rr.reminded_24h_at)
     ) AS x(kind, title, body, url, at)
     WHERE rr.id BETWEEN %(rb)s::bigint + 1 AND %(rb)s::bigint + %(n)s::int
       AND x.at IS NOT NULL
       AND (x.kind <> 'payment_released' OR rr.paid > 0)
    """,
]


def load_refund_requests(
    batch: Batch, *, now: datetime, unchecked: bool = False
) -> dict[str, float]:
    """Write ``batch`` in one transaction; return the seconds each statement took, by table.

    ``unchecked`` loads with ``session_replication_role = replica`` (for this transaction only,
    when the user may set it, i.e. is a superuser): PostgreSQL then skips the foreign-key checks
    and the deferred ledger checks, row by row minutes for a million rows; check constraints and
    unique indexes still hold. Check afterwards with :func:`orphans` and
    ``contracts.checks.run_checks``, which test the same rules over the whole tables. Returns
    with ``"unchecked"`` in the timings when it did skip them.
    """
    if batch.cases % batch.contracts:
        raise ValueError("cases must be a multiple of contracts")
    contract_url, contract_url_end = _url_parts("contracts:detail")
    request_url, request_url_end = _url_parts("disputes:refund-request")
    timings: dict[str, float] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if unchecked:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            unchecked = bool(cursor.fetchone()[0])
        if unchecked:
            cursor.execute("SET LOCAL session_replication_role = replica")
            timings["unchecked"] = 0.0
        bases = _bases(cursor)
        first_end = batch.first_end
        last_end = first_end + (batch.contracts - 1) * batch.end_step
        params = {
            "prefix": batch.prefix,
            "n": batch.cases,
            "k": batch.contracts,
            "m": batch.per_contract,
            "E": batch.escrowed,
            "P": batch.paid,
            "R": batch.refund,
            "ub": bases["accounts_user"],
            "ab": bases["contracts_account"],
            "cb": bases["contracts_contract"],
            "mb": bases["contracts_milestone"],
            "tb": bases["contracts_ledgertransaction"],
            "eb": bases["contracts_entry"],
            "rb": bases["disputes_refundrequest"],
            "first_end": first_end,
            "end_step": batch.end_step,
            "joined": min(first_end, last_end) - timedelta(days=30),
            "period": settings.REFUND_REQUEST_RESPONSE_PERIOD,
            "now": now,
            "contract_url": contract_url,
            "contract_url_end": contract_url_end,
            "request_url": request_url,
            "request_url_end": request_url_end,
        }
        for statement in STATEMENTS:
            if not batch.history and (
                "accounts_notification" in statement or "disputes_timelineevent" in statement
            ):
                continue
            started = time.perf_counter()
            cursor.execute(statement, params)
            table = statement.split("INSERT INTO", 1)[1].split()[0]
            timings[table] = timings.get(table, 0.0) + time.perf_counter() - started
        for table in EXPLICIT_ID_TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        started = time.perf_counter()
    # Leaving the block committed: the deferred foreign-key and ledger checks ran then.
    timings["COMMIT (deferred checks)"] = time.perf_counter() - started
    return timings


def orphans() -> dict[str, int]:
    """Count the rows whose foreign key points nowhere, for every foreign key of the loaded
    tables (what the skipped foreign-key triggers would have refused)."""
    tables = list(LOADED_TABLES)
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, fa.attname
              FROM pg_constraint c
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
              JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
             WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
             ORDER BY 1, 2
            """,
            [tables],
        )
        for child, column, parent, key in cursor.fetchall():
            cursor.execute(
                f'SELECT count(*) FROM "{child}" c WHERE c."{column}" IS NOT NULL AND NOT EXISTS '
                f'(SELECT 1 FROM "{parent}" p WHERE p."{key}" = c."{column}")'
            )
            found[f"{child}.{column} → {parent}"] = cursor.fetchone()[0]
    return found
