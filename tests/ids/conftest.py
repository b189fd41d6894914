from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest


@pytest.fixture(scope="session")
def run_in_processes() -> Iterator[Callable[..., list[Any]]]:
    """Run `function(*args, barrier)` in N fresh processes that start together."""
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()

    def run(processes: int, function: Callable[..., Any], *args: Any) -> list[Any]:
        barrier = manager.Barrier(processes)
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            futures = [pool.submit(function, *args, barrier) for _ in range(processes)]
            return [future.result(timeout=180) for future in futures]

    yield run
    manager.shutdown()
