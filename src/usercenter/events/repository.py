"""Every SQL statement of the events module: appending to the outbox, the relay's lease and
marks, the feed and the retention sweep."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from usercenter.events.models import RELAY_NAME, EventSubject, OutboxEvent, RelayState
from usercenter.kit.events import Event

EVENTS = cast(Table, OutboxEvent.__table__)
SUBJECTS = cast(Table, EventSubject.__table__)
RELAY = cast(Table, RelayState.__table__)

_SET_POSITION = (
    update(EVENTS)
    .where(EVENTS.c.id == bindparam("event_row"))
    .values(position=bindparam("new_position"))
)


# --- the outbox --------------------------------------------------------------------------


async def append(connection: AsyncConnection, events: Sequence[Event], now: datetime) -> None:
    """Insert `events` in their order, each with its subject's next sequence number. The
    counters are taken in one statement for all the subjects, in subject order (two
    transactions never wait on each other's counters crosswise), and stay locked until the
    transaction ends."""
    counts = Counter(event.subject for event in events)
    last = await _take_sequence_numbers(connection, sorted(counts.items()))
    next_seq = {subject: last[subject] - count + 1 for subject, count in counts.items()}
    rows = []
    for event in events:
        subject = event.subject
        rows.append(
            {
                "event_id": str(uuid.uuid4()),
                "type": event.event_type,
                "subject": subject,
                "subject_seq": next_seq[subject],
                "occurred_at": now,
                "data": event.data(),
                "position": None,
            }
        )
        next_seq[subject] += 1
    await connection.execute(insert(EVENTS), rows)


async def _take_sequence_numbers(
    connection: AsyncConnection, counts: list[tuple[str, int]]
) -> dict[str, int]:
    """Add each count to its subject's counter (creating it); the counters' new values."""
    values = [{"subject": subject, "seq": count} for subject, count in counts]
    dialect = connection.dialect.name
    if dialect in {"postgresql", "sqlite"}:
        upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SUBJECTS)
        statement = upsert.values(values).on_conflict_do_update(
            index_elements=[SUBJECTS.c.subject],
            set_={"seq": SUBJECTS.c.seq + upsert.excluded.seq},
        )
        rows = await connection.execute(statement.returning(SUBJECTS.c.subject, SUBJECTS.c.seq))
        return {row.subject: row.seq for row in rows}
    mysql_upsert = mysql.insert(SUBJECTS).values(values)
    await connection.execute(
        mysql_upsert.on_duplicate_key_update(seq=SUBJECTS.c.seq + mysql_upsert.inserted.seq)
    )
    rows = await connection.execute(
        select(SUBJECTS.c.subject, SUBJECTS.c.seq).where(
            SUBJECTS.c.subject.in_([subject for subject, _ in counts])
        )
    )
    return {row.subject: row.seq for row in rows}


# --- the relay's state and lease ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelayMarks:
    holder: str | None
    epoch: int
    lease_until: datetime | None
    heartbeat_at: datetime | None
    sequenced_through: int
    published_through: int
    trimmed_through: int
    errors: list[dict[str, Any]]


def _marks(row: Any) -> RelayMarks:
    return RelayMarks(
        holder=row.holder,
        epoch=row.epoch,
        lease_until=row.lease_until,
        heartbeat_at=row.heartbeat_at,
        sequenced_through=row.sequenced_through,
        published_through=row.published_through,
        trimmed_through=row.trimmed_through,
        errors=list(row.errors or []),
    )


async def ensure_relay_row(connection: AsyncConnection) -> None:
    """The state row exists (the migration makes it; a database made otherwise gets it here)."""
    found = await connection.scalar(select(RELAY.c.name).where(RELAY.c.name == RELAY_NAME))
    if found is not None:
        return
    try:
        async with connection.begin_nested():
            await connection.execute(
                insert(RELAY).values(
                    name=RELAY_NAME,
                    epoch=0,
                    sequenced_through=0,
                    published_through=0,
                    trimmed_through=0,
                    errors=[],
                )
            )
    except IntegrityError:
        pass  # another process made it first


async def relay_marks(connection: AsyncConnection, *, lock: bool = False) -> RelayMarks:
    query = select(RELAY).where(RELAY.c.name == RELAY_NAME)
    if lock:
        query = query.with_for_update()
    return _marks((await connection.execute(query)).one())


async def take_lease(
    connection: AsyncConnection, holder: str, now: datetime, until: datetime
) -> int | None:
    """Take the lease if it is free or expired: the new epoch, or None when another holds it."""
    result = await connection.execute(
        update(RELAY)
        .where(
            RELAY.c.name == RELAY_NAME,
            or_(RELAY.c.holder.is_(None), RELAY.c.lease_until.is_(None), RELAY.c.lease_until < now),
        )
        .values(holder=holder, epoch=RELAY.c.epoch + 1, lease_until=until, heartbeat_at=now)
    )
    if result.rowcount != 1:
        return None
    return cast(
        int, await connection.scalar(select(RELAY.c.epoch).where(RELAY.c.name == RELAY_NAME))
    )


async def move_marks(
    connection: AsyncConnection, current_holder: str, epoch: int, **values: Any
) -> bool:
    """Update the state row as its holder (lease, marks, errors): False when the lease is no
    longer `current_holder`'s at `epoch`, and nothing changed."""
    result = await connection.execute(
        update(RELAY)
        .where(RELAY.c.name == RELAY_NAME, RELAY.c.holder == current_holder, RELAY.c.epoch == epoch)
        .values(**values)
    )
    return result.rowcount == 1


async def release_lease(connection: AsyncConnection, holder: str, epoch: int) -> None:
    await move_marks(connection, holder, epoch, holder=None, lease_until=None)


# --- sequencing and publishing ---------------------------------------------------------------


async def unsequenced_rows(connection: AsyncConnection, limit: int) -> list[int]:
    """Ids of committed events without a position, oldest first."""
    rows = await connection.scalars(
        select(EVENTS.c.id).where(EVENTS.c.position.is_(None)).order_by(EVENTS.c.id).limit(limit)
    )
    return list(rows)


async def set_positions(connection: AsyncConnection, ids: Sequence[int], first: int) -> None:
    await connection.execute(
        _SET_POSITION,
        [{"event_row": row, "new_position": first + n} for n, row in enumerate(ids)],
    )


async def events_between(
    connection: AsyncConnection,
    after: int,
    through: int,
    limit: int,
    types: Sequence[str] = (),
) -> list[Any]:
    """Events at positions after `after` up to `through`, in position order."""
    query = select(EVENTS).where(EVENTS.c.position > after, EVENTS.c.position <= through)
    if types:
        query = query.where(EVENTS.c.type.in_(list(types)))
    return list(await connection.execute(query.order_by(EVENTS.c.position).limit(limit)))


async def backlog(
    connection: AsyncConnection, published_through: int
) -> tuple[int, datetime | None]:
    """How many events wait to be published, and when the oldest of them was written."""
    unsequenced = await connection.execute(
        select(func.count(), func.min(EVENTS.c.occurred_at)).where(EVENTS.c.position.is_(None))
    )
    count_unsequenced, oldest_unsequenced = unsequenced.one()
    sequenced = await connection.execute(
        select(func.count(), func.min(EVENTS.c.occurred_at)).where(
            EVENTS.c.position > published_through
        )
    )
    count_sequenced, oldest_sequenced = sequenced.one()
    oldest = [t for t in (oldest_unsequenced, oldest_sequenced) if t is not None]
    return int(count_unsequenced) + int(count_sequenced), min(oldest) if oldest else None


# --- retention ---------------------------------------------------------------------------


async def trim(
    connection: AsyncConnection, published_through: int, before: datetime, limit: int
) -> tuple[int, int]:
    """Delete up to `limit` published events written before `before`, lowest positions first:
    the highest position deleted (0 when none) and how many."""
    rows = list(
        await connection.execute(
            select(EVENTS.c.id, EVENTS.c.position)
            .where(EVENTS.c.position <= published_through, EVENTS.c.occurred_at < before)
            .order_by(EVENTS.c.position)
            .limit(limit)
        )
    )
    if not rows:
        return 0, 0
    await connection.execute(delete(EVENTS).where(EVENTS.c.id.in_([row.id for row in rows])))
    return max(row.position for row in rows), len(rows)


# --- the staff's event browser ----------------------------------------------------------


async def browse(
    connection: AsyncConnection,
    *,
    type_: str | None,
    subject: str | None,
    before_id: int | None,
    limit: int,
) -> list[Any]:
    """Events newest first, by type and subject, for the console."""
    query = select(EVENTS)
    if type_:
        query = query.where(EVENTS.c.type == type_)
    if subject:
        query = query.where(EVENTS.c.subject == subject)
    if before_id is not None:
        query = query.where(EVENTS.c.id < before_id)
    return list(await connection.execute(query.order_by(EVENTS.c.id.desc()).limit(limit)))
