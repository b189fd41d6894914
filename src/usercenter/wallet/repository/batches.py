"""The ledger's SQL: what a batch reads under lock and writes in a few statements.

`lock_book` reads every row a batch's postings touch with `SELECT … FOR UPDATE`, in ascending id
order (accounts, then holds, then earlier transfers), so no two batches deadlock on each other;
`write_book` writes what the book recorded — the balance changes as increments, the transfers,
their entries, the holds and the refunded totals (on PostgreSQL the first three in one
statement); `insert_side_rows` inserts the postings' side rows, one executemany per table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from usercenter.kit import clock
from usercenter.kit.models import UtcDateTime
from usercenter.kit.side_rows import SideRow
from usercenter.wallet.book import (
    ENTRY_COLUMNS,
    TRANSFER_COLUMNS,
    AccountState,
    Book,
    HoldState,
    OriginalState,
    Posting,
)
from usercenter.wallet.models import Account, Entry, Hold, Transfer

ACCOUNTS = cast(Table, Account.__table__)
TRANSFERS = cast(Table, Transfer.__table__)
ENTRIES = cast(Table, Entry.__table__)
HOLDS = cast(Table, Hold.__table__)


async def stored_transfers(connection: AsyncConnection, keys: Iterable[str]) -> dict[str, Any]:
    """The transfers already stored under `keys`: id, request hash and answer, by key."""
    rows = await connection.execute(
        select(
            TRANSFERS.c.idempotency_key,
            TRANSFERS.c.request_hash,
            TRANSFERS.c.result,
            TRANSFERS.c.id,
        ).where(TRANSFERS.c.idempotency_key.in_(list(keys)))
    )
    return {row.idempotency_key: row for row in rows}


async def lock_book(
    connection: AsyncConnection, postings: list[Posting], balance_limit: int
) -> Book:
    """Lock every row the postings may touch, in id order, and read them into a book."""
    account_ids = sorted({i for p in postings for i in p.accounts})
    hold_ids = sorted({i for p in postings for i in p.holds})
    original_ids = sorted({i for p in postings for i in p.originals})
    if connection.dialect.name == "postgresql":
        # One statement text whatever the number of ids: prepared once per connection.
        rows = await connection.execute(_POSTGRESQL_LOCK, {"ids": account_ids})
    else:
        rows = await connection.execute(
            select(
                ACCOUNTS.c.id,
                ACCOUNTS.c.asset,
                ACCOUNTS.c.balance,
                ACCOUNTS.c.frozen,
                ACCOUNTS.c.may_go_negative,
                ACCOUNTS.c.owner,
            )
            .where(ACCOUNTS.c.id.in_(account_ids))
            .order_by(ACCOUNTS.c.id)
            .with_for_update()
        )
    accounts = {
        row.id: AccountState(
            row.id, row.asset, row.balance, row.frozen, bool(row.may_go_negative), row.owner
        )
        for row in rows
    }
    holds: dict[int, HoldState] = {}
    if hold_ids:
        rows = await connection.execute(
            select(HOLDS).where(HOLDS.c.id.in_(hold_ids)).order_by(HOLDS.c.id).with_for_update()
        )
        holds = {
            row.id: HoldState(
                id=row.id,
                account_id=row.account_id,
                asset=row.asset,
                amount=row.amount,
                captured=row.captured,
                destination_id=row.destination_id,
                status=row.status,
                expires_at=row.expires_at,
            )
            for row in rows
        }
    originals: dict[int, OriginalState] = {}
    if original_ids:
        rows = await connection.execute(
            select(TRANSFERS.c.id, TRANSFERS.c.kind, TRANSFERS.c.amount, TRANSFERS.c.refunded)
            .where(TRANSFERS.c.id.in_(original_ids))
            .order_by(TRANSFERS.c.id)
            .with_for_update()
        )
        originals = {
            row.id: OriginalState(row.id, row.kind, row.amount, row.refunded) for row in rows
        }
    return Book(accounts, holds, originals, clock.now(), balance_limit)


_POSTGRESQL_LOCK = text(
    "SELECT id, asset, balance, frozen, may_go_negative, owner FROM wallet_accounts"
    " WHERE id = ANY(CAST(:ids AS BIGINT[])) ORDER BY id FOR UPDATE"
)

# PostgreSQL: the balance changes, the transfers and their entries in one statement and one
# round trip, each column sent as one array.
_POSTGRESQL_WRITE = text(
    """
WITH changed AS (
    UPDATE wallet_accounts AS a
       SET balance = a.balance + c.balance_change,
           frozen = a.frozen + c.frozen_change,
           updated_at = :now
      FROM unnest(CAST(:account_ids AS BIGINT[]), CAST(:balance_changes AS BIGINT[]),
                  CAST(:frozen_changes AS BIGINT[])) AS c(id, balance_change, frozen_change)
     WHERE a.id = c.id
    RETURNING a.id
), transfers AS (
    INSERT INTO wallet_transfers (id, idempotency_key, request_hash, kind, amount, refunded,
                                  business_type, business_id, reason, operator_id,
                                  related_transfer_id, hold_id, result, created_at)
    SELECT t.id, t.idempotency_key, t.request_hash, t.kind, t.amount, 0, t.business_type,
           t.business_id, t.reason, t.operator_id, t.related_transfer_id, t.hold_id,
           CAST(t.result AS JSON), :now
      FROM unnest(CAST(:t_id AS BIGINT[]), CAST(:t_key AS TEXT[]), CAST(:t_hash AS TEXT[]),
                  CAST(:t_kind AS TEXT[]), CAST(:t_amount AS BIGINT[]),
                  CAST(:t_business_type AS TEXT[]), CAST(:t_business_id AS TEXT[]),
                  CAST(:t_reason AS TEXT[]), CAST(:t_operator_id AS TEXT[]),
                  CAST(:t_related AS BIGINT[]), CAST(:t_hold AS BIGINT[]),
                  CAST(:t_result AS TEXT[]))
           AS t(id, idempotency_key, request_hash, kind, amount, business_type, business_id,
                reason, operator_id, related_transfer_id, hold_id, result)
    RETURNING id
), entries AS (
    INSERT INTO wallet_entries (transfer_id, leg, account_id, asset, kind, amount,
                                balance_before, balance_after, created_at)
    SELECT e.transfer_id, e.leg, e.account_id, e.asset, e.kind, e.amount, e.balance_before,
           e.balance_after, :now
      FROM unnest(CAST(:e_transfer AS BIGINT[]), CAST(:e_leg AS SMALLINT[]),
                  CAST(:e_account AS BIGINT[]), CAST(:e_asset AS TEXT[]),
                  CAST(:e_kind AS TEXT[]), CAST(:e_amount AS BIGINT[]),
                  CAST(:e_before AS BIGINT[]), CAST(:e_after AS BIGINT[]))
           WITH ORDINALITY
           AS e(transfer_id, leg, account_id, asset, kind, amount, balance_before, balance_after,
                position)
     ORDER BY e.position
    RETURNING id
)
SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM transfers),
       (SELECT count(*) FROM entries)
"""
).bindparams(bindparam("now", type_=UtcDateTime()))


def _balance_changes(book: Book) -> list[tuple[int, int, int]]:
    """(account, balance change, frozen change) of every account the batch changed: written
    as increments of the rows' own values (which the lock held still)."""
    return [
        (
            account.id,
            account.balance - account.locked_balance,
            account.frozen - account.locked_frozen,
        )
        for account in book.accounts.values()
        if (account.balance, account.frozen) != (account.locked_balance, account.locked_frozen)
    ]


async def _write_postgresql(connection: AsyncConnection, book: Book) -> None:
    changes = _balance_changes(book)
    transfers = list(zip(*book.transfers, strict=True))
    entries = list(zip(*book.entries, strict=True)) or [() for _ in ENTRY_COLUMNS]
    accounts = list(zip(*changes, strict=True)) or [(), (), ()]
    counts = (
        await connection.execute(
            _POSTGRESQL_WRITE,
            {
                "now": book.now,
                "account_ids": list(accounts[0]),
                "balance_changes": list(accounts[1]),
                "frozen_changes": list(accounts[2]),
                "t_id": list(transfers[0]),
                "t_key": list(transfers[1]),
                "t_hash": list(transfers[2]),
                "t_kind": list(transfers[3]),
                "t_amount": list(transfers[4]),
                "t_business_type": list(transfers[5]),
                "t_business_id": list(transfers[6]),
                "t_reason": list(transfers[7]),
                "t_operator_id": list(transfers[8]),
                "t_related": list(transfers[9]),
                "t_hold": list(transfers[10]),
                "t_result": [json.dumps(answer) for answer in transfers[11]],
                "e_transfer": list(entries[0]),
                "e_leg": list(entries[1]),
                "e_account": list(entries[2]),
                "e_asset": list(entries[3]),
                "e_kind": list(entries[4]),
                "e_amount": list(entries[5]),
                "e_before": list(entries[6]),
                "e_after": list(entries[7]),
            },
        )
    ).one()
    if tuple(counts) != (len(changes), len(book.transfers), len(book.entries)):
        raise RuntimeError(f"ledger write wrote {tuple(counts)}")
    await _write_holds_and_refunds(connection, book)


async def _write_other(connection: AsyncConnection, book: Book) -> None:
    if not book.transfers:
        return
    changed = [
        {"account_id": c[0], "balance_change": c[1], "frozen_change": c[2]}
        for c in _balance_changes(book)
    ]
    if changed:
        await connection.execute(
            update(ACCOUNTS)
            .where(ACCOUNTS.c.id == bindparam("account_id"))
            .values(
                balance=ACCOUNTS.c.balance + bindparam("balance_change"),
                frozen=ACCOUNTS.c.frozen + bindparam("frozen_change"),
                updated_at=book.now,
            ),
            changed,
        )
    await connection.execute(
        insert(TRANSFERS),
        [
            {**dict(zip(TRANSFER_COLUMNS, row, strict=True)), "refunded": 0, "created_at": book.now}
            for row in book.transfers
        ],
    )
    if book.entries:
        await connection.execute(
            insert(ENTRIES),
            [
                {**dict(zip(ENTRY_COLUMNS, row, strict=True)), "created_at": book.now}
                for row in book.entries
            ],
        )
    await _write_holds_and_refunds(connection, book)


async def _write_holds_and_refunds(connection: AsyncConnection, book: Book) -> None:
    new_holds = [h for h in book.holds.values() if h.is_new]
    if new_holds:
        await connection.execute(
            insert(HOLDS),
            [
                {
                    "id": h.id,
                    "account_id": h.account_id,
                    "asset": h.asset,
                    "amount": h.amount,
                    "captured": h.captured,
                    "destination_id": h.destination_id,
                    "status": h.status,
                    "transfer_id": h.transfer_id,
                    "resolution_transfer_id": None,
                    "business_type": h.business_type,
                    "business_id": h.business_id,
                    "expires_at": h.expires_at,
                    "created_at": book.now,
                    "resolved_at": None,
                }
                for h in new_holds
            ],
        )
    resolved = [h for h in book.holds.values() if not h.is_new and h.resolved_by is not None]
    if resolved:
        await connection.execute(
            update(HOLDS)
            .where(HOLDS.c.id == bindparam("hold_id"), HOLDS.c.status == "pending")
            .values(
                status=bindparam("new_status"),
                captured=bindparam("new_captured"),
                resolution_transfer_id=bindparam("by"),
                resolved_at=book.now,
            ),
            [
                {
                    "hold_id": h.id,
                    "new_status": h.status,
                    "new_captured": h.captured,
                    "by": h.resolved_by,
                }
                for h in resolved
            ],
        )
    refunded = [o for o in book.originals.values() if o.refunded != o.locked_refunded]
    if refunded:
        await connection.execute(
            update(TRANSFERS)
            .where(TRANSFERS.c.id == bindparam("transfer_id"))
            .values(refunded=TRANSFERS.c.refunded + bindparam("refund")),
            [{"transfer_id": o.id, "refund": o.refunded - o.locked_refunded} for o in refunded],
        )


async def write_book(connection: AsyncConnection, book: Book) -> None:
    """Write what the batch's postings did to the book (nothing when none succeeded)."""
    if not book.transfers:
        return
    if connection.dialect.name == "postgresql":
        await _write_postgresql(connection, book)
    else:
        await _write_other(connection, book)


async def insert_side_rows(connection: AsyncConnection, rows: Sequence[SideRow]) -> None:
    """Insert the side rows of a batch's postings: one executemany per table, in the order
    the tables first appear."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for row in rows:
        by_table.setdefault(row.table, []).append(dict(row.values))
    for table, values in by_table.items():
        await connection.execute(insert(table), values)
