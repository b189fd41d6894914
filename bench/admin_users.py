"""Benchmark of the console's users list over 100,000 users on PostgreSQL: GET /v1/admin/users
pages and searches (uid, phone, nickname, status), each a staff call (guarded, logged), against
a real `usercenter serve`.

The database is created when missing, emptied and migrated to head; then 100,000 users are
inserted in one `INSERT … SELECT generate_series` (ids and uids in order, registered over the
past year; one in 50 disabled, one in 200 deleted; nicknames `wang_17`, `li_503`… and 20 rare
ones `zhenxi_<id>`), 1,000 of them with a phone identity (blind index computed with the
server's keys), and ANALYZE. A super admin logs in with the password alone
(USERCENTER_STAFF_TOTP_REQUIRED=false: the login is not what is measured).

Each measurement sends its requests one at a time on a keep-alive connection and reports the
p50 / p95 / max latency in milliseconds:

- `healthz` (the baseline: the same server and client, no database);
- `first_page`: the newest 20 users;
- `deep_pages`: following `next_cursor` page after page (keyset: page 50 costs page 1);
- `by_uid`, `by_phone` (exact, through the blind index): a random seeded user each time;
- `status_disabled`: the first page of disabled users, then its next pages;
- `nickname_common` (`wang`: one user in ten) and `nickname_rare` (`zhenxi`: 20 users in
  100,000, the worst case of a substring search walked newest first);
- `nickname_and_status`.

Target: p95 <= 100 ms for every users search.

    python bench/admin_users.py [--quick] [--users N]

The database comes from USERCENTER_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/uc_bench_admin_users). `--quick` sends 60 requests per
measurement instead of 300 (the 100,000 users stay). Progress goes to stderr; the last line of
stdout is one JSON object with every figure, the ratios to the baseline and whether the
target was met (or {"error": ...} when the run could not finish).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from _common import (
    HOST,
    HttpConnection,
    bench_parser,
    bench_settings,
    build_request,
    clean_environment,
    ensure_database,
    free_port,
    json_request,
    one_line,
    parse_bench_args,
    percentile,
    print_last_line,
    progress,
    ratio,
    spawn,
    stop,
    wait_until_up,
)
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from usercenter import schema
from usercenter.app import build_services
from usercenter.identity.models import Identity
from usercenter.kit import clock
from usercenter.security.keys import generate_key_material

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/uc_bench_admin_users"
USERS = 100_000
PHONES = 1_000
PASSWORD = "bench staff password 1234"
TARGET_P95_MS = 100.0
SURNAMES = ["wang", "li", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu"]

SEED_USERS = text(
    """
    INSERT INTO users (id, uid, nickname, gender, status, register_method, created_at,
                       updated_at)
    SELECT n,
           'GD' || lpad(n::text, 7, '0'),
           CASE WHEN n % 5000 = 7 THEN 'zhenxi_' || n
                ELSE (ARRAY['wang','li','zhang','liu','chen','yang','zhao','huang','zhou','wu'])
                     [1 + n % 10] || '_' || (n % 997) END,
           n % 3,
           CASE WHEN n % 50 = 0 THEN 'disabled' WHEN n % 200 = 1 THEN 'deleted'
                ELSE 'active' END,
           'phone',
           now() - (:users - n) * interval '5 minutes',
           now() - (:users - n) * interval '5 minutes'
    FROM generate_series(1, :users) AS n
    """
)


def phone_of(user_id: int) -> str:
    return f"+86139{user_id:08d}"


async def seed(raw_url: str, users: int, keys: Any) -> list[int]:
    """The schema at head, `users` users and the phones of every hundredth; the ids with a
    phone."""
    settings = bench_settings(
        raw_url, secret_keys=keys.secret_keys_item, blind_index_key=keys.blind_index_key_b64
    )
    services = build_services(settings)
    try:
        await schema.drop_all_tables(services.database)
        await schema.upgrade(services.database)
        started = time.perf_counter()
        async with services.database.engine.begin() as connection:
            await connection.execute(SEED_USERS, {"users": users})
        with_phone = list(range(1, users + 1, max(1, users // PHONES)))
        blind = services.identity.context.keyring.blind_index
        now = clock.now()
        rows = [
            {
                "user_id": user_id,
                "type": "phone",
                "provider": "",
                "provider_app": "",
                "identifier_index": blind.compute(phone_of(user_id), context="identity.phone"),
                "identifier_encrypted": None,
                "union_id": None,
                "verified_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for user_id in with_phone
        ]
        async with services.database.engine.begin() as connection:
            await connection.execute(insert(Identity), rows)
        async with services.database.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
        progress(f"seeded {users:,} users ({len(rows):,} phones)", since=started)
        async with services.database.unit_of_work() as session:
            await services.staff.create_staff(
                session,
                username="bench_root",
                password=PASSWORD,
                roles=["super_admin"],
                ceiling=None,
            )
        return with_phone
    finally:
        await services.close()


def server_env(raw_url: str, keys: Any, scratch: Path) -> dict[str, str]:
    return {
        **clean_environment(),
        "USERCENTER_DATABASE_URL": raw_url,
        "USERCENTER_SECRET_KEYS": keys.secret_keys_item,
        "USERCENTER_BLIND_INDEX_KEY": keys.blind_index_key_b64,
        "USERCENTER_KEYS_DIR": str(scratch / "keys"),
        "USERCENTER_LOG_LEVEL": "WARNING",
        "USERCENTER_STAFF_TOTP_REQUIRED": "false",
    }


async def timed(
    connection: HttpConnection,
    requests: int,
    next_request: Callable[[], bytes],
    on_body: Callable[[bytes], None] | None = None,
) -> dict[str, float]:
    """Send `requests` requests one at a time (after 5 unmeasured), each answer handed to
    `on_body`: latency p50/p95/max, ms."""
    latencies: list[float] = []
    for index in range(requests + 5):
        data = next_request()
        started = time.perf_counter()
        status, body = await connection.send(data)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
        if on_body is not None:
            on_body(body)
        if index >= 5:
            latencies.append(elapsed)
    latencies.sort()
    return {
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "max_ms": round(latencies[-1], 2),
    }


class Walker:
    """Requests of one users query, following `next_cursor` page after page (back to the
    first page at the end), so every request is a page a console could ask for."""

    def __init__(self, port: int, headers: dict[str, str], query: dict[str, str]) -> None:
        self.port, self.headers, self.query = port, headers, query
        self.cursor: str | None = None

    def __call__(self) -> bytes:
        query = {**self.query, **({"cursor": self.cursor} if self.cursor else {})}
        return build_request(
            "GET", f"/v1/admin/users?{urlencode(query)}", self.port, headers=self.headers
        )


async def walk(
    connection: HttpConnection, walker: Walker, requests: int, *, follow: bool
) -> dict[str, float]:
    """As `timed`, the walker's cursor moved on from each answer when `follow`."""

    def moved_on(body: bytes) -> None:
        walker.cursor = json.loads(body)["next_cursor"]

    return await timed(connection, requests, walker, moved_on if follow else None)


async def run(quick: bool, users: int, scratch: Path) -> dict[str, Any]:
    raw_url = os.environ.get("USERCENTER_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    url = make_url(raw_url).set(drivername="postgresql+asyncpg")
    await ensure_database(url)
    keys = generate_key_material()
    with_phone = await seed(raw_url, users, keys)
    requests = 60 if quick else 300
    port = free_port()
    argv = [sys.executable, "-m", "usercenter", "serve", "--host", HOST, "--port", str(port)]
    server = spawn("service", argv, server_env(raw_url, keys, scratch), scratch, port)
    figures: dict[str, dict[str, float]] = {}
    try:
        await wait_until_up(server)
        progress(f"usercenter serve up on port {port}")
        connection = HttpConnection(port)
        login = json_request(
            "POST",
            "/v1/admin/auth/login",
            port,
            {"username": "bench_root", "password": PASSWORD},
        )
        token = (await connection.call(login))["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(13)

        figures["healthz"] = await timed(
            connection, requests, lambda: build_request("GET", "/healthz", port)
        )
        searches: list[tuple[str, dict[str, str], bool]] = [
            ("first_page", {"limit": "20"}, False),
            ("deep_pages", {"limit": "20"}, True),
            ("status_disabled", {"status": "disabled", "limit": "20"}, True),
            ("nickname_common", {"nickname": "wang", "limit": "20"}, True),
            ("nickname_rare", {"nickname": "zhenxi", "limit": "20"}, True),
            ("nickname_and_status", {"nickname": "li_5", "status": "active", "limit": "20"}, True),
        ]
        for name, query, follow in searches:
            figures[name] = await walk(
                connection, Walker(port, headers, query), requests, follow=follow
            )
            progress(f"{name}: {figures[name]}")

        def by_uid() -> bytes:
            uid = f"GD{rng.randint(1, users):07d}"
            return build_request("GET", f"/v1/admin/users?uid={uid}", port, headers=headers)

        def by_phone() -> bytes:
            phone = phone_of(rng.choice(with_phone))[3:]
            return build_request("GET", f"/v1/admin/users?phone={phone}", port, headers=headers)

        figures["by_uid"] = await timed(connection, requests, by_uid)
        figures["by_phone"] = await timed(connection, requests, by_phone)
        progress(f"by_uid: {figures['by_uid']}, by_phone: {figures['by_phone']}")
        connection.close()
    finally:
        stop([server])

    baseline = figures["healthz"]["p95_ms"]
    searched = {name: value for name, value in figures.items() if name != "healthz"}
    return {
        "bench": "admin_users",
        "quick": quick,
        "users": users,
        "requests_per_measurement": requests,
        "baseline_healthz": figures["healthz"],
        "searches": searched,
        "p95_vs_healthz": {name: ratio(v["p95_ms"], baseline) for name, v in searched.items()},
        "worst_p95_ms": max(v["p95_ms"] for v in searched.values()),
        "targets": {
            "p95_ms_max": TARGET_P95_MS,
            "met": {name: v["p95_ms"] <= TARGET_P95_MS for name, v in searched.items()},
            "all_met": all(v["p95_ms"] <= TARGET_P95_MS for v in searched.values()),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(
        __doc__,
        quick_help="60 requests per measurement instead of 300",
        rounds_help="(unused: one round)",
    )
    parser.add_argument("--users", type=int, default=USERS, help="users to seed (100,000)")
    args = parse_bench_args(parser, argv)
    started = time.perf_counter()
    logging.getLogger("asyncpg").setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory(prefix="uc-bench-admin-users-") as scratch:
            report = asyncio.run(run(args.quick, args.users, Path(scratch)))
        report["seconds"] = round(time.perf_counter() - started, 1)
    except Exception as exc:
        report = {"bench": "admin_users", "quick": args.quick, "error": one_line(exc)}
        progress(f"failed: {report['error']}")
    logging.shutdown()
    print_last_line(report)
    return 0 if "error" not in report else 1


if __name__ == "__main__":
    sys.exit(main())
