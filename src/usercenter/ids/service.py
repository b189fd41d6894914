"""Global ids handed out from memory, with the database touched once per block.

Two allocators share one mechanism, `_DoubleBuffer`: a process reserves a run of numbers in one
short transaction of its own (never the caller's: a rollback there must not give back numbers
this process keeps handing out), hands them out from memory, and reserves the next run in the
background once a tenth of the current one is used, so a caller waits on the database only when
a burst drains both runs.

The transaction rule of `db.py` (every operation commits once, in the route's unit of work)
makes its exception here: allocators keep their own short transactions, committed before the
operation that uses what they hand out, so a rolled-back operation leaves a gap in ids, never
a half-written change. (On SQLite a caller inside a write transaction passes its session to
`IdService.next_id`/`next_uid`, and the number is taken in that transaction instead: SQLite's
one writer is the caller's already.)

- `SegmentAllocator` (seed 004 §9.8, Leaf's segment mode): internal ids per business type.
  The step adapts: a segment used up in under `segment_duration` doubles the next one.
- `ProvinceUidAllocator` (seed 004 §1.1): display uids like `GD000001`. A process reserves
  `block_size` numbers at a time (more, up to `max_block_size`, during a registration burst); on
  a clean shutdown it gives back what it did not hand out, and the next reservation takes those
  first, so without a crash no number is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.config import Backend, Settings
from usercenter.db import Database
from usercenter.ids import repository
from usercenter.ids.errors import UidSpaceExhausted, UnknownBizType, UnknownProvince
from usercenter.kit import clock
from usercenter.kit.log import get_logger

log = get_logger(__name__)

PREFETCH_AT_USED_FRACTION = 0.1


@dataclass(slots=True)
class IdRange:
    """Numbers `first`..`last` (inclusive) reserved by this process; `next` is the next to give."""

    first: int
    last: int
    next: int = field(init=False)

    def __post_init__(self) -> None:
        self.next = self.first

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def unused(self) -> tuple[int, int] | None:
        return (self.next, self.last) if self.next <= self.last else None


class _BlockSizer:
    """Leaf's dynamic step: a block used up in less than `target_seconds` doubles the next one
    (up to `maximum`); one that lasted more than twice as long halves it (down to the base)."""

    def __init__(self, base: int | None, maximum: int, target_seconds: float, adaptive: bool):
        self.base = base
        self.maximum = maximum
        self.target_seconds = target_seconds
        self.adaptive = adaptive
        self._size: int | None = base
        self._reserved_at: float | None = None

    def next_size(self) -> int | None:
        """The size to reserve now; None until the base is known (the database's own step)."""
        if self._size is None or self.base is None or self._reserved_at is None:
            return self._size
        if not self.adaptive:
            return self._size
        lasted = clock.monotonic() - self._reserved_at
        if lasted < self.target_seconds:
            return min(self._size * 2, max(self.maximum, self.base))
        if lasted > 2 * self.target_seconds:
            return max(self._size // 2, self.base)
        return self._size

    def reserved(self, size: int, base: int | None = None) -> None:
        if base is not None:
            self.base = base
        self._size = size
        self._reserved_at = clock.monotonic()


class _DoubleBuffer:
    """Hands out numbers from a current range and keeps the next one ready."""

    def __init__(self, reserve: Callable[[], Awaitable[IdRange]], name: str) -> None:
        self._reserve = reserve
        self._name = name
        self._current: IdRange | None = None
        self._spare: IdRange | None = None
        self._loading: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._last_error: str | None = None

    async def take(self) -> int:
        while True:
            current = self._current
            if current is not None and current.next <= current.last:
                value = current.next
                current.next += 1
                if (
                    self._spare is None
                    and self._loading is None
                    and (value - current.first + 1) >= current.size * PREFETCH_AT_USED_FRACTION
                ):
                    self._start_loading()
                return value
            await self._switch()

    def _start_loading(self) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._load())
        task.add_done_callback(self._loaded)
        self._loading = task
        return task

    async def _load(self) -> None:
        self._spare = await self._reserve()

    def _loaded(self, task: asyncio.Task[None]) -> None:
        self._loading = None
        error = None if task.cancelled() else task.exception()
        message = str(error) if error is not None else None
        if message is not None and message != self._last_error:
            # Once per distinct failure: an exhausted province would otherwise say so per call.
            log.warning("id_prefetch_failed", allocator=self._name, error=message)
        self._last_error = message

    async def _switch(self) -> None:
        async with self._lock:
            current = self._current
            if current is not None and current.next <= current.last:
                return  # another caller switched while we waited
            if self._spare is None:
                task = self._loading or self._start_loading()
                await asyncio.shield(task)  # raises what the reservation raised
            if self._spare is not None:
                self._current, self._spare = self._spare, None

    def unused(self) -> list[tuple[int, int]]:
        """Numbers reserved by this process and not handed out (current remainder, spare)."""
        runs = [r.unused() for r in (self._current, self._spare) if r is not None]
        return [run for run in runs if run is not None]

    async def settle(self) -> None:
        """Wait for the background reservation under way, if any (a failure was logged)."""
        if self._loading is not None:
            with contextlib.suppress(Exception):  # a failed reservation was logged by _loaded
                await asyncio.shield(self._loading)

    async def stop(self) -> list[tuple[int, int]]:
        """Wait for a reservation under way, hand out nothing more; returns what is unused."""
        await self.settle()
        unused = self.unused()
        self._current = self._spare = None
        return unused


class SegmentAllocator:
    """Ids for one business type, unique across processes and restarts (gaps after a crash)."""

    def __init__(
        self,
        database: Database,
        biz_type: str,
        *,
        adaptive: bool = True,
        max_step: int = 1_000_000,
        segment_duration: float = 900.0,
    ) -> None:
        self.database = database
        self.biz_type = biz_type
        self._sizer = _BlockSizer(None, max_step, segment_duration, adaptive)
        self._buffer = _DoubleBuffer(self._reserve, f"segment:{biz_type}")
        self.reservations = 0

    async def next_id(self) -> int:
        return await self._buffer.take()

    async def next_ids(self, count: int) -> list[int]:
        return [await self._buffer.take() for _ in range(count)]

    async def settle(self) -> None:
        """Wait for the next segment's reservation under way in the background, if any."""
        await self._buffer.settle()

    async def close(self) -> list[tuple[int, int]]:
        """Stop handing out ids; returns the reserved ones never handed out (gaps from now on)."""
        return await self._buffer.stop()

    async def _reserve(self) -> IdRange:
        step = self._sizer.next_size()

        async def work(session: AsyncSession) -> repository.ReservedSegment | None:
            return await repository.advance_segment(session, self.biz_type, step)

        reserved = await self.database.run_in_transaction(work)
        if reserved is None:
            raise UnknownBizType(biz_type=self.biz_type)
        used_step = reserved.base_step if step is None else step
        self._sizer.reserved(used_step, base=reserved.base_step)
        self.reservations += 1
        return IdRange(first=reserved.max_id - used_step + 1, last=reserved.max_id)


async def register_biz_type(
    database: Database, biz_type: str, *, step: int, description: str | None = None
) -> bool:
    """Create the segment row for `biz_type` unless it exists; True if this call created it."""

    async def exists(session: AsyncSession) -> bool:
        return await repository.segment_exists(session, biz_type)

    if await database.run_in_transaction(exists):
        return False
    try:
        async with database.unit_of_work() as session:
            await repository.insert_segment_row(session, biz_type, step, description)
    except IntegrityError:
        return False  # another process registered it first
    return True


class ProvinceUidAllocator:
    """Display uids: two-letter province code + zero-padded sequence (`GD000001`)."""

    def __init__(
        self,
        database: Database,
        *,
        width: int = 6,
        block_size: int = 50,
        max_block_size: int | None = None,
        block_duration: float = 5.0,
    ) -> None:
        self.database = database
        self.width = width
        self.block_size = block_size
        self.max_block_size = max_block_size or block_size * 20
        self.block_duration = block_duration
        self._buffers: dict[str, _DoubleBuffer] = {}
        self._sizers: dict[str, _BlockSizer] = {}
        self.reservations = 0

    @property
    def limit(self) -> int:
        return int(10**self.width) - 1

    def format(self, province_code: str, sequence: int) -> str:
        return f"{province_code}{sequence:0{self.width}d}"

    async def next_sequence(self, province_code: str) -> int:
        code = province_code.upper()
        buffer = self._buffers.get(code)
        if buffer is None:
            buffer = self._buffers.setdefault(
                code, _DoubleBuffer(lambda: self._reserve(code), f"uid:{code}")
            )
        return await buffer.take()

    async def next_uid(self, province_code: str) -> str:
        """A new display uid; raises UnknownProvince or UidSpaceExhausted."""
        return self.format(province_code.upper(), await self.next_sequence(province_code))

    async def close(self) -> None:
        """Give back every number reserved and not handed out, so none is skipped."""
        for code, buffer in list(self._buffers.items()):
            for first, last in await buffer.stop():
                await self.database.run_in_transaction(
                    functools.partial(_give_back, code=code, first=first, last=last)
                )
        self._buffers.clear()

    async def _reserve(self, code: str) -> IdRange:
        limit = self.limit
        sizer = self._sizers.setdefault(
            code, _BlockSizer(self.block_size, self.max_block_size, self.block_duration, True)
        )
        size = sizer.next_size() or self.block_size

        first, last = await self.database.run_in_transaction(
            functools.partial(_reserve_uids, code=code, size=size, limit=limit)
        )
        sizer.reserved(size)
        self.reservations += 1
        return IdRange(first=first, last=last)


async def _reserve_uids(
    session: AsyncSession, *, code: str, size: int, limit: int
) -> tuple[int, int]:
    """Reserve up to `size` numbers of a province, given-back ones first; (first, last)."""
    sequence = await repository.lock_uid_sequence(session, code)
    if sequence is None:
        raise UnknownProvince(field="province", province=code)
    run = await repository.first_released_run(session, code)
    if run is not None:
        return await repository.take_from_released_run(session, run, size)
    ceiling = min(limit, sequence.max_sequence or limit)
    if sequence.current_sequence >= ceiling:
        raise UidSpaceExhausted(field="province", province=code, limit=ceiling)
    last = min(sequence.current_sequence + size, ceiling)
    await repository.set_current_sequence(session, code, last)
    return sequence.current_sequence + 1, last


async def _give_back(session: AsyncSession, *, code: str, first: int, last: int) -> None:
    sequence = await repository.lock_uid_sequence(session, code)
    if sequence is None:
        return
    if sequence.current_sequence == last:
        await repository.set_current_sequence(session, code, first - 1)
    else:
        await repository.insert_released_run(session, code, first, last)


class IdService:
    """The process's allocators, made once at start-up and closed at shutdown."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.province_uids = ProvinceUidAllocator(
            database, width=settings.uid_width, block_size=settings.uid_block_size
        )
        self._segments: dict[str, SegmentAllocator] = {}
        self._province_names: dict[str, str] | None = None

    async def province_code_for(self, region: str | None) -> str | None:
        """The province code of a place name such as `广东省深圳市` or `北京市`, if any."""
        if not region:
            return None
        if self._province_names is None:
            async with self.database.read_session() as session:
                self._province_names = await repository.province_names(session)
        for code, name in self._province_names.items():
            short = name[:3] if name.startswith(("内蒙古", "黑龙江")) else name[:2]
            if region.startswith(short):
                return code
        return None

    def segment(self, biz_type: str) -> SegmentAllocator:
        allocator = self._segments.get(biz_type)
        if allocator is None:
            allocator = self._segments.setdefault(
                biz_type, SegmentAllocator(self.database, biz_type)
            )
        return allocator

    async def next_id(self, biz_type: str, *, session: AsyncSession | None = None) -> int:
        """A new id. Give `session` when calling inside a write transaction (see next_uid)."""
        if session is not None and self.database.backend is Backend.SQLITE:
            reserved = await repository.advance_segment(session, biz_type, 1)
            if reserved is None:
                raise UnknownBizType(biz_type=biz_type)
            return reserved.max_id
        return await self.segment(biz_type).next_id()

    async def next_uid(self, province_code: str, *, session: AsyncSession | None = None) -> str:
        """A new display uid. Give `session` when calling inside a write transaction: on
        SQLite, whose one writer the caller already holds, the number is then taken in that
        transaction (a separate one would wait for the caller forever); elsewhere the
        process's blocks serve it."""
        code = province_code.upper()
        if session is not None and self.database.backend is Backend.SQLITE:
            allocator = self.province_uids
            first, _ = await _reserve_uids(session, code=code, size=1, limit=allocator.limit)
            return allocator.format(code, first)
        return await self.province_uids.next_uid(code)

    async def close(self) -> None:
        for allocator in self._segments.values():
            unused = await allocator.close()
            if unused:
                log.debug("id_segment_gaps", biz_type=allocator.biz_type, unused=unused)
        await self.province_uids.close()
