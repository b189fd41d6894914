"""A process killed with SIGKILL in the middle of a load, then every request sent again with its
key by a new process: nothing lost, nothing doubled (on each database)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from tests.conftest import TEST_KEYS
from tests.wallet.conftest import balance_of, make_user, top_up
from usercenter.wallet.models import Transfer
from usercenter.wallet.service import WalletService

REQUESTS = 600
OPENING = 1_000_000

# One process's load: REQUESTS debits spread over the users, 16 at a time, each under its own
# key; a line on stdout for every answer.
LOAD = textwrap.dedent(
    """
    import asyncio, sys
    from usercenter.app import build_services
    from usercenter.config import Settings
    from usercenter.wallet.service import Business

    async def main() -> None:
        users = [int(u) for u in sys.argv[1].split(",")]
        state = build_services(Settings(_env_file=None, wallet_hold_sweep_seconds=0))
        todo = iter(range(int(sys.argv[2])))

        async def worker() -> None:
            for i in todo:
                await state.wallet.debit(
                    user_id=users[i % len(users)], asset="CNY", amount=i % 97 + 1,
                    business=Business(key=f"crash-{i}"),
                )
                print(i, flush=True)

        await asyncio.gather(*(worker() for _ in range(16)))
        await state.wallet.close()
        await state.ids.close()
        await state.database.dispose()

    asyncio.run(main())
    """
)


def run_load(database_url: str, users: list[int], workdir: Path) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("USERCENTER_")}
    env = {
        **clean,
        "USERCENTER_DATABASE_URL": database_url,
        "USERCENTER_SECRET_KEYS": TEST_KEYS.secret_keys_item,
        "USERCENTER_BLIND_INDEX_KEY": TEST_KEYS.blind_index_key_b64,
        "USERCENTER_LOG_LEVEL": "ERROR",
    }
    return subprocess.Popen(
        [sys.executable, "-c", LOAD, ",".join(map(str, users)), str(REQUESTS)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class TestKilledMidLoad:
    async def test_resending_everything_applies_each_request_once(
        self, wallet: WalletService, database_url: str, tmp_path: Path
    ) -> None:
        users = [await make_user(wallet) for _ in range(5)]
        for user in users:
            await top_up(wallet, user, "CNY", OPENING)

        first = run_load(database_url, users, tmp_path)
        assert first.stdout is not None
        answered = 0
        deadline = time.monotonic() + 60
        while answered < REQUESTS // 3 and time.monotonic() < deadline:
            line = first.stdout.readline()
            if not line:
                break
            answered += line.strip().isdigit()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL, first.stderr.read() if first.stderr else ""
        assert answered >= REQUESTS // 3, "the load was not under way when killed"

        second = run_load(database_url, users, tmp_path)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err[-2000:]
        assert sorted(int(line) for line in out.splitlines() if line.isdigit()) == list(
            range(REQUESTS)
        )

        async with wallet.database.read_session() as session:
            per_key = await session.execute(
                select(Transfer.idempotency_key, func.count())
                .where(Transfer.idempotency_key.like("CONSUME|key|crash-%"))
                .group_by(Transfer.idempotency_key)
            )
            counts = Counter(dict(per_key.all()))
        assert len(counts) == REQUESTS
        assert set(counts.values()) == {1}
        for position, user in enumerate(users):
            spent = sum(i % 97 + 1 for i in range(REQUESTS) if i % len(users) == position)
            assert await balance_of(wallet, user, "CNY") == (OPENING - spent, 0)
