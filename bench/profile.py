"""Benchmark of the profile's hot reads over HTTP against a bare FastAPI endpoint doing the same
indexed SELECT, in the same run on the same PostgreSQL.

The service runs as `usercenter serve --workers 2` (PostgreSQL and Redis as they are on this
machine); the peer, bench/profile_peers/bare_app.py, under uvicorn with 2 workers, verifies the
same ES256 access token against the service's JWKS and runs the SELECT the service runs, then
answers the rows as read (no decryption, no region names, no masking). 64 users are registered
through the API, each saves 3 addresses and submits a real-name verification (left pending).
One asyncio load generator in this process keeps 64 requests in flight, each connection
presenting its own user's token; each measurement runs for a fixed time (successes counted
from 0.5 s after its start), several interleaved rounds, medians reported.

- `addresses_per_s` (GET /v1/me/addresses) against `bare_addresses_per_s` (GET /addresses);
- `verification_per_s` (GET /v1/me/verification) against `bare_verification_per_s`.
Target: each ratio >= 0.7. Also the p50 and p99 latencies (ms) of each.

    python bench/profile.py [--quick] [--rounds N] [--seconds S]

The database comes from USERCENTER_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/uc_bench_profile, emptied and migrated first), Redis from
USERCENTER_BENCH_REDIS_URL (default redis://127.0.0.1:6379/12, flushed first). Progress goes
to stderr; the last line of stdout is one JSON object with every figure, the ratios and whether
the targets were met (or {"error": ...} when the run could not finish).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    HOST,
    REQUEST_TIMEOUT_S,
    HttpConnection,
    Server,
    build_request,
    clean_environment,
    flush_redis,
    free_port,
    json_request,
    median_or,
    parse_bench_args,
    percentile,
    progress,
    ratio,
    report_or_error,
    service_env,
    spawn,
    stop,
    timed_parser,
    wait_until_up,
)
from auth import prepare_service_database
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/uc_bench_profile"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
WORKERS = 2
USERS = 64
ADDRESSES_PER_USER = 3
IN_FLIGHT = 64
RAMP_SECONDS = 0.5
TARGET_RATIO = 0.7
# (figure, the service's path, the peer's path)
READS = [
    ("addresses", "/v1/me/addresses", "/addresses"),
    ("verification", "/v1/me/verification", "/verification"),
]
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_card(rng: random.Random) -> str:
    """A valid GB 11643 number: a Guangzhou area code, a birth date in 1970-1999, a sequence
    and its check digit."""
    body = f"440106{rng.randint(1970, 1999)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body += f"{rng.randint(0, 999):03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


@dataclass(slots=True)
class Load:
    ok: int
    failed: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_s(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


async def drive(port: int, path: str, tokens: list[str], seconds: float) -> Load:
    """IN_FLIGHT connections, each sending GET `path` with its own user's token, one at a time."""
    latencies: list[float] = []
    counts = {"ok": 0, "failed": 0}
    started = time.perf_counter()
    counting_from, deadline = started + RAMP_SECONDS, started + seconds

    async def worker(slot: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[slot % len(tokens)]}"}
        request = build_request("GET", path, port, headers=headers)
        connection = HttpConnection(port)
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                status, _ = await asyncio.wait_for(connection.send(request), REQUEST_TIMEOUT_S)
                finished = time.perf_counter()
                latencies.append(finished - sent)
                if status != 200:
                    counts["failed"] += 1
                elif counting_from <= finished <= deadline:
                    counts["ok"] += 1
        finally:
            connection.close()

    await asyncio.gather(*(worker(slot) for slot in range(IN_FLIGHT)))
    latencies.sort()
    return Load(
        ok=counts["ok"],
        failed=counts["failed"],
        seconds=deadline - counting_from,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
    )


async def seed_users(port: int) -> list[str]:
    """USERS registered through the API, each with its addresses and a pending verification:
    their access tokens."""
    rng = random.Random(15)
    tokens: list[str] = []
    connection = HttpConnection(port)
    try:
        for index in range(USERS):
            payload = {
                "username": f"bench_profile_{index:03d}",
                "password": f"bench profile password {index}",
                "platform": "WEB",
            }
            login = await connection.call(
                json_request("POST", "/v1/auth/register", port, payload), expect=201
            )
            token = login["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            for number in range(ADDRESSES_PER_USER):
                address = {
                    "receiver_name": "张三丰",
                    "receiver_phone": f"139{index:04d}{number:04d}",
                    "region_code": "440106",
                    "street": "天河路",
                    "detail": f"{number + 1}号",
                    "tag": "home",
                    "latitude": "23.1291630",
                    "longitude": "113.2644350",
                }
                await connection.call(
                    json_request("POST", "/v1/me/addresses", port, address, headers=auth),
                    expect=201,
                )
            verification = {
                "real_name": "张三丰",
                "document_type": "id_card",
                "document_number": id_card(rng),
            }
            request = json_request("POST", "/v1/me/verification", port, verification, headers=auth)
            status, body = await connection.send(request)
            if status not in (200, 201, 202):
                raise RuntimeError(f"POST /v1/me/verification: HTTP {status} {body[:200]!r}")
            tokens.append(token)
    finally:
        connection.close()
    return tokens


async def save_jwks(port: int, scratch: Path) -> Path:
    connection = HttpConnection(port)
    try:
        jwks = await connection.call(build_request("GET", "/.well-known/jwks.json", port))
    finally:
        connection.close()
    path = scratch / "jwks.json"
    path.write_text(json.dumps(jwks), encoding="utf-8")
    return path


def uvicorn_argv(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(HERE),
        "profile_peers.bare_app:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


async def run(quick: bool, rounds: int | None, seconds: int | None) -> dict[str, Any]:
    rounds = rounds or (3 if quick else 5)
    seconds = seconds or (2 if quick else 5)
    raw_url = os.environ.get("USERCENTER_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    redis_url = os.environ.get("USERCENTER_BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="uc-bench-profile-") as directory:
        scratch = Path(directory)
        env = service_env(raw_url, redis_url, scratch)
        env["USERCENTER_EVENTS_RELAY"] = "false"
        version = await prepare_service_database(raw_url, env, scratch)
        await flush_redis(redis_url)
        try:
            port = free_port()
            argv = [sys.executable, "-m", "usercenter", "serve", "--host", HOST]
            argv += ["--port", str(port), "--workers", str(WORKERS)]
            service = spawn("service", argv, env, scratch, port)
            servers.append(service)
            await wait_until_up(service, "/readyz")
            progress("[setup] service up; registering users")
            tokens = await seed_users(port)
            jwks = await save_jwks(port, scratch)
            peer_port = free_port()
            database_url = make_url(raw_url).set(drivername="postgresql+asyncpg")
            peer_env = {
                **clean_environment(),
                "BENCH_JWKS_FILE": str(jwks),
                "BENCH_DATABASE_URL": database_url.render_as_string(hide_password=False),
            }
            peer = spawn("bare", uvicorn_argv(peer_port), peer_env, scratch, peer_port)
            servers.append(peer)
            await wait_until_up(peer)
            figures: dict[str, list[Load]] = {}
            for round_number in range(1, rounds + 1):
                for name, path, bare_path in READS:
                    for figure, target_port, target_path in (
                        (name, port, path),
                        (f"bare_{name}", peer_port, bare_path),
                    ):
                        load = await drive(target_port, target_path, tokens, seconds)
                        figures.setdefault(figure, []).append(load)
                        progress(f"[round {round_number}] {figure}: {load.per_s:,.0f}/s")
        finally:
            stop(servers)
    report: dict[str, Any] = {"bench": "profile", "quick": quick, "postgresql": version}
    report["rounds"] = rounds
    report["seconds_per_measurement"] = seconds
    met: dict[str, bool] = {}
    for name, _, _ in READS:
        for figure in (name, f"bare_{name}"):
            loads = figures[figure]
            report[f"{figure}_per_s"] = median_or([load.per_s for load in loads], None)
            report[f"{figure}_p50_ms"] = median_or([load.p50_ms for load in loads], None, 2)
            report[f"{figure}_p99_ms"] = median_or([load.p99_ms for load in loads], None, 2)
            report[f"{figure}_failed"] = sum(load.failed for load in loads)
        value = ratio(report[f"{name}_per_s"], report[f"bare_{name}_per_s"])
        report[f"{name}_vs_bare"] = value
        met[f"{name}_vs_bare_ge_{TARGET_RATIO}"] = value is not None and value >= TARGET_RATIO
    report["targets"] = {**met, "all_met": all(met.values())}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = timed_parser(__doc__)
    args = parse_bench_args(parser, argv)
    return report_or_error(
        "profile", args.quick, lambda: run(args.quick, args.rounds, args.seconds)
    )


if __name__ == "__main__":
    sys.exit(main())
