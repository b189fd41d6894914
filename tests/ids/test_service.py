from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.ids import workers
from usercenter.db import Database
from usercenter.ids.errors import UidSpaceExhausted, UnknownBizType, UnknownProvince
from usercenter.ids.models import IdSegment, UidReleased, UidSequence
from usercenter.ids.service import ProvinceUidAllocator, SegmentAllocator, register_biz_type


async def _max_id(db: Database, biz_type: str) -> int:
    async with db.read_session() as session:
        return int(
            await session.scalar(select(IdSegment.max_id).where(IdSegment.biz_type == biz_type))
        )


async def _province(db: Database, code: str) -> tuple[int, list[tuple[int, int]]]:
    async with db.read_session() as session:
        current = await session.scalar(
            select(UidSequence.current_sequence).where(UidSequence.province_code == code)
        )
        runs = (
            await session.execute(
                select(UidReleased.first_seq, UidReleased.last_seq).where(
                    UidReleased.province_code == code
                )
            )
        ).all()
    return int(current or 0), [(first, last) for first, last in runs]


def _expand(runs: list[Any]) -> list[int]:
    return [n for first, last in runs for n in range(first, last + 1)]


class TestSegmentAllocator:
    async def test_hands_out_consecutive_ids_from_one_segment(self, db: Database) -> None:
        allocator = SegmentAllocator(db, "ORDER", adaptive=False)
        ids = await allocator.next_ids(5)
        assert ids == [1, 2, 3, 4, 5]
        await allocator.close()

    async def test_prefetches_the_next_segment_before_the_current_runs_out(
        self, db: Database
    ) -> None:
        await register_biz_type(db, "PREFETCH", step=100)
        allocator = SegmentAllocator(db, "PREFETCH", adaptive=False)
        await allocator.next_ids(10)  # a tenth of the segment
        await allocator.settle()
        assert allocator.reservations == 2
        assert await _max_id(db, "PREFETCH") == 200
        ids = await allocator.next_ids(150)
        assert ids == list(range(11, 161))
        await allocator.close()

    async def test_restarted_allocator_never_repeats_an_id(self, db: Database) -> None:
        await register_biz_type(db, "RESTART", step=10)
        first = SegmentAllocator(db, "RESTART", adaptive=False)
        before = set(await first.next_ids(25))
        await first.close()
        second = SegmentAllocator(db, "RESTART", adaptive=False)
        after = set(await second.next_ids(25))
        await second.close()
        assert not before & after
        assert min(after) > max(before)

    async def test_step_doubles_when_segments_are_used_up_quickly(self, db: Database) -> None:
        await register_biz_type(db, "ADAPTIVE", step=10)
        allocator = SegmentAllocator(db, "ADAPTIVE", adaptive=True, segment_duration=60)
        await allocator.next_ids(100)
        await allocator.settle()
        # 10, then 20, 40, 80...: far fewer round trips than 100 / 10.
        assert allocator.reservations <= 5
        await allocator.close()

    async def test_unknown_business_type_is_refused(self, db: Database) -> None:
        allocator = SegmentAllocator(db, "NO_SUCH_TYPE")
        with pytest.raises(UnknownBizType) as caught:
            await allocator.next_id()
        assert caught.value.code == "biz_type_unknown"

    async def test_register_is_idempotent(self, db: Database) -> None:
        assert await register_biz_type(db, "TWICE", step=5) is True
        assert await register_biz_type(db, "TWICE", step=50) is False
        async with db.read_session() as session:
            step = await session.scalar(select(IdSegment.step).where(IdSegment.biz_type == "TWICE"))
        assert step == 5

    async def test_processes_never_share_or_lose_an_id(
        self, db: Database, database_url: str, run_in_processes: Callable[..., list[Any]]
    ) -> None:
        """8 processes x 4 tasks at once, segments of 7: every id handed out once, and every id
        reserved is either handed out or still held by the process that reserved it."""
        await register_biz_type(db, "CONCURRENT", step=7)
        results = await asyncio.to_thread(
            run_in_processes, 8, workers.take_segment_ids, database_url, "CONCURRENT", 4, 60
        )
        handed = [value for result in results for value in result["ids"]]
        held = _expand([run for result in results for run in result["unused"]])
        assert len(handed) == 8 * 4 * 60
        assert len(set(handed)) == len(handed), "an id was handed out twice"
        assert not set(handed) & set(held)
        max_id = await _max_id(db, "CONCURRENT")
        assert sorted(handed + held) == list(range(1, max_id + 1)), "an id was lost"
        assert sum(result["reservations"] for result in results) == max_id // 7


class TestProvinceUidAllocator:
    async def test_formats_province_code_and_six_digits(self, db: Database) -> None:
        allocator = ProvinceUidAllocator(db, block_size=3)
        assert [await allocator.next_uid("GD") for _ in range(4)] == [
            "GD000001",
            "GD000002",
            "GD000003",
            "GD000004",
        ]
        assert await allocator.next_uid("bj") == "BJ000001"
        await allocator.close()

    async def test_width_is_configurable(self, db: Database) -> None:
        allocator = ProvinceUidAllocator(db, width=8, block_size=2)
        assert await allocator.next_uid("SH") == "SH00000001"
        await allocator.close()

    async def test_all_34_province_codes_are_seeded(self, db: Database) -> None:
        async with db.read_session() as session:
            codes = set(await session.scalars(select(UidSequence.province_code)))
        assert len(codes) == 34
        assert {"GD", "BJ", "SH", "XJ", "HK", "MO", "TW"} <= codes

    async def test_unknown_province_is_refused_with_the_field(self, db: Database) -> None:
        allocator = ProvinceUidAllocator(db)
        with pytest.raises(UnknownProvince) as caught:
            await allocator.next_uid("ZZ")
        assert caught.value.field == "province"
        assert "ZZ" in caught.value.detail("en")

    async def test_overflow_is_an_error_naming_the_province(self, db: Database) -> None:
        async with db.unit_of_work() as session:
            await session.execute(
                update(UidSequence).where(UidSequence.province_code == "HI").values(max_sequence=5)
            )
        allocator = ProvinceUidAllocator(db, block_size=2)
        uids = [await allocator.next_uid("HI") for _ in range(5)]
        assert uids[-1] == "HI000005"
        with pytest.raises(UidSpaceExhausted) as caught:
            await allocator.next_uid("HI")
        assert caught.value.code == "uid_space_exhausted"
        assert "HI" in caught.value.detail("en")
        assert "HI" in caught.value.detail("zh-CN")
        # Still exhausted, never wrapped around.
        with pytest.raises(UidSpaceExhausted):
            await allocator.next_uid("HI")
        await allocator.close()
        assert (await _province(db, "HI"))[0] == 5

    async def test_width_bounds_the_sequence(self, db: Database) -> None:
        async with db.unit_of_work() as session:
            await session.execute(
                update(UidSequence)
                .where(UidSequence.province_code == "QH")
                .values(current_sequence=9998)
            )
        allocator = ProvinceUidAllocator(db, width=4, block_size=10)
        assert await allocator.next_uid("QH") == "QH9999"
        with pytest.raises(UidSpaceExhausted):
            await allocator.next_uid("QH")
        await allocator.close()

    async def test_blocks_grow_during_a_burst(self, db: Database) -> None:
        allocator = ProvinceUidAllocator(db, block_size=5, max_block_size=80)
        uids = await asyncio.gather(*(allocator.next_uid("ZJ") for _ in range(400)))
        await allocator.close()
        assert len(set(uids)) == 400
        # 5, 10, 20, 40, 80, 80...: far fewer round trips than 400 / 5.
        assert allocator.reservations <= 12

    async def test_close_gives_back_unused_numbers_for_the_next_process(self, db: Database) -> None:
        first = ProvinceUidAllocator(db, block_size=10)
        second = ProvinceUidAllocator(db, block_size=10)
        a = [await first.next_uid("JS") for _ in range(3)]  # reserves 1-10 (and prefetches)
        b = [await second.next_uid("JS") for _ in range(3)]
        await first.close()
        await second.close()
        third = ProvinceUidAllocator(db, block_size=10)
        current, _ = await _province(db, "JS")
        c = [await third.next_uid("JS") for _ in range(current - 6)]
        await third.close()
        sequences = sorted(int(uid[2:]) for uid in a + b + c)
        assert sequences == list(range(1, current + 1)), "a number was skipped or repeated"
        assert await _province(db, "JS") == (current, [])

    async def test_concurrent_processes_give_unique_dense_uids(
        self, db: Database, database_url: str, run_in_processes: Callable[..., list[Any]]
    ) -> None:
        """32 concurrent callers (4 processes x 8 tasks), blocks of 5: no duplicate, and after
        a clean shutdown every number up to the high-water mark is issued or given back."""
        results = await asyncio.to_thread(
            run_in_processes, 4, workers.take_uids, database_url, "GD", 8, 25, 5
        )
        uids = [uid for result in results for uid in result["uids"]]
        assert [e for result in results for e in result["errors"]] == []
        assert len(uids) == 4 * 8 * 25
        assert len(set(uids)) == len(uids), "a uid was handed out twice"
        current, released = await _province(db, "GD")
        issued = sorted(int(uid[2:]) for uid in uids)
        assert sorted(issued + _expand(released)) == list(range(1, current + 1))

    async def test_concurrent_callers_at_the_limit_get_exactly_the_remaining_numbers(
        self, db: Database, database_url: str, run_in_processes: Callable[..., list[Any]]
    ) -> None:
        async with db.unit_of_work() as session:
            await session.execute(
                update(UidSequence).where(UidSequence.province_code == "NX").values(max_sequence=50)
            )
        results = await asyncio.to_thread(
            run_in_processes, 4, workers.take_uids, database_url, "NX", 8, 3, 4
        )
        uids = [uid for result in results for uid in result["uids"]]
        errors = [e for result in results for e in result["errors"]]
        assert len(set(uids)) == len(uids), "a uid was handed out twice"
        current, released = await _province(db, "NX")
        issued = sorted(int(uid[2:]) for uid in uids)
        assert issued[-1] <= 50, "the limit was passed"
        # Numbers a process still held when its callers were done went back (shrinking the
        # high-water mark when they were the last ones): never lost, never past the limit.
        assert current <= 50
        assert sorted(issued + _expand(released)) == list(range(1, current + 1))
        assert errors == ["uid_space_exhausted"] * (96 - len(uids))
