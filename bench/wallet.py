"""Benchmark of the wallet ledger against the seed's optimistic-lock design and a raw UPDATE.

On each database (SQLite in a temporary directory, MariaDB, PostgreSQL), in-process through the
service layer (no HTTP), with 32 concurrent callers (asyncio tasks):

1. Many accounts (`many_*`): N user accounts (100,000; 10,000 with --quick) funded through the
   ledger; each caller loops over random debits (user -> revenue) and user-to-user transfers,
   every call with its own idempotency key. `many_transfers_per_s` with group commit on;
   `many_unbatched_per_s` with every call its own transaction, for comparison.
   Target on PostgreSQL: >= 10,000 transfers/s.
2. Hot account (`hot_*`): one sponsor account debited by all 32 callers (1 fen each).
   Baselines in the same run, each with its own table and the same 32 callers:
   - `seed_*`: seed 004's sp_deduct_promotion_balance as the seed describes it: per request one
     transaction of `SELECT balance, version`, then `UPDATE ... SET balance = balance - :x,
     version = version + 1 WHERE id = :id AND version = :v AND balance >= :x` and a log row;
     a version miss retried up to 3 times, then the request fails. Reports its successful
     debits/s and the share of requests that failed although the funds were there.
   - `raw_update_per_s`: one autocommitted `UPDATE ... SET balance = balance - 1 WHERE id = 1
     AND balance >= 1` per request: the single-statement limit of one hot row.
   Targets: hot >= 20x seed successes/s, zero failed requests that had the funds, hot >= raw.
3. Latency (`latency_*`): one caller, sequential debits at low load: p50/p99 with group commit
   on and off.

Every measurement runs `rounds` times (3; 1 with --quick); the medians are reported. After the
load the ledger is reconciled (`reconciled`: the number of differences, 0 expected).

    python bench/wallet.py [--quick] [--backends sqlite,mariadb,postgresql] [--rounds N]

Server databases come from USERCENTER_BENCH_MARIADB_URL and USERCENTER_BENCH_POSTGRES_URL
(default: the local servers, database uc_bench), created when missing, emptied and migrated.
A backend that cannot be reached is reported as {"error": ...}. Progress goes to stderr; the
last line of stdout is one JSON object with every figure and ratio.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from _common import (
    backend_args,
    bench_settings,
    each_backend,
    ensure_database,
    median,
    percentile_floor,
    progress,
    ratio,
    report_backends,
    warm_pool,
)
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from usercenter import schema
from usercenter.app import Services, build_services
from usercenter.config import Backend, Settings
from usercenter.identity.models import User
from usercenter.kit import clock
from usercenter.wallet.models import Asset, Kind, SystemAccount, system_owner, user_owner
from usercenter.wallet.repository.batches import ACCOUNTS, ENTRIES, TRANSFERS
from usercenter.wallet.service import Business

CALLERS = 32
OPENING_BALANCE = 10_000_000  # fen per user account
SPONSOR_FUNDS = 10**12
SEED_RETRIES = 3

_bench_tables = MetaData()
SEED_ACCOUNT = Table(
    "bench_seed_promotion_account",
    _bench_tables,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("balance", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
)
SEED_LOG = Table(
    "bench_seed_promotion_log",
    _bench_tables,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("amount", BigInteger, nullable=False),
    Column("balance_before", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
)
RAW_ACCOUNT = Table(
    "bench_raw_account",
    _bench_tables,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("balance", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Plan:
    rounds: int
    accounts: int
    seconds: float
    latency_calls: int

    @classmethod
    def of(cls, *, quick: bool, rounds: int | None) -> Plan:
        if quick:
            return cls(rounds=rounds or 1, accounts=10_000, seconds=2.0, latency_calls=100)
        return cls(rounds=rounds or 3, accounts=100_000, seconds=8.0, latency_calls=400)


@dataclass(slots=True)
class Load:
    ok: int = 0
    refused: int = 0  # an expected business refusal (insufficient funds)
    failed: int = 0  # an error a caller with the funds should never see
    elapsed: float = 0.0

    @property
    def ok_per_s(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0


async def run_load(
    seconds: float, call: Callable[[int], Awaitable[str]], callers: int = CALLERS
) -> Load:
    """`callers` tasks calling `call(caller)` until `seconds` pass; it answers ok, refused or
    failed."""
    load = Load()
    deadline = time.perf_counter() + seconds

    async def caller(index: int) -> None:
        while time.perf_counter() < deadline:
            outcome = await call(index)
            setattr(load, outcome, getattr(load, outcome) + 1)

    started = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(callers)))
    load.elapsed = time.perf_counter() - started
    return load


# --- set-up -----------------------------------------------------------------------------------


def wallet_settings(raw_url: str) -> Settings:
    return bench_settings(
        raw_url,
        database_pool_size=CALLERS,
        database_max_overflow=8,
        wallet_hold_sweep_seconds=0,
    )


async def fund_users(state: Services, count: int) -> list[int]:
    """`count` users (money goes only to users that exist), each with a CNY account funded
    with OPENING_BALANCE by one leg from the WeChat Pay account: written in bulk, but as the
    identity service and the ledger would (entries chained)."""
    users = [10_000_000 + i for i in range(count)]
    owners = [user_owner(user) for user in users]
    now = clock.now()
    async with state.database.transaction() as connection:
        for start in range(0, count, 2000):
            await connection.execute(
                insert(User),
                [
                    {
                        "id": user,
                        "uid": f"BN{user}",
                        "gender": 0,
                        "status": "active",
                        "register_method": "bench",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for user in users[start : start + 2000]
                ],
            )
    source = await state.wallet.account_id(
        system_owner(SystemAccount.EXTERNAL_WECHATPAY), Asset.CNY
    )
    # Ids first: on SQLite a segment is reserved in a write transaction of its own.
    transfer_ids = [await state.ids.next_id("WALLET_TRANSFER") for _ in range(0, count, 2000)]
    async with state.database.transaction() as connection:
        for start in range(0, count, 2000):
            chunk = owners[start : start + 2000]
            await connection.execute(
                insert(ACCOUNTS),
                [
                    {
                        "owner": owner,
                        "asset": "CNY",
                        "balance": OPENING_BALANCE,
                        "frozen": 0,
                        "may_go_negative": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for owner in chunk
                ],
            )
        ids = dict(
            (
                await connection.execute(
                    select(ACCOUNTS.c.owner, ACCOUNTS.c.id).where(ACCOUNTS.c.asset == "CNY")
                )
            ).all()
        )
        # One opening transfer per 2,000 accounts (a transfer's legs are numbered in a
        # SMALLINT), entries chained on the source account across them.
        for start, transfer_id in zip(range(0, count, 2000), transfer_ids, strict=True):
            await connection.execute(
                insert(TRANSFERS),
                {
                    "id": transfer_id,
                    "idempotency_key": f"bench|opening|{start}",
                    "request_hash": "-",
                    "kind": Kind.RECHARGE.value,
                    "amount": 0,
                    "refunded": 0,
                    "result": {"transfer_id": transfer_id},
                    "created_at": now,
                },
            )
            rows = []
            for leg, owner in enumerate(owners[start : start + 2000], start=1):
                before = -(start + leg - 1) * OPENING_BALANCE
                common = {
                    "transfer_id": transfer_id,
                    "leg": leg,
                    "asset": "CNY",
                    "kind": "RECHARGE",
                }
                rows.append(
                    {
                        **common,
                        "account_id": source,
                        "amount": -OPENING_BALANCE,
                        "balance_before": before,
                        "balance_after": before - OPENING_BALANCE,
                        "created_at": now,
                    }
                )
                rows.append(
                    {
                        **common,
                        "account_id": ids[owner],
                        "amount": OPENING_BALANCE,
                        "balance_before": 0,
                        "balance_after": OPENING_BALANCE,
                        "created_at": now,
                    }
                )
            await connection.execute(insert(ENTRIES), rows)
        await connection.execute(
            update(ACCOUNTS).where(ACCOUNTS.c.id == source).values(balance=-count * OPENING_BALANCE)
        )
    await state.wallet.remember_accounts(owners, Asset.CNY)
    return users


async def funded_sponsor(state: Services) -> int:
    """The hot workload's sponsor account, funded with SPONSOR_FUNDS; its id."""
    sponsor = await state.wallet.create_sponsor(
        name="bench", sponsor_type="ENTERPRISE", contact=None, operator_id="bench"
    )
    await state.wallet.fund_sponsor(
        sponsor_id=sponsor.id,
        amount=SPONSOR_FUNDS,
        channel=SystemAccount.EXTERNAL_ALIPAY,
        payment_id="bench-sponsor",
    )
    return sponsor.id


async def create_baseline_tables(state: Services) -> None:
    async with state.database.transaction() as connection:
        await connection.run_sync(_bench_tables.drop_all)
        await connection.run_sync(_bench_tables.create_all)
        await connection.execute(
            insert(SEED_ACCOUNT), {"id": 1, "balance": SPONSOR_FUNDS, "version": 0}
        )
        await connection.execute(insert(RAW_ACCOUNT), {"id": 1, "balance": SPONSOR_FUNDS})


# --- measurements -------------------------------------------------------------------------


_keys = itertools.count()  # idempotency keys, unique across measurements and rounds


async def many_accounts(state: Services, users: list[int], seconds: float) -> Load:
    """Half debits to revenue (`debit`: a revenue shard picked by the key), half user-to-user
    transfers (`move`)."""
    rng = random.Random(7)

    async def call(_: int) -> str:
        payer, business = rng.choice(users), Business(key=f"many-{next(_keys)}")
        payee = rng.choice(users)
        try:
            if rng.random() < 0.5 or payee == payer:
                await state.wallet.debit(
                    user_id=payer, asset=Asset.CNY, amount=rng.randint(1, 500), business=business
                )
            else:
                await state.wallet.move(
                    from_owner=user_owner(payer),
                    to_owner=user_owner(payee),
                    asset=Asset.CNY,
                    amount=rng.randint(1, 500),
                    kind=Kind.TRANSFER,
                    business=business,
                )
            return "ok"
        except DBAPIError:
            return "failed"

    return await run_load(seconds, call)


async def hot_account(state: Services, sponsor_id: int, seconds: float) -> Load:
    async def call(_: int) -> str:
        try:
            await state.wallet.charge_sponsor(
                sponsor_id=sponsor_id,
                amount=1,
                user_id=None,
                business=Business(key=f"hot-{next(_keys)}"),
            )
            return "ok"
        except DBAPIError:
            return "failed"

    return await run_load(seconds, call)


async def seed_design(state: Services, seconds: float) -> Load:
    """seed 004's optimistic version check with up to 3 retries, one transaction per try."""

    async def call(_: int) -> str:
        for _attempt in range(1 + SEED_RETRIES):
            try:
                async with state.database.transaction() as connection:
                    row = (
                        await connection.execute(
                            select(SEED_ACCOUNT.c.balance, SEED_ACCOUNT.c.version).where(
                                SEED_ACCOUNT.c.id == 1
                            )
                        )
                    ).one()
                    if row.balance < 1:
                        return "refused"
                    changed = await connection.execute(
                        update(SEED_ACCOUNT)
                        .where(
                            SEED_ACCOUNT.c.id == 1,
                            SEED_ACCOUNT.c.version == row.version,
                            SEED_ACCOUNT.c.balance >= 1,
                        )
                        .values(
                            balance=SEED_ACCOUNT.c.balance - 1, version=SEED_ACCOUNT.c.version + 1
                        )
                    )
                    if changed.rowcount != 1:
                        raise _VersionMiss
                    await connection.execute(
                        insert(SEED_LOG),
                        {
                            "amount": 1,
                            "balance_before": row.balance,
                            "balance_after": row.balance - 1,
                        },
                    )
                return "ok"
            except _VersionMiss:
                continue
            except DBAPIError:
                continue
        return "failed"

    return await run_load(seconds, call)


class _VersionMiss(Exception):
    pass


async def raw_update(state: Services, seconds: float) -> Load:
    statement = text(
        "UPDATE bench_raw_account SET balance = balance - 1 WHERE id = 1 AND balance >= 1"
    )
    engine = state.database.engine.execution_options(isolation_level="AUTOCOMMIT")
    if state.database.backend is Backend.SQLITE:
        engine = state.database.engine

    async def call(_: int) -> str:
        try:
            async with engine.begin() as connection:
                done = await connection.execute(statement)
            return "ok" if done.rowcount == 1 else "refused"
        except DBAPIError:
            return "failed"

    return await run_load(seconds, call)


async def latency(state: Services, user: int, calls: int, batching: bool) -> list[float]:
    state.wallet.ledger.batching = batching
    timings = []
    try:
        for _ in range(calls):
            started = time.perf_counter()
            await state.wallet.debit(
                user_id=user,
                asset=Asset.CNY,
                amount=1,
                business=Business(key=f"latency-{next(_keys)}"),
            )
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        state.wallet.ledger.batching = True
    return timings


# --- one backend ------------------------------------------------------------------------------


async def bench_backend(name: str, raw_url: str, plan: Plan) -> dict[str, Any]:
    settings = wallet_settings(raw_url)
    if settings.backend is not Backend.SQLITE:
        await asyncio.wait_for(ensure_database(settings.database, settings.backend), 10)
    state = build_services(settings)
    try:
        progress(f"[{name}] schema")
        await schema.drop_all_tables(state.database)
        await schema.upgrade(state.database)
        await create_baseline_tables(state)
        progress(f"[{name}] funding {plan.accounts} accounts")
        users = await fund_users(state, plan.accounts)
        sponsor_id = await funded_sponsor(state)
        await warm_pool(state.database, CALLERS)
        figures: dict[str, list[float]] = {}

        def add(key: str, value: float) -> None:
            figures.setdefault(key, []).append(value)

        for round_ in range(plan.rounds):
            progress(f"[{name}] round {round_ + 1}/{plan.rounds}: many accounts")
            load = await many_accounts(state, users, plan.seconds)
            add("many_transfers_per_s", load.ok_per_s)
            add("many_failed", load.failed)
            state.wallet.ledger.batching = False
            load = await many_accounts(state, users, plan.seconds / 2)
            state.wallet.ledger.batching = True
            add("many_unbatched_per_s", load.ok_per_s)
            progress(f"[{name}] round {round_ + 1}/{plan.rounds}: hot account")
            load = await hot_account(state, sponsor_id, plan.seconds)
            add("hot_debits_per_s", load.ok_per_s)
            add("hot_failed", load.failed)
            load = await seed_design(state, plan.seconds)
            add("seed_debits_per_s", load.ok_per_s)
            requests = load.ok + load.failed
            add("seed_failed_share", load.failed / requests if requests else 0.0)
            load = await raw_update(state, plan.seconds / 2)
            add("raw_update_per_s", load.ok_per_s)
            progress(f"[{name}] round {round_ + 1}/{plan.rounds}: latency")
            batched = await latency(state, users[0], plan.latency_calls, True)
            alone = await latency(state, users[1], plan.latency_calls, False)
            add("latency_batched_p50_ms", percentile_floor(batched, 0.5))
            add("latency_batched_p99_ms", percentile_floor(batched, 0.99))
            add("latency_unbatched_p50_ms", percentile_floor(alone, 0.5))
            add("latency_unbatched_p99_ms", percentile_floor(alone, 0.99))

        progress(f"[{name}] reconciling")
        report = await state.wallet.reconcile()
        result: dict[str, Any] = {
            key: median(values, 2 if "ms" in key or "share" in key else 1)
            for key, values in figures.items()
        }
        result.update(
            accounts=plan.accounts,
            batches=state.wallet.ledger.batches,
            postings_per_batch=round(
                state.wallet.ledger.batched_postings / max(state.wallet.ledger.batches, 1), 1
            ),
            hot_vs_seed=ratio(result["hot_debits_per_s"], result["seed_debits_per_s"]),
            hot_vs_raw_update=ratio(result["hot_debits_per_s"], result["raw_update_per_s"]),
            many_batched_vs_unbatched=ratio(
                result["many_transfers_per_s"], result["many_unbatched_per_s"]
            ),
            reconciled=len(report.differences),
        )
        return result
    finally:
        await state.wallet.close()
        await state.ids.close()
        await state.database.dispose()


def targets(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    pg = results.get("postgresql", {})
    met: dict[str, Any] = {}
    if "many_transfers_per_s" in pg:
        met["pg_many_transfers_ge_10000_per_s"] = pg["many_transfers_per_s"] >= 10_000
        met["pg_hot_ge_20x_seed"] = (pg["hot_vs_seed"] or 0) >= 20
        met["pg_hot_ge_raw_update"] = (pg["hot_vs_raw_update"] or 0) >= 1
    met["no_failed_requests_with_funds"] = all(
        r.get("hot_failed", 0) == 0 and r.get("many_failed", 0) == 0
        for r in results.values()
        if "error" not in r
    )
    met["reconciled_clean"] = all(
        r.get("reconciled") == 0 for r in results.values() if "error" not in r
    )
    return met


async def main_async(backends: list[str], plan: Plan, quick: bool) -> dict[str, Any]:
    async def measure(name: str, raw_url: str) -> dict[str, Any]:
        return await bench_backend(name, raw_url, plan)

    results = await each_backend(backends, "uc-bench-wallet-", measure)
    return {
        "bench": "wallet",
        "quick": quick,
        "rounds": plan.rounds,
        "callers": CALLERS,
        "seconds_per_measurement": plan.seconds,
        "results": results,
        "targets": targets(results),
    }


def main(argv: list[str] | None = None) -> int:
    args = backend_args(__doc__, argv, quick_help="1 round, 10,000 accounts, 2 s each")
    plan = Plan.of(quick=args.quick, rounds=args.rounds)
    return report_backends(main_async(args.backend_names, plan, args.quick))


if __name__ == "__main__":
    sys.exit(main())
