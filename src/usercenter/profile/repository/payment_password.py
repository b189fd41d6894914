"""Every SQL statement of the payment password and its tickets.

The wrong-try count is kept in the row and moved only by conditional UPDATEs, each atomic on
every supported database (PostgreSQL READ COMMITTED re-checks the WHERE against the newest
row version, InnoDB UPDATEs read the current row, SQLite has one writer): parallel tries on
any number of processes cannot slip past the limit. MariaDB has no UPDATE … RETURNING, so the
count is read back after the update, inside the same transaction, which holds the row lock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.profile.models import PaymentPassword, PaymentTicket


async def get_payment_password(session: AsyncSession, user_id: int) -> PaymentPassword | None:
    return await session.get(PaymentPassword, user_id, populate_existing=True)


async def payment_password_exists(session: AsyncSession, user_id: int) -> bool:
    found = await session.scalar(
        select(PaymentPassword.user_id).where(PaymentPassword.user_id == user_id)
    )
    return found is not None


async def add_payment_password(session: AsyncSession, row: PaymentPassword) -> bool:
    """Insert the user's first payment password; False when one was there already (a
    parallel first set that committed before this one)."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def replace_payment_password_hash(
    session: AsyncSession, user_id: int, password_hash: str, now: datetime
) -> None:
    """A new hash; the wrong tries and any lock go with the old one."""
    await session.execute(
        update(PaymentPassword)
        .where(PaymentPassword.user_id == user_id)
        .values(password_hash=password_hash, failed_count=0, locked_until=None, changed_at=now)
        .execution_options(synchronize_session=False)
    )


async def clear_expired_lock(session: AsyncSession, user_id: int, now: datetime) -> None:
    """A lock whose time has passed is lifted and its count starts again (idempotent)."""
    await session.execute(
        update(PaymentPassword)
        .where(
            PaymentPassword.user_id == user_id,
            PaymentPassword.locked_until.is_not(None),
            PaymentPassword.locked_until <= now,
        )
        .values(failed_count=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )


async def count_wrong_try(
    session: AsyncSession, user_id: int, *, now: datetime, max_failures: int, lock_until: datetime
) -> tuple[bool, int, datetime | None]:
    """Count one wrong try unless the password is locked; the try that reaches `max_failures`
    locks it until `lock_until`. Returns (counted, failed_count, locked_until) as they stand
    after the update.

    `locked_until` is assigned before `failed_count`, from the count before this try: MySQL
    and MariaDB evaluate an UPDATE's assignments left to right (a later one sees an earlier
    one's new value), PostgreSQL and SQLite all from the old row — in this order both read the
    same."""
    statement = (
        update(PaymentPassword)
        .where(
            PaymentPassword.user_id == user_id,
            or_(PaymentPassword.locked_until.is_(None), PaymentPassword.locked_until <= now),
        )
        .ordered_values(
            (
                PaymentPassword.locked_until,
                case(
                    (PaymentPassword.failed_count + 1 >= max_failures, lock_until),
                    else_=None,
                ),
            ),
            (PaymentPassword.failed_count, PaymentPassword.failed_count + 1),
        )
        .execution_options(synchronize_session=False)
    )
    counted = (await session.execute(statement)).rowcount == 1  # type: ignore[attr-defined]
    row = (
        await session.execute(
            select(PaymentPassword.failed_count, PaymentPassword.locked_until).where(
                PaymentPassword.user_id == user_id
            )
        )
    ).one()
    return counted, row.failed_count, row.locked_until


async def clear_wrong_tries(session: AsyncSession, user_id: int, now: datetime) -> bool:
    """A right password: the count starts again — unless a parallel wrong try locked it
    meanwhile (then False: the right password comes too late)."""
    result = await session.execute(
        update(PaymentPassword)
        .where(
            PaymentPassword.user_id == user_id,
            or_(PaymentPassword.locked_until.is_(None), PaymentPassword.locked_until <= now),
        )
        .values(failed_count=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# --- tickets ---


async def add_ticket(session: AsyncSession, ticket: PaymentTicket) -> None:
    session.add(ticket)
    await session.flush()


async def delete_stale_tickets(session: AsyncSession, user_id: int, before: datetime) -> None:
    """The user's tickets that expired before `before`: nothing can spend them any more."""
    await session.execute(
        delete(PaymentTicket)
        .where(PaymentTicket.user_id == user_id, PaymentTicket.expires_at < before)
        .execution_options(synchronize_session=False)
    )


async def spend_ticket(
    session: AsyncSession,
    *,
    ticket_hash: str,
    user_id: int,
    action: str,
    amount: str | None,
    now: datetime,
    key: str | None,
) -> bool:
    """Mark the ticket spent if it is the user's, for this action and amount, unspent and
    unexpired: one conditional UPDATE, so of two parallel spends one wins."""
    amount_matches = (
        PaymentTicket.amount.is_(None) if amount is None else PaymentTicket.amount == amount
    )
    result = await session.execute(
        update(PaymentTicket)
        .where(
            PaymentTicket.ticket_hash == ticket_hash,
            PaymentTicket.user_id == user_id,
            PaymentTicket.action == action,
            amount_matches,
            PaymentTicket.spent_at.is_(None),
            PaymentTicket.expires_at > now,
        )
        .values(spent_at=now, spent_key=key)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def spent_by_key(
    session: AsyncSession,
    *,
    ticket_hash: str,
    user_id: int,
    action: str,
    amount: str | None,
    key: str,
    now: datetime,
) -> bool:
    """Whether the ticket was spent, before it expires, by a call with this idempotency key,
    for this action and amount: the retry of that call (which the wallet answers from its
    first result, or carries out if the first failed)."""
    amount_matches = (
        PaymentTicket.amount.is_(None) if amount is None else PaymentTicket.amount == amount
    )
    found = await session.scalar(
        select(PaymentTicket.ticket_hash).where(
            and_(
                PaymentTicket.ticket_hash == ticket_hash,
                PaymentTicket.user_id == user_id,
                PaymentTicket.action == action,
                amount_matches,
                PaymentTicket.spent_key == key,
                PaymentTicket.expires_at > now,
            )
        )
    )
    return found is not None
