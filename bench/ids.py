"""Benchmark of the id allocators against the seed's one-transaction-per-uid design.

Run on each database (SQLite in a temporary directory, MariaDB, PostgreSQL), several rounds
each, the median of the rounds reported:

- `segment_ids_per_s`: one `SegmentAllocator` on a fresh business type (step 1000, adaptive),
  one task calling `next_id()` N times; wall time, so the segment reservations are included.
- `province_uids_per_s`: 32 asyncio tasks sharing one `ProvinceUidAllocator(block_size=50)`,
  calling `next_uid(code)` until M uids are handed out in all.
- `seed_design_uids_per_s` (the baseline): seed 004's `sp_generate_uid`, as the seed describes
  it: 32 asyncio tasks, every uid its own transaction, `SELECT current_sequence, version ...
  FOR UPDATE` on the province's row, then `UPDATE ... SET current_sequence = current_sequence
  + 1, version = version + 1 WHERE province_code = :p AND version = :v`, the pair tried again up
  to 3 times when the UPDATE matches no row. It runs for a fixed time and counts the uids it got.
  (SQLite has no `FOR UPDATE`; there the write transaction's `BEGIN IMMEDIATE` takes the lock.)

- `single_update_uids_per_s` (a kinder baseline, close to what the stored procedure costs when
  it runs inside the database): every uid its own transaction of one
  `UPDATE ... SET current_sequence = current_sequence + 1` and one SELECT reading it back.

All province measurements use a pool with room for 32 connections (pool size 32, overflow 8);
each round uses its own province rows, reset to 0 first. After each measurement the uids handed
out are checked for duplicates, and the baseline's row for lost updates.

    python bench/ids.py [--quick] [--backends sqlite,mariadb,postgresql] [--rounds N]

Server databases come from USERCENTER_BENCH_MARIADB_URL and USERCENTER_BENCH_POSTGRES_URL; the
database named there is created when missing, then emptied and migrated to head. A backend that
cannot be reached is reported as {"error": ...}. Progress goes to stderr; the last line of stdout
is one JSON object with every figure, the ratios and whether the targets were met.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from typing import Any, cast

from _common import (
    CONNECT_TIMEOUT_S,
    backend_args,
    bench_settings,
    each_backend,
    ensure_database,
    median,
    progress,
    ratio,
    report_backends,
    stopwatch,
    warm_pool,
)
from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter import schema
from usercenter.config import Backend
from usercenter.db import Database
from usercenter.ids.models import UidReleased, UidSequence
from usercenter.ids.service import ProvinceUidAllocator, SegmentAllocator, register_biz_type
from usercenter.kit import clock

CALLERS = 32
POOL_SIZE = 32
MAX_OVERFLOW = 8
SEGMENT_STEP = 1000
UID_BLOCK_SIZE = 50
UID_WIDTH = 6
SEED_RETRIES = 3  # sp_generate_uid: the SELECT/UPDATE pair is tried again at most 3 times

TARGET_SEGMENT_IDS_PER_S = 100_000
TARGET_PROVINCE_UIDS_PER_S = 5_000  # on the server databases
TARGET_PROVINCE_VS_SEED = 5.0

_SEQUENCE = cast(Table, UidSequence.__table__)
_RELEASED = cast(Table, UidReleased.__table__)


@dataclass(frozen=True, slots=True)
class Plan:
    """How much work one round does."""

    rounds: int
    segment_ids: int
    province_uids: int
    seed_seconds: float

    @classmethod
    def of(cls, *, quick: bool, rounds: int | None) -> Plan:
        if quick:
            return cls(rounds or 3, segment_ids=50_000, province_uids=5_000, seed_seconds=1.0)
        return cls(rounds or 5, segment_ids=200_000, province_uids=20_000, seed_seconds=3.0)


@dataclass(slots=True)
class Rounds:
    """The per-round figures of one backend, and what the checks found."""

    segment_ids_per_s: list[float] = field(default_factory=list)
    segment_reservations: list[int] = field(default_factory=list)
    province_uids_per_s: list[float] = field(default_factory=list)
    province_reservations: list[int] = field(default_factory=list)
    seed_design_uids_per_s: list[float] = field(default_factory=list)
    seed_design_uids: list[int] = field(default_factory=list)
    single_update_uids_per_s: list[float] = field(default_factory=list)
    seed_design_failures: int = 0
    seed_design_conflicts: int = 0
    seed_design_errors: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)


def count_duplicates(values: list[Any]) -> int:
    return len(values) - len(set(values))


# --- Database preparation -------------------------------------------------------------------


async def province_codes(database: Database) -> list[str]:
    async with database.read_session() as session:
        rows = await session.scalars(
            select(_SEQUENCE.c.province_code).order_by(_SEQUENCE.c.province_code)
        )
        return list(rows)


async def reset_province(database: Database, code: str) -> None:
    """The province's sequence back to 0 with nothing given back, so numbers never run out."""
    async with database.unit_of_work() as session:
        await session.execute(delete(_RELEASED).where(_RELEASED.c.province_code == code))
        await session.execute(
            update(_SEQUENCE)
            .where(_SEQUENCE.c.province_code == code)
            .values(current_sequence=0, version=0, max_sequence=None)
        )


async def current_sequence(database: Database, code: str) -> int:
    async with database.read_session() as session:
        value = await session.scalar(
            select(_SEQUENCE.c.current_sequence).where(_SEQUENCE.c.province_code == code)
        )
        return int(value or 0)


# --- The three measurements -----------------------------------------------------------------


async def measure_segment(database: Database, biz_type: str, count: int, rounds: Rounds) -> None:
    await register_biz_type(database, biz_type, step=SEGMENT_STEP, description="bench")
    allocator = SegmentAllocator(database, biz_type, adaptive=True)
    ids: list[int] = []
    append = ids.append
    try:
        with stopwatch() as elapsed:
            for _ in range(count):
                append(await allocator.next_id())
    finally:
        await allocator.close()
    rounds.segment_ids_per_s.append(count / elapsed[0])
    rounds.segment_reservations.append(allocator.reservations)
    rounds.duplicates += count_duplicates(ids)
    if len(ids) != count:
        rounds.problems.append(f"segment: {len(ids)} ids for {count} calls")


async def measure_province(database: Database, code: str, total: int, rounds: Rounds) -> None:
    await reset_province(database, code)
    allocator = ProvinceUidAllocator(database, width=UID_WIDTH, block_size=UID_BLOCK_SIZE)
    uids: list[str] = []
    remaining = [total]

    async def caller() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            uids.append(await allocator.next_uid(code))

    try:
        with stopwatch() as elapsed:
            await asyncio.gather(*(caller() for _ in range(CALLERS)))
    finally:
        await allocator.close()
    rounds.province_uids_per_s.append(len(uids) / elapsed[0])
    rounds.province_reservations.append(allocator.reservations)
    rounds.duplicates += count_duplicates(uids)
    if len(uids) != total:
        rounds.problems.append(f"province: {len(uids)} uids for {total} wanted")


async def seed_generate_uid(session: AsyncSession, code: str) -> tuple[int | None, int]:
    """Seed 004's sp_generate_uid in the caller's transaction: (sequence or None, conflicts)."""
    conflicts = 0
    for _ in range(1 + SEED_RETRIES):
        row = (
            await session.execute(
                select(_SEQUENCE.c.current_sequence, _SEQUENCE.c.version, _SEQUENCE.c.max_sequence)
                .where(_SEQUENCE.c.province_code == code)
                .with_for_update()
            )
        ).one()
        ceiling = row.max_sequence or 10**UID_WIDTH - 1
        if row.current_sequence >= ceiling:
            raise RuntimeError(f"province {code} exhausted at {ceiling}")
        now = clock.now()
        result = await session.execute(
            update(_SEQUENCE)
            .where(_SEQUENCE.c.province_code == code, _SEQUENCE.c.version == row.version)
            .values(
                current_sequence=_SEQUENCE.c.current_sequence + 1,
                version=_SEQUENCE.c.version + 1,
                last_generated_at=now,
                updated_at=now,
            )
        )
        if cast(Any, result).rowcount == 1:
            return int(row.current_sequence) + 1, conflicts
        conflicts += 1
    return None, conflicts


async def measure_seed_design(
    database: Database, code: str, seconds: float, rounds: Rounds
) -> None:
    await reset_province(database, code)
    sequences: list[int] = []
    failures = [0, 0, 0]  # failed uids, version conflicts, database errors
    deadline = [0.0]

    async def caller() -> None:
        while time.perf_counter() < deadline[0]:
            try:
                async with database.unit_of_work() as session:
                    sequence, conflicts = await seed_generate_uid(session, code)
            except Exception:  # a lock wait timeout or deadlock: the uid is not generated
                failures[0] += 1
                failures[2] += 1
                continue
            failures[1] += conflicts
            if sequence is None:
                failures[0] += 1
            else:
                sequences.append(sequence)

    with stopwatch() as elapsed:
        deadline[0] = time.perf_counter() + seconds
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
    rounds.seed_design_uids_per_s.append(len(sequences) / elapsed[0])
    rounds.seed_design_uids.append(len(sequences))
    rounds.seed_design_failures += failures[0]
    rounds.seed_design_conflicts += failures[1]
    rounds.seed_design_errors += failures[2]
    rounds.duplicates += count_duplicates(sequences)
    stored = await current_sequence(database, code)
    if stored != len(sequences):
        rounds.problems.append(
            f"seed design: row at {stored} after {len(sequences)} uids (lost updates)"
        )


async def single_update_uid(session: AsyncSession, code: str) -> int:
    """One atomic increment and a read-back, in the caller's transaction."""
    await session.execute(
        update(_SEQUENCE)
        .where(_SEQUENCE.c.province_code == code)
        .values(current_sequence=_SEQUENCE.c.current_sequence + 1)
    )
    value = await session.scalar(
        select(_SEQUENCE.c.current_sequence).where(_SEQUENCE.c.province_code == code)
    )
    return int(value or 0)


async def measure_single_update(
    database: Database, code: str, seconds: float, rounds: Rounds
) -> None:
    await reset_province(database, code)
    sequences: list[int] = []
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        while time.perf_counter() < deadline:
            async with database.unit_of_work() as session:
                sequences.append(await single_update_uid(session, code))

    with stopwatch() as elapsed:
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
    rounds.single_update_uids_per_s.append(len(sequences) / elapsed[0])
    rounds.duplicates += count_duplicates(sequences)


# --- One backend ----------------------------------------------------------------------------


async def bench_backend(name: str, raw_url: str, plan: Plan) -> dict[str, Any]:
    settings = bench_settings(
        raw_url, database_pool_size=POOL_SIZE, database_max_overflow=MAX_OVERFLOW
    )
    url = settings.database
    started = time.perf_counter()
    if settings.backend is not Backend.SQLITE:
        await asyncio.wait_for(ensure_database(url, settings.backend), CONNECT_TIMEOUT_S)
    database = Database.from_settings(settings)
    try:
        version = await asyncio.wait_for(database.ping(), CONNECT_TIMEOUT_S)
        progress(f"[{name}] {version}: dropping all tables, migrating to head")
        await schema.drop_all_tables(database)
        await schema.upgrade(database)
        codes = await province_codes(database)
        if len(codes) < 2:
            raise RuntimeError(f"only {len(codes)} provinces seeded")
        await warm_pool(database, CALLERS)

        rounds = Rounds()
        for index in range(plan.rounds):
            province_code = codes[(2 * index) % len(codes)]
            seed_code = codes[(2 * index + 1) % len(codes)]
            await measure_segment(database, f"bench-{index}", plan.segment_ids, rounds)
            await measure_province(database, province_code, plan.province_uids, rounds)
            await measure_seed_design(database, seed_code, plan.seed_seconds, rounds)
            await measure_single_update(database, seed_code, plan.seed_seconds, rounds)
            progress(
                f"[{name}] round {index + 1}/{plan.rounds}: "
                f"segment {rounds.segment_ids_per_s[-1]:,.0f} ids/s, "
                f"province {rounds.province_uids_per_s[-1]:,.0f} uids/s ({province_code}), "
                f"seed design {rounds.seed_design_uids_per_s[-1]:,.0f} uids/s ({seed_code})"
            )
    finally:
        await database.dispose()

    segment = median(rounds.segment_ids_per_s)
    province = median(rounds.province_uids_per_s)
    seed = median(rounds.seed_design_uids_per_s)
    single = median(rounds.single_update_uids_per_s)
    result: dict[str, Any] = {
        "url": url.render_as_string(hide_password=True),
        "server": version,
        "segment_ids_per_s": segment,
        "province_uids_per_s": province,
        "seed_design_uids_per_s": seed,
        "single_update_uids_per_s": single,
        "province_vs_seed": ratio(province, seed),
        "province_vs_single_update": ratio(province, single),
        "segment_vs_seed": ratio(segment, seed),
        "seed_design_failures": rounds.seed_design_failures,
        "seed_design_version_conflicts": rounds.seed_design_conflicts,
        "seed_design_db_errors": rounds.seed_design_errors,
        "duplicates": rounds.duplicates,
        "per_round": {
            "segment_ids_per_s": [round(v) for v in rounds.segment_ids_per_s],
            "segment_reservations": rounds.segment_reservations,
            "province_uids_per_s": [round(v) for v in rounds.province_uids_per_s],
            "province_reservations": rounds.province_reservations,
            "seed_design_uids_per_s": [round(v) for v in rounds.seed_design_uids_per_s],
            "seed_design_uids": rounds.seed_design_uids,
            "single_update_uids_per_s": [round(v) for v in rounds.single_update_uids_per_s],
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    if rounds.problems:
        result["problems"] = rounds.problems
    return result


def targets(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Which targets each backend met; a backend that failed to run met none."""
    met: dict[str, dict[str, bool]] = {}
    for name, result in results.items():
        ok = "error" not in result
        checks = {
            "segment_ids_per_s": ok and result["segment_ids_per_s"] >= TARGET_SEGMENT_IDS_PER_S,
            "province_vs_seed": ok
            and (result["province_vs_seed"] or 0.0) >= TARGET_PROVINCE_VS_SEED,
            "no_duplicates": ok and result["duplicates"] == 0 and "problems" not in result,
        }
        if name != "sqlite":
            checks["province_uids_per_s"] = (
                ok and result["province_uids_per_s"] >= TARGET_PROVINCE_UIDS_PER_S
            )
        met[name] = checks
    return {
        "segment_ids_per_s_min": TARGET_SEGMENT_IDS_PER_S,
        "province_uids_per_s_min_on_servers": TARGET_PROVINCE_UIDS_PER_S,
        "province_vs_seed_min": TARGET_PROVINCE_VS_SEED,
        "met": met,
        "all_met": bool(met) and all(all(checks.values()) for checks in met.values()),
    }


async def main_async(backends: list[str], plan: Plan, quick: bool) -> dict[str, Any]:
    async def measure(name: str, raw_url: str) -> dict[str, Any]:
        return await bench_backend(name, raw_url, plan)

    results = await each_backend(backends, "uc-bench-ids-", measure)
    return {
        "bench": "ids",
        "quick": quick,
        "rounds": plan.rounds,
        "callers": CALLERS,
        "uid_block_size": UID_BLOCK_SIZE,
        "segment_ids_per_round": plan.segment_ids,
        "province_uids_per_round": plan.province_uids,
        "seed_design_seconds_per_round": plan.seed_seconds,
        "results": results,
        "targets": targets(results),
    }


def main(argv: list[str] | None = None) -> int:
    args = backend_args(__doc__, argv, quick_help="3 rounds of smaller counts")
    plan = Plan.of(quick=args.quick, rounds=args.rounds)
    return report_backends(main_async(args.backend_names, plan, args.quick))


if __name__ == "__main__":
    sys.exit(main())
