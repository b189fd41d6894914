"""Benchmark of permission checks: the staff guard's in-process check, POST /v1/authz/check
over HTTP (warm and cold cache), and the seed's design, a SQL join per check.

Everything runs against PostgreSQL and Redis as they are on this machine. The database is
created when missing, emptied and migrated to head; then 1,000 "warm" users and 8,000 "cold"
users get grants of the seeded roles, as the service stores them: `consumer` everywhere,
`merchant` scoped to one of 40 merchants, and every third user `agency` scoped to one of 10
agencies. A check asks for one of those permissions in a matching scope, in another scope, or
a permission the user does not hold (`wallet:view`), so about half are allowed. Several rounds
of each measurement, interleaved; the median of the rounds is reported.

- `in_process_warm_checks_per_s`: what `StaffWith(...)` does on every staff route, in this
  process: `await access.effective(subject)` then `.allows(code, scope)`, one caller in a
  loop, every subject already in the process memo (the access version trusted for
  `access_memo_seconds`, then read again: those reads are part of the figure).
  Target: >= 50,000/s.
- `http_warm_checks_per_s`: POST /v1/authz/check with batches of 20 checks over the warm
  users, to `usercenter serve` (one worker, started here as a subprocess with Redis; this
  process drives it with a minimal keep-alive HTTP/1.1 client, 8 requests in flight).
- `http_cold_checks_per_s`: the same, every check of every request naming a user the server
  has not looked up since the cache was invalidated, so each one misses the process memo and
  Redis and is computed from the database. The cache is invalidated before each round (the
  access version moved, then `access_memo_seconds` waited out); within a round, a request never
  names a user an earlier request named, which is the cost of invalidating before each
  request without the invalidation itself in the figure.
- `sql_join_checks_per_s` (the baseline, seed 000 without its cache): each check answered by
  one SELECT joining grants, roles, role_permissions and permissions for the subject, the code
  and the scope, on its own; 16 callers on 16 pooled connections. Also
  `sql_join_one_caller_checks_per_s`, one caller, the fair peer of the in-process figure.

    python bench/access.py [--quick] [--rounds N]

The database comes from USERCENTER_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/uc_bench_access), Redis from USERCENTER_BENCH_REDIS_URL
(default redis://127.0.0.1:6379/13, flushed first). `--quick` takes well under a minute.
Progress goes to stderr; the last line of stdout is one JSON object with every figure, the
ratios and whether the target was met (or {"error": ...} when the run could not finish).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    CONNECT_TIMEOUT_S,
    HOST,
    REQUEST_TIMEOUT_S,
    HttpConnection,
    Server,
    bench_parser,
    bench_settings,
    ensure_database,
    flush_redis,
    free_port,
    json_request,
    median_or,
    one_line,
    parse_bench_args,
    print_last_line,
    progress,
    ratio,
    service_env,
    spawn,
    stop,
    wait_until_up,
)
from sqlalchemy import insert, select, text

from usercenter import schema
from usercenter.access.models import Grant, Role
from usercenter.access.service.permissions import PermissionService, Scope, Subject
from usercenter.app import Services, build_services
from usercenter.kit import clock

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/uc_bench_access"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
SERVICE_CLIENT = ("bench", "bench-secret-access")

WARM_USERS = 1_000
COLD_USERS = 8_000
MERCHANTS = 40
AGENCIES = 10
BATCH = 20
IN_FLIGHT = 8
SQL_CALLERS = 16

TARGET_IN_PROCESS_WARM_PER_S = 50_000

# The seed's check: does any active role the subject holds, everywhere or in the scope,
# carry the active permission?
SQL_JOIN_CHECK = text(
    "SELECT 1 FROM grants g"
    " JOIN roles r ON r.id = g.role_id"
    " JOIN role_permissions rp ON rp.role_id = r.id"
    " JOIN permissions p ON p.id = rp.permission_id"
    " WHERE g.subject_type = :subject_type AND g.subject_id = :subject_id"
    " AND p.code = :code AND r.status = 'active' AND p.status = 'active'"
    " AND (g.scope_type = '' OR (g.scope_type = :scope_type AND g.scope_id = :scope_id))"
    " LIMIT 1"
)


@dataclass(frozen=True, slots=True)
class Plan:
    rounds: int
    in_process_checks: int
    http_seconds: float
    cold_requests: int
    sql_seconds: float

    @classmethod
    def of(cls, *, quick: bool, rounds: int | None) -> Plan:
        if quick:
            return cls(rounds or 3, 100_000, 1.0, 40, 0.8)
        return cls(rounds or 5, 500_000, 4.0, COLD_USERS // BATCH, 3.0)


@dataclass(frozen=True, slots=True)
class Check:
    subject: Subject
    code: str
    scope: Scope | None

    def as_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"subject": self.subject.key(), "permission": self.code}
        if self.scope is not None:
            item["scope_type"], item["scope_id"] = self.scope.type, self.scope.id
        return item

    def as_params(self) -> dict[str, Any]:
        return {
            "subject_type": self.subject.type,
            "subject_id": self.subject.id,
            "code": self.code,
            "scope_type": self.scope.type if self.scope else "",
            "scope_id": self.scope.id if self.scope else 0,
        }


@dataclass(slots=True)
class Rounds:
    in_process_warm: list[float] = field(default_factory=list)
    http_warm: list[float] = field(default_factory=list)
    http_cold: list[float] = field(default_factory=list)
    sql_join: list[float] = field(default_factory=list)
    sql_join_one: list[float] = field(default_factory=list)
    mismatches: int = 0
    problems: list[str] = field(default_factory=list)


# --- Data -----------------------------------------------------------------------------------


def user_id(index: int) -> int:
    return 10_000_000 + index


def held_scopes(index: int) -> tuple[int, int | None]:
    """The merchant the user's `merchant` grant names, and the agency (every third user)."""
    return index % MERCHANTS + 1, (index % AGENCIES + 1) if index % 3 == 0 else None


def checks_for(indexes: Sequence[int], rng: random.Random) -> list[Check]:
    """One check per index, a mix of allowed (about half) and denied."""
    checks = []
    for index in indexes:
        subject = Subject("user", user_id(index))
        merchant, agency = held_scopes(index)
        pick = rng.randrange(6)
        if pick == 0:
            checks.append(Check(subject, "consumer:order:create", None))
        elif pick == 1:
            checks.append(Check(subject, "merchant:order:refund", Scope("merchant", merchant)))
        elif pick == 2:
            other = merchant % MERCHANTS + 1
            checks.append(Check(subject, "merchant:order:refund", Scope("merchant", other)))
        elif pick == 3:
            checks.append(Check(subject, "agency:report:view", Scope("agency", agency or 1)))
        elif pick == 4:
            checks.append(Check(subject, "wallet:view", None))
        else:
            checks.append(Check(subject, "merchant:order:view", Scope("merchant", merchant)))
    return checks


async def seed_grants(state: Services) -> None:
    async with state.database.unit_of_work() as session:
        roles = {role.code: role.id for role in await session.scalars(select(Role))}
        now = clock.now()
        rows = []
        for index in range(WARM_USERS + COLD_USERS):
            merchant, agency = held_scopes(index)
            base = {"subject_type": "user", "subject_id": user_id(index), "created_at": now}
            rows.append({**base, "role_id": roles["consumer"], "scope_type": "", "scope_id": 0})
            rows.append(
                {
                    **base,
                    "role_id": roles["merchant"],
                    "scope_type": "merchant",
                    "scope_id": merchant,
                }
            )
            if agency is not None:
                rows.append(
                    {**base, "role_id": roles["agency"], "scope_type": "agency", "scope_id": agency}
                )
        for start in range(0, len(rows), 5_000):
            await session.execute(insert(Grant), rows[start : start + 5_000])
        await session.execute(text("UPDATE access_version SET version = version + 1 WHERE id = 1"))


async def invalidate(state: Services) -> None:
    """Move the access version, as every change does, and wait until every process has
    stopped trusting the one it read."""
    async with state.database.unit_of_work() as session:
        await session.execute(text("UPDATE access_version SET version = version + 1 WHERE id = 1"))
    await asyncio.sleep(state.settings.access_memo_seconds + 0.1)


# --- The server and a small HTTP client -----------------------------------------------------


SERVICE_AUTHORIZATION = {
    "Authorization": "Basic " + base64.b64encode(":".join(SERVICE_CLIENT).encode()).decode()
}


def request_bytes(method: str, path: str, port: int, payload: Any) -> bytes:
    """A request of the bench's service client."""
    return json_request(method, path, port, payload, headers=SERVICE_AUTHORIZATION)


async def post_batches(
    port: int, batches: list[list[Check]], *, seconds: float | None, expected: dict[Check, bool]
) -> tuple[float, int]:
    """Send the batches with IN_FLIGHT requests outstanding: all of them once (`seconds`
    None) or round and round for `seconds`. Returns (checks per second, wrong answers)."""
    payloads = [
        request_bytes("POST", "/v1/authz/check", port, {"checks": [c.as_json() for c in b]})
        for b in batches
    ]
    next_index = [0]
    done = [0]
    wrong = [0]
    deadline = time.perf_counter() + seconds if seconds is not None else None

    async def caller() -> None:
        connection = HttpConnection(port)
        try:
            while True:
                if deadline is not None:
                    if time.perf_counter() >= deadline:
                        return
                    index = next_index[0] % len(payloads)
                elif next_index[0] >= len(payloads):
                    return
                else:
                    index = next_index[0]
                next_index[0] += 1
                status, body = await asyncio.wait_for(
                    connection.send(payloads[index]), REQUEST_TIMEOUT_S
                )
                if status != 200:
                    raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
                answers = [r["allowed"] for r in json.loads(body)["results"]]
                wrong[0] += sum(
                    answer != expected[check]
                    for answer, check in zip(answers, batches[index], strict=True)
                )
                done[0] += len(answers)
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(IN_FLIGHT)))
    return done[0] / (time.perf_counter() - started), wrong[0]


# --- The measurements -----------------------------------------------------------------------


async def measure_in_process(access: PermissionService, checks: list[Check], count: int) -> float:
    for check in checks:  # warm: every subject in the process memo
        await access.effective(check.subject)
    effective = access.effective
    started = time.perf_counter()
    index = 0
    allowed = 0
    size = len(checks)
    for _ in range(count):
        check = checks[index]
        index = index + 1 if index + 1 < size else 0
        if (await effective(check.subject)).allows(check.code, check.scope):
            allowed += 1
    elapsed = time.perf_counter() - started
    if not allowed:
        raise RuntimeError("in-process checks allowed nothing")
    return count / elapsed


async def measure_sql_join(
    state: Services, checks: list[Check], seconds: float, callers: int, expected: dict[Check, bool]
) -> tuple[float, int]:
    done = [0]
    wrong = [0]
    deadline = time.perf_counter() + seconds

    async def caller(offset: int) -> None:
        async with state.database.engine.connect() as connection:
            index = offset
            while time.perf_counter() < deadline:
                check = checks[index % len(checks)]
                index += 1
                found = await connection.scalar(SQL_JOIN_CHECK, check.as_params())
                wrong[0] += (found is not None) != expected[check]
                done[0] += 1
            await connection.rollback()

    started = time.perf_counter()
    await asyncio.gather(*(caller(i * 97) for i in range(callers)))
    return done[0] / (time.perf_counter() - started), wrong[0]


async def expected_answers(access: PermissionService, checks: list[Check]) -> dict[Check, bool]:
    return {
        check: await access.is_allowed(check.subject, check.code, check.scope) for check in checks
    }


# --- The run --------------------------------------------------------------------------------


async def run(plan: Plan, scratch: Path) -> dict[str, Any]:
    database_url = os.environ.get("USERCENTER_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    redis_url = os.environ.get("USERCENTER_BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    env = {
        **service_env(database_url, redis_url, scratch),
        "USERCENTER_SERVICE_CLIENTS": ":".join(SERVICE_CLIENT),
    }
    settings = bench_settings(  # the served process's keys, so both read the same rows
        database_url,
        redis_url=redis_url,
        secret_keys=env["USERCENTER_SECRET_KEYS"],
        blind_index_key=env["USERCENTER_BLIND_INDEX_KEY"],
        keys_dir=scratch / "keys",
        database_pool_size=SQL_CALLERS,
        database_max_overflow=4,
    )
    await asyncio.wait_for(ensure_database(settings.database), CONNECT_TIMEOUT_S)
    await flush_redis(redis_url)

    state = build_services(settings)
    server: Server | None = None
    try:
        version = await asyncio.wait_for(state.database.ping(), CONNECT_TIMEOUT_S)
        progress(f"{version}: dropping all tables, migrating to head, seeding grants")
        await schema.drop_all_tables(state.database)
        await schema.upgrade(state.database)
        await seed_grants(state)

        rng = random.Random(7)
        warm_checks = checks_for(list(range(WARM_USERS)) * 4, rng)
        rng.shuffle(warm_checks)
        cold_indexes = list(range(WARM_USERS, WARM_USERS + COLD_USERS))
        rng.shuffle(cold_indexes)
        cold_checks = checks_for(cold_indexes[: plan.cold_requests * BATCH], rng)
        expected = await expected_answers(state.access, warm_checks + cold_checks)
        allowed_share = sum(expected.values()) / len(expected)
        warm_batches = [warm_checks[i : i + BATCH] for i in range(0, len(warm_checks), BATCH)]
        cold_batches = [cold_checks[i : i + BATCH] for i in range(0, len(cold_checks), BATCH)]

        port = free_port()
        argv = [sys.executable, "-m", "usercenter", "serve", "--host", HOST, "--port", str(port)]
        server = spawn("service", argv, env, scratch, port)
        await wait_until_up(server, "/readyz", SERVICE_AUTHORIZATION)
        progress(f"usercenter serve up on port {server.port} (1 worker, Redis)")

        rounds = Rounds()
        for index in range(plan.rounds):
            rounds.in_process_warm.append(
                await measure_in_process(state.access, warm_checks, plan.in_process_checks)
            )
            await invalidate(state)
            cold, wrong = await post_batches(
                server.port, cold_batches, seconds=None, expected=expected
            )
            rounds.http_cold.append(cold)
            rounds.mismatches += wrong
            await post_batches(server.port, warm_batches, seconds=None, expected=expected)
            warm, wrong = await post_batches(
                server.port, warm_batches, seconds=plan.http_seconds, expected=expected
            )
            rounds.http_warm.append(warm)
            rounds.mismatches += wrong
            joined, wrong = await measure_sql_join(
                state, warm_checks, plan.sql_seconds, SQL_CALLERS, expected
            )
            rounds.sql_join.append(joined)
            rounds.mismatches += wrong
            one, wrong = await measure_sql_join(
                state, warm_checks, plan.sql_seconds / 2, 1, expected
            )
            rounds.sql_join_one.append(one)
            rounds.mismatches += wrong
            progress(
                f"round {index + 1}/{plan.rounds}: in-process {rounds.in_process_warm[-1]:,.0f}/s, "
                f"HTTP warm {warm:,.0f}/s, HTTP cold {cold:,.0f}/s, "
                f"SQL join {joined:,.0f}/s ({SQL_CALLERS} callers), {one:,.0f}/s (one)"
            )
    finally:
        if server is not None:
            stop([server])
        await state.ids.close()
        await state.cache.close()
        await state.database.dispose()

    in_process = median_or(rounds.in_process_warm, 0.0)
    http_warm = median_or(rounds.http_warm, 0.0)
    http_cold = median_or(rounds.http_cold, 0.0)
    sql_join = median_or(rounds.sql_join, 0.0)
    sql_one = median_or(rounds.sql_join_one, 0.0)
    if rounds.mismatches:
        rounds.problems.append(f"{rounds.mismatches} answers differed from the service's own")
    result: dict[str, Any] = {
        "bench": "access",
        "quick": plan.rounds <= 3 and plan.in_process_checks < 500_000,
        "rounds": plan.rounds,
        "server": version,
        "batch": BATCH,
        "in_flight": IN_FLIGHT,
        "allowed_share": round(allowed_share, 2),
        "in_process_warm_checks_per_s": in_process,
        "http_warm_checks_per_s": http_warm,
        "http_cold_checks_per_s": http_cold,
        "sql_join_checks_per_s": sql_join,
        "sql_join_one_caller_checks_per_s": sql_one,
        "in_process_vs_sql_join_one_caller": ratio(in_process, sql_one),
        "http_warm_vs_sql_join": ratio(http_warm, sql_join),
        "http_warm_vs_cold": ratio(http_warm, http_cold),
        "per_round": {
            "in_process_warm_checks_per_s": [round(v) for v in rounds.in_process_warm],
            "http_warm_checks_per_s": [round(v) for v in rounds.http_warm],
            "http_cold_checks_per_s": [round(v) for v in rounds.http_cold],
            "sql_join_checks_per_s": [round(v) for v in rounds.sql_join],
            "sql_join_one_caller_checks_per_s": [round(v) for v in rounds.sql_join_one],
        },
        "targets": {
            "in_process_warm_checks_per_s_min": TARGET_IN_PROCESS_WARM_PER_S,
            "met": {
                "in_process_warm_checks_per_s": in_process >= TARGET_IN_PROCESS_WARM_PER_S,
                "answers_agree": rounds.mismatches == 0,
            },
        },
    }
    result["targets"]["all_met"] = all(result["targets"]["met"].values())
    if rounds.problems:
        result["problems"] = rounds.problems
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = bench_parser(
        __doc__,
        quick_help="3 rounds of smaller counts",
        rounds_help="rounds (default 5, quick 3)",
    )
    return parse_bench_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = Plan.of(quick=args.quick, rounds=args.rounds)
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="uc-bench-access-") as scratch:
            report = asyncio.run(run(plan, Path(scratch)))
        report["quick"] = args.quick
        report["seconds"] = round(time.perf_counter() - started, 1)
    except Exception as exc:
        report = {"bench": "access", "error": one_line(exc)}
        progress(f"failed: {report['error']}")
    logging.shutdown()
    print_last_line(report)
    return 0 if "error" not in report else 1


if __name__ == "__main__":
    sys.exit(main())
