"""Code run in separate processes by the concurrency tests (spawned, so importable by name)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from usercenter.config import Settings
from usercenter.db import Database
from usercenter.ids.service import ProvinceUidAllocator, SegmentAllocator


def _database(url: str) -> Database:
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    return Database.from_settings(settings)


async def _take_segment_ids(url: str, biz_type: str, tasks: int, per_task: int) -> dict[str, Any]:
    database = _database(url)
    allocator = SegmentAllocator(database, biz_type, adaptive=False)

    async def one_task() -> list[int]:
        taken = []
        for _ in range(per_task):
            taken.append(await allocator.next_id())
            if random.random() < 0.2:
                await asyncio.sleep(0)
        return taken

    try:
        results = await asyncio.gather(*(one_task() for _ in range(tasks)))
        unused = await allocator.close()
    finally:
        await database.dispose()
    return {
        "ids": [value for result in results for value in result],
        "unused": unused,
        "reservations": allocator.reservations,
    }


def take_segment_ids(
    url: str, biz_type: str, tasks: int, per_task: int, barrier: Any
) -> dict[str, Any]:
    barrier.wait()
    return asyncio.run(_take_segment_ids(url, biz_type, tasks, per_task))


async def _take_uids(
    url: str, province: str, tasks: int, per_task: int, block_size: int
) -> dict[str, Any]:
    database = _database(url)
    allocator = ProvinceUidAllocator(database, block_size=block_size)

    async def one_task() -> tuple[list[str], list[str]]:
        uids, errors = [], []
        for _ in range(per_task):
            try:
                uids.append(await allocator.next_uid(province))
            except Exception as exc:  # collected: the test asserts on their codes
                errors.append(getattr(exc, "code", type(exc).__name__))
            if random.random() < 0.3:
                await asyncio.sleep(0)
        return uids, errors

    try:
        results = await asyncio.gather(*(one_task() for _ in range(tasks)))
        await allocator.close()
    finally:
        await database.dispose()
    return {
        "uids": [uid for uids, _ in results for uid in uids],
        "errors": [error for _, errors in results for error in errors],
    }


def take_uids(
    url: str, province: str, tasks: int, per_task: int, block_size: int, barrier: Any
) -> dict[str, Any]:
    barrier.wait()
    return asyncio.run(_take_uids(url, province, tasks, per_task, block_size))
