"""Benchmark of logins, authenticated requests and refreshes against their natural baselines.

Everything runs on this machine in one go: PostgreSQL and Redis as they are, the service as
`usercenter serve --workers 2` (uvicorn; its default pool and password parameters, lockout
and captcha thresholds set out of reach), two peer apps under uvicorn with 2 workers each, and
one load generator. The load generator is wrk (one thread, bench/auth_peers/load.lua) when it
is installed, else a small asyncio HTTP/1.1 client in this process (uvloop when there); either
way the same one drives the service and its baselines, over keep-alive connections with a
fixed number of requests in flight. Each measurement runs for a fixed time; successes are
counted from 0.5 s after its start (the pipeline full) to its end, so the rate is the steady
one. The measurements are interleaved, several rounds, and the median of the rounds is
reported (latencies: the median of the rounds' p50 and p99).

- `login_per_s`: successful POST /v1/auth/password-login, 16 in flight, cycling through 16
  users. Baseline `argon2_verify_per_s`: argon2-cffi verifying a password against its
  argon2id hash at the service's default parameters (read from its settings), in a loop in 2
  processes (one per worker, one per core here) for the same time, the servers idle.
  Target: `login_vs_argon2` >= 0.85.
- `me_per_s`, `me_p50_ms`, `me_p99_ms`: GET /v1/me with a bearer access token, 64 in flight.
  Baseline `bare_fastapi_per_s`: bench/auth_peers/bare_app.py, a FastAPI app whose GET /me
  only verifies the same ES256 token against the service's JWKS (kid, signature, iss, aud, exp).
  Target: `me_vs_bare` >= 0.7.
  Peer `fastapi_users_per_s`: bench/auth_peers/fastapi_users_app.py, fastapi-users' GET
  /users/me with its JWT strategy (HS256, its default, unless --fastapi-users-jwt ES256), the
  user loaded from its own database on the same PostgreSQL server on every request.
  Target: `me_vs_fastapi_users` >= 1.5.
- `refresh_per_s`: successful POST /v1/auth/refresh, 64 in flight over 200 sessions logged in
  beforehand; a session is never in flight twice and always presents the latest refresh token
  it got (rotation: an old one would revoke it). Sessions still in flight when a measurement
  stops are dropped (their latest token is unknown) and replaced by new logins.
  Target: >= 1,000/s.

Also reported: `cpu_busy_percent`, how busy the cores were during each measurement (near 100:
CPU-bound), and per round `other_processes_cpu_percent`, the share of the cores that processes
outside this run and the hypervisor took; a round over 5% is listed under `problems`, as its
figures are skewed. `setup.usercenter` names the code measured (source directory, git commit).

    python bench/auth.py [--quick] [--rounds N] [--seconds S] [--generator auto|wrk|python]
                         [--fastapi-users-jwt HS256|ES256]

The databases come from USERCENTER_BENCH_AUTH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/uc_bench_auth; the fastapi-users peer gets uc_bench_fau
on the same server), both created when missing and emptied first; Redis from
USERCENTER_BENCH_REDIS_URL (default redis://127.0.0.1:6379/14), flushed first. The peers need
the `bench` extra (pip install -e '.[bench]'); without fastapi-users that peer is reported as
{"error": ...}. wrk is a system package (apt-get install wrk). Servers are started here and
stopped at the end, on errors and Ctrl-C too. Progress goes to stderr; the last line of stdout
is one JSON object with every figure, the ratios and whether the targets were met (or
{"error": ...} when the run could not finish).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import _common
import argon2
import jwt
from _common import (
    CONNECT_TIMEOUT_S,
    HOST,
    REQUEST_TIMEOUT_S,
    HttpConnection,
    Server,
    build_request,
    clean_environment,
    ensure_database,
    flush_redis,
    free_port,
    json_request,
    loadavg,
    median_or,
    one_line,
    parse_bench_args,
    percentile,
    ratio,
    report_or_error,
    service_env,
    spawn,
    stop,
    timed_parser,
    wait_until_up,
)
from sqlalchemy.engine import URL

from usercenter import schema
from usercenter.config import Settings, normalize_database_url
from usercenter.db import Database

HERE = Path(__file__).resolve().parent
PEERS = HERE / "auth_peers"
WRK_SCRIPT = PEERS / "load.lua"

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/uc_bench_auth"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
FAU_DATABASE = "uc_bench_fau"

WORKERS = 2
LOGIN_USERS = 16
LOGIN_IN_FLIGHT = 16
GET_IN_FLIGHT = 64
REFRESH_IN_FLIGHT = 64
REFRESH_SESSIONS = 200
WARMUP_SECONDS = 1
OTHERS_TOLERATED_PERCENT = 5.0  # beyond it, the round's figures are flagged
RAMP_SECONDS = 0.5  # successes in the first half second of a measurement are not counted

TARGET_LOGIN_VS_ARGON2 = 0.85
TARGET_ME_VS_BARE = 0.7
TARGET_ME_VS_FASTAPI_USERS = 1.5
TARGET_REFRESH_PER_S = 1_000

# The service's password parameters are its defaults, read from the settings model.
ARGON2_MEMORY_KIB = int(Settings.model_fields["password_memory_kib"].default)
ARGON2_TIME_COST = int(Settings.model_fields["password_time_cost"].default)
ARGON2_PARALLELISM = int(Settings.model_fields["password_parallelism"].default)


@dataclass(frozen=True, slots=True)
class Plan:
    rounds: int
    seconds: int  # per measurement and round (wrk takes whole seconds)

    @classmethod
    def of(cls, *, quick: bool, rounds: int | None, seconds: int | None) -> Plan:
        if quick:
            return cls(rounds or 3, seconds or 2)
        return cls(rounds or 5, seconds or 5)


STARTED = time.perf_counter()


def progress(message: str) -> None:
    _common.progress(message, since=STARTED)


# --- A small HTTP/1.1 client ----------------------------------------------------------------


# --- Workloads and the two load generators --------------------------------------------------


@dataclass(slots=True)
class Workload:
    """What to send: `get` (one request over and over), `login` or `refresh`."""

    kind: str
    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    users: list[tuple[str, str]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LoadResult:
    """`ok` successes arrived within the `seconds` from the end of the ramp to the last one."""

    ok: int
    failed: int
    seconds: float
    p50_ms: float
    p99_ms: float
    tokens: list[str] = field(default_factory=list)
    starved: int = 0
    errors: int = 0
    cpu_busy_percent: float | None = None  # of all cores, while it ran

    @property
    def per_s(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


def refresh_token_of(body: bytes) -> str | None:
    try:
        token = json.loads(body).get("refresh_token")
    except ValueError:
        return None
    return token if isinstance(token, str) else None


class PythonGenerator:
    """`in_flight` tasks on this event loop, each with its own keep-alive connection."""

    name = "python"

    async def run(self, port: int, work: Workload, seconds: float, in_flight: int) -> LoadResult:
        latencies: list[float] = []
        counts = {"ok": 0, "failed": 0, "errors": 0}
        collected: list[list[str]] = [[] for _ in range(in_flight)]
        if work.kind == "get":
            fixed = build_request("GET", work.path, port, headers=work.headers)
        elif work.kind == "refresh":
            for index, token in enumerate(work.tokens):
                collected[index % in_flight].append(token)
        started = time.perf_counter()
        counting_from, deadline = started + RAMP_SECONDS, started + seconds

        async def worker(slot: int) -> None:
            connection = HttpConnection(port)
            own = collected[slot]  # login: tokens got; refresh: the slot's own sessions
            turn = slot
            try:
                while time.perf_counter() < deadline:
                    if work.kind == "get":
                        data = fixed
                    elif work.kind == "login":
                        login, password = work.users[turn % len(work.users)]
                        turn += in_flight
                        payload = {"login": login, "password": password, "platform": "WEB"}
                        data = json_request("POST", "/v1/auth/password-login", port, payload)
                    else:
                        if not own:
                            return
                        turn = (turn + 1) % len(own)
                        payload = {"refresh_token": own[turn]}
                        data = json_request("POST", "/v1/auth/refresh", port, payload)
                    sent = time.perf_counter()
                    try:
                        status, body = await asyncio.wait_for(
                            connection.send(data), REQUEST_TIMEOUT_S
                        )
                    except (OSError, TimeoutError, asyncio.IncompleteReadError, RuntimeError):
                        counts["errors"] += 1
                        if work.kind == "refresh":
                            del own[turn]  # its fate is unknown: never present it again
                        continue
                    finished = time.perf_counter()
                    latencies.append(finished - sent)
                    token = refresh_token_of(body) if work.kind != "get" else None
                    if status != 200 or (work.kind != "get" and token is None):
                        counts["failed"] += 1
                        if work.kind == "refresh":
                            del own[turn]
                        continue
                    if counting_from <= finished <= deadline:
                        counts["ok"] += 1
                    if work.kind == "login":
                        own.append(str(token))
                    elif work.kind == "refresh":
                        own[turn] = str(token)
            finally:
                connection.close()

        await asyncio.gather(*(worker(slot) for slot in range(in_flight)))
        latencies.sort()
        return LoadResult(
            ok=counts["ok"],
            failed=counts["failed"],
            seconds=deadline - counting_from,
            p50_ms=percentile(latencies, 0.50) * 1000,
            p99_ms=percentile(latencies, 0.99) * 1000,
            tokens=[token for tokens in collected for token in tokens],
            errors=counts["errors"],
        )


def read_wrk_output(output: Path) -> tuple[dict[str, Any], list[str]]:
    """The JSON line load.lua wrote, and the refresh tokens it listed."""
    report = json.loads(output.read_text(encoding="utf-8"))
    tokens_file = Path(f"{output}.tokens")
    tokens = tokens_file.read_text(encoding="utf-8").split() if tokens_file.exists() else []
    return report, tokens


class WrkGenerator:
    """wrk with one thread and bench/auth_peers/load.lua."""

    def __init__(self, executable: str, scratch: Path) -> None:
        self.executable = executable
        self.scratch = scratch
        self.name = "wrk"
        self._runs = 0

    async def run(self, port: int, work: Workload, seconds: float, in_flight: int) -> LoadResult:
        self._runs += 1
        output = self.scratch / f"wrk-{self._runs}.json"
        env = {
            **os.environ,
            "BENCH_WRK_MODE": work.kind,
            "BENCH_WRK_OUTPUT": str(output),
            "BENCH_WRK_RAMP": str(RAMP_SECONDS),
        }
        argv = [
            self.executable,
            "-t1",
            f"-c{in_flight}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            f"{REQUEST_TIMEOUT_S:g}s",
            "-s",
            str(WRK_SCRIPT),
        ]
        if work.kind in {"login", "refresh"}:
            source = self.scratch / f"wrk-{self._runs}.input"
            lines = [f"{u} {p}" for u, p in work.users] if work.kind == "login" else work.tokens
            source.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
            env["BENCH_WRK_INPUT"] = str(source)
        for name, value in work.headers.items():
            argv += ["-H", f"{name}: {value}"]
        argv.append(f"http://{HOST}:{port}{work.path}")
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        stdout, stderr = await process.communicate()
        if process.returncode != 0 or not output.exists():
            raise RuntimeError(
                f"wrk exited {process.returncode}: {(stderr or stdout).decode()[-500:]}"
            )
        report, tokens = read_wrk_output(output)
        errors = report["errors"]
        return LoadResult(
            ok=report["ok"],
            failed=report["failed"],
            seconds=report["window_s"],
            p50_ms=report["p50_us"] / 1000,
            p99_ms=report["p99_us"] / 1000,
            tokens=tokens,
            starved=report["starved"],
            errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        )


Generator = PythonGenerator | WrkGenerator


# --- Other processes' share of the cores ------------------------------------------------------

OURS = frozenset({"postgres", "redis-server"})  # servers this run uses, besides its children


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    at: float
    busy: float  # CPU seconds the machine was busy (user, nice, system, irq, softirq)
    steal: float  # CPU seconds the hypervisor gave to someone else
    ours: dict[int, float]  # CPU seconds of each process of this run, its reaped children too


def cpu_snapshot() -> CpuSnapshot | None:
    """The machine's CPU time and this run's; None off Linux.

    This run: this process and its descendants (servers, workers, wrk, the argon2
    processes), PostgreSQL and Redis. Each counts its reaped children's time too, so a wrk
    that has come and gone, or a PostgreSQL backend, is still counted."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()
        entries = [entry.name for entry in os.scandir("/proc") if entry.name.isdigit()]
    except (OSError, ValueError, IndexError):
        return None
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    used: dict[int, float] = {}
    for name in entries:
        try:
            raw = Path(f"/proc/{name}/stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # gone meanwhile
        pid = int(name)
        names[pid] = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        parents[pid] = int(fields[1])
        used[pid] = sum(int(value) for value in fields[11:15]) / ticks  # utime..cstime
    me = os.getpid()

    def is_ours(pid: int) -> bool:
        for _ in range(64):
            if pid == me or names.get(pid) in OURS:
                return True
            if pid <= 1:
                return False
            pid = parents.get(pid, 0)
        return False

    # Interrupt time is in: the kernel charges it to the process it interrupted.
    busy = sum(int(cpu[index]) for index in (1, 2, 3, 6, 7))  # user nice system irq softirq
    return CpuSnapshot(
        at=time.monotonic(),
        busy=busy / ticks,
        steal=int(cpu[8]) / ticks,
        ours={pid: seconds for pid, seconds in used.items() if is_ours(pid)},
    )


def busy_percent(before: CpuSnapshot | None, after: CpuSnapshot | None) -> float | None:
    """How busy all cores were between two snapshots, in percent."""
    if before is None or after is None or after.at <= before.at:
        return None
    return round(
        100 * (after.busy - before.busy) / ((after.at - before.at) * (os.cpu_count() or 1))
    )


def other_cpu_percent(before: CpuSnapshot | None, after: CpuSnapshot | None) -> float | None:
    """The share of all cores that neither this run nor the machine's idle time had between
    two snapshots: other processes, and time stolen by the hypervisor."""
    if before is None or after is None or after.at <= before.at:
        return None
    ours = sum(seconds - before.ours.get(pid, 0.0) for pid, seconds in after.ours.items())
    others = (after.busy - before.busy) - ours + (after.steal - before.steal)
    return round(100 * max(others, 0.0) / ((after.at - before.at) * (os.cpu_count() or 1)), 1)


# --- The argon2 baseline --------------------------------------------------------------------


def argon2_verify_loop(seconds: float, start_at: float) -> tuple[int, float]:
    """Verify one password against its argon2id hash for `seconds`: (verifications, elapsed)."""
    hasher = argon2.PasswordHasher(
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        type=argon2.Type.ID,
    )
    password = "bench-" + secrets.token_urlsafe(12)
    stored = hasher.hash(password)
    hasher.verify(stored, password)
    time.sleep(max(0.0, start_at - time.time()))
    count = 0
    started = time.perf_counter()
    end = started + seconds
    while time.perf_counter() < end:
        hasher.verify(stored, password)
        count += 1
    return count, time.perf_counter() - started


async def measure_argon2(pool: ProcessPoolExecutor, seconds: float) -> float:
    loop = asyncio.get_running_loop()
    start_at = time.time() + 0.1
    results = await asyncio.gather(
        *(loop.run_in_executor(pool, argon2_verify_loop, seconds, start_at) for _ in range(WORKERS))
    )
    return sum(count / elapsed for count, elapsed in results)


# --- Servers --------------------------------------------------------------------------------


def uvicorn_argv(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(PEERS),
        app,
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


# --- Databases ------------------------------------------------------------------------------


async def run_command(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:4])} exited {process.returncode}: {output[-800:]!r}")
    return output.decode().strip()


async def prepare_service_database(raw_url: str, env: dict[str, str], cwd: Path) -> str:
    settings = Settings(_env_file=None, database_url=raw_url)  # type: ignore[call-arg]
    await asyncio.wait_for(ensure_database(settings.database), CONNECT_TIMEOUT_S)
    database = Database.from_settings(settings)
    try:
        version = await asyncio.wait_for(database.ping(), CONNECT_TIMEOUT_S)
        await schema.drop_all_tables(database)
    finally:
        await database.dispose()
    migrated = await run_command([sys.executable, "-m", "usercenter", "migrate"], env, cwd)
    progress(f"[setup] {version}; usercenter migrate: {migrated}")
    return version


# --- The run --------------------------------------------------------------------------------


@dataclass(slots=True)
class Figures:
    """Per-round figures and what went wrong."""

    per_s: dict[str, list[float]] = field(default_factory=dict)
    p50_ms: dict[str, list[float]] = field(default_factory=dict)
    p99_ms: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    other_cpu_percent: list[float | None] = field(default_factory=list)
    busy_percent: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, result: LoadResult) -> None:
        self.per_s.setdefault(name, []).append(result.per_s)
        if result.cpu_busy_percent is not None:
            self.busy_percent.setdefault(name, []).append(result.cpu_busy_percent)
        self.p50_ms.setdefault(name, []).append(result.p50_ms)
        self.p99_ms.setdefault(name, []).append(result.p99_ms)
        bad = result.failed + result.errors
        self.failures[name] = self.failures.get(name, 0) + bad
        if result.starved:
            self.problems.append(f"{name}: {result.starved} requests found no session ready")

    def rate(self, name: str) -> float | None:
        return median_or(self.per_s.get(name, []), None)

    def latency(self, name: str) -> dict[str, float | None]:
        return {
            "p50_ms": median_or(self.p50_ms.get(name, []), None, 2),
            "p99_ms": median_or(self.p99_ms.get(name, []), None, 2),
        }

    def per_round(self) -> dict[str, Any]:
        """How busy the cores were during each measurement (median of the rounds: well under
        100 means the measured side waited on something other than CPU: the disk, locks, a
        pool), the failures, and every round's rate."""
        return {
            "cpu_busy_percent": {
                name: median_or(values, None, 0) for name, values in self.busy_percent.items()
            },
            "failures": self.failures,
            "per_round_per_s": {
                name: [round(value, 1) for value in values] for name, values in self.per_s.items()
            },
        }


class Bench:
    def __init__(self, plan: Plan, generator: Generator, scratch: Path, fau_jwt: str) -> None:
        self.plan = plan
        self.generator = generator
        self.scratch = scratch
        self.fau_jwt = fau_jwt
        self.servers: dict[str, Server] = {}
        self.users: list[tuple[str, str]] = []
        self.sessions: list[str] = []  # latest refresh tokens of live sessions
        self.fau_token: str | None = None
        self.fau_error: str | None = None
        self.figures = Figures()
        self.loadavg: dict[str, list[float]] = {}

    # setup

    def service_env(self, database_url: str, redis_url: str) -> dict[str, str]:
        return {
            **service_env(database_url, redis_url, self.scratch),
            "USERCENTER_LOGIN_MAX_FAILURES": "1000000",
            "USERCENTER_LOGIN_CAPTCHA_AFTER_ADDRESS_FAILURES": "1000000",
        }

    async def start_service(self, env: dict[str, str]) -> None:
        port = free_port()
        argv = [sys.executable, "-m", "usercenter", "serve", "--host", HOST]
        argv += ["--port", str(port), "--workers", str(WORKERS)]
        self.servers["service"] = server = spawn("service", argv, env, self.scratch, port)
        await wait_until_up(server, "/readyz")
        # Both workers up: a few more answers, from whichever worker takes them.
        for _ in range(10):
            await wait_until_up(server, "/readyz")

    async def register_users(self) -> None:
        port = self.servers["service"].port
        self.users = [
            (f"bench_login_{index:02d}", "pw-" + secrets.token_urlsafe(18))
            for index in range(LOGIN_USERS)
        ]

        async def register(name: str, password: str) -> None:
            connection = HttpConnection(port)
            payload = {"username": name, "password": password, "platform": "WEB"}
            try:
                await connection.call(
                    json_request("POST", "/v1/auth/register", port, payload), expect=201
                )
            finally:
                connection.close()

        await asyncio.gather(*(register(name, password) for name, password in self.users))

    async def login(self, index: int = 0) -> dict[str, Any]:
        port = self.servers["service"].port
        name, password = self.users[index % len(self.users)]
        payload = {"login": name, "password": password, "platform": "WEB"}
        connection = HttpConnection(port)
        try:
            result: dict[str, Any] = await connection.call(
                json_request("POST", "/v1/auth/password-login", port, payload)
            )
        finally:
            connection.close()
        return result

    async def save_jwks(self, access_token: str) -> Path:
        """The service's JWKS in a file for the bare peer; it must hold the token's kid."""
        kid = jwt.get_unverified_header(access_token).get("kid")
        port = self.servers["service"].port
        for _ in range(20):
            connection = HttpConnection(port)
            try:
                jwks = await connection.call(build_request("GET", "/.well-known/jwks.json", port))
            finally:
                connection.close()
            if any(key.get("kid") == kid for key in jwks["keys"]):
                path = self.scratch / "jwks.json"
                path.write_text(json.dumps(jwks), encoding="utf-8")
                return path
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the JWKS never listed the token's kid {kid!r}")

    async def start_bare(self, jwks: Path) -> None:
        port = free_port()
        env = {**clean_environment(), "BENCH_JWKS_FILE": str(jwks)}
        argv = uvicorn_argv("bare_app:app", port)
        self.servers["bare"] = server = spawn("bare", argv, env, self.scratch, port)
        await wait_until_up(server)

    async def start_fastapi_users(self, service_url: URL) -> None:
        if importlib.util.find_spec("fastapi_users") is None:
            raise RuntimeError("fastapi-users is not installed (pip install -e '.[bench]')")
        url = service_url.set(database=FAU_DATABASE)
        await asyncio.wait_for(ensure_database(url), CONNECT_TIMEOUT_S)
        env = {
            **clean_environment(),
            "BENCH_FAU_DATABASE_URL": url.render_as_string(hide_password=False),
            "BENCH_FAU_JWT_ALGORITHM": self.fau_jwt,
        }
        if self.fau_jwt == "ES256":
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import ec

            key_file = self.scratch / "fau-es256.pem"
            key_file.write_bytes(
                ec.generate_private_key(ec.SECP256R1()).private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            env["BENCH_FAU_SECRET"] = str(key_file)
        app_file = PEERS / "fastapi_users_app.py"
        await run_command([sys.executable, str(app_file), "init"], env, self.scratch)
        port = free_port()
        argv = uvicorn_argv("fastapi_users_app:app", port)
        self.servers["fastapi_users"] = server = spawn("fau", argv, env, self.scratch, port)
        await wait_until_up(server)
        email, password = "bench@example.org", "pw-" + secrets.token_urlsafe(18)
        connection = HttpConnection(port)
        try:
            await connection.call(
                json_request(
                    "POST", "/auth/register", port, {"email": email, "password": password}
                ),
                expect=201,
            )
            form = f"username={email.replace('@', '%40')}&password={password}".encode()
            answer = await connection.call(
                build_request(
                    "POST",
                    "/auth/jwt/login",
                    port,
                    body=form,
                    content_type="application/x-www-form-urlencoded",
                )
            )
            self.fau_token = str(answer["access_token"])
            me = await connection.call(
                build_request(
                    "GET",
                    "/users/me",
                    port,
                    headers={"Authorization": f"Bearer {self.fau_token}"},
                )
            )
            if me.get("email") != email:
                raise RuntimeError(f"GET /users/me answered {me!r}")
        finally:
            connection.close()

    # measurements

    async def load(self, server: str, work: Workload, in_flight: int, seconds: float) -> LoadResult:
        before = cpu_snapshot()
        result = await self.generator.run(self.servers[server].port, work, seconds, in_flight)
        result.cpu_busy_percent = busy_percent(before, cpu_snapshot())
        return result

    async def top_up_sessions(self) -> None:
        """Log in (LOGIN_IN_FLIGHT at a time) until there are REFRESH_SESSIONS sessions."""
        missing = REFRESH_SESSIONS - len(self.sessions)
        if missing <= 0:
            return
        queue = list(range(missing))

        async def log_in() -> None:
            while queue:
                index = queue.pop()
                self.sessions.append(str((await self.login(index))["refresh_token"]))

        await asyncio.gather(*(log_in() for _ in range(LOGIN_IN_FLIGHT)))

    async def measure_login(self, seconds: float) -> LoadResult:
        work = Workload("login", users=self.users)
        result = await self.load("service", work, LOGIN_IN_FLIGHT, seconds)
        self.sessions.extend(result.tokens)
        return result

    async def measure_me(self, seconds: float) -> dict[str, LoadResult]:
        token = str((await self.login())["access_token"])
        bearer = {"Authorization": f"Bearer {token}"}
        results = {
            "me": await self.load(
                "service", Workload("get", "/v1/me", bearer), GET_IN_FLIGHT, seconds
            ),
            "bare": await self.load("bare", Workload("get", "/me", bearer), GET_IN_FLIGHT, seconds),
        }
        if self.fau_token is not None:
            fau_bearer = {"Authorization": f"Bearer {self.fau_token}"}
            results["fastapi_users"] = await self.load(
                "fastapi_users", Workload("get", "/users/me", fau_bearer), GET_IN_FLIGHT, seconds
            )
        return results

    async def measure_refresh(self, seconds: float) -> LoadResult:
        await self.top_up_sessions()
        batch, rest = self.sessions[:REFRESH_SESSIONS], self.sessions[REFRESH_SESSIONS:]
        work = Workload("refresh", tokens=batch)
        result = await self.load("service", work, REFRESH_IN_FLIGHT, seconds)
        # Sessions in flight when the run stopped are left out: their latest token is unknown.
        self.sessions = result.tokens + rest
        return result

    async def warm_up(self) -> None:
        """Every server and pool busy once, all at the same time, before anything counts.
        (Refreshes are not warmed up: that would cost the sessions in flight at its end, and
        logins warm the same pool.)"""
        token = str((await self.login())["access_token"])
        bearer = {"Authorization": f"Bearer {token}"}
        loads = [
            self.measure_login(2 * WARMUP_SECONDS),
            self.load("service", Workload("get", "/v1/me", bearer), GET_IN_FLIGHT, WARMUP_SECONDS),
            self.load("bare", Workload("get", "/me", bearer), GET_IN_FLIGHT, WARMUP_SECONDS),
        ]
        if self.fau_token is not None:
            fau_bearer = {"Authorization": f"Bearer {self.fau_token}"}
            loads.append(
                self.load(
                    "fastapi_users",
                    Workload("get", "/users/me", fau_bearer),
                    GET_IN_FLIGHT,
                    WARMUP_SECONDS,
                )
            )
        await asyncio.gather(*loads)

    async def run_rounds(self, pool: ProcessPoolExecutor) -> None:
        figures, seconds = self.figures, self.plan.seconds
        for index in range(self.plan.rounds):
            before = cpu_snapshot()
            argon2_rate = await measure_argon2(pool, seconds)
            figures.per_s.setdefault("argon2", []).append(argon2_rate)
            argon2_busy = busy_percent(before, cpu_snapshot())
            if argon2_busy is not None:
                figures.busy_percent.setdefault("argon2", []).append(argon2_busy)
            figures.add("login", await self.measure_login(seconds))
            for name, result in (await self.measure_me(seconds)).items():
                figures.add(name, result)
            figures.add("refresh", await self.measure_refresh(seconds))
            others = other_cpu_percent(before, cpu_snapshot())
            figures.other_cpu_percent.append(others)
            if others is not None and others > OTHERS_TOLERATED_PERCENT:
                figures.problems.append(
                    f"round {index + 1}: other processes used {others:g}% of the cores"
                )
            last = {name: values[-1] for name, values in figures.per_s.items()}
            fau = last.get("fastapi_users")
            progress(
                f"[round {index + 1}/{self.plan.rounds}] argon2 {last['argon2']:,.1f}/s, "
                f"login {last['login']:,.1f}/s, me {last['me']:,.0f}/s, "
                f"bare {last['bare']:,.0f}/s, "
                f"fastapi-users {'-' if fau is None else f'{fau:,.0f}'}/s, "
                f"refresh {last['refresh']:,.0f}/s; other processes "
                f"{'?' if others is None else f'{others:g}'}% of the cores"
            )

    def stop_all(self) -> None:
        stop(list(self.servers.values()))


def targets(report: dict[str, Any]) -> dict[str, Any]:
    def at_least(value: float | None, floor: float) -> bool:
        return value is not None and value >= floor

    met = {
        "login_vs_argon2": at_least(report["login_vs_argon2"], TARGET_LOGIN_VS_ARGON2),
        "me_vs_bare": at_least(report["me_vs_bare"], TARGET_ME_VS_BARE),
        "me_vs_fastapi_users": at_least(report["me_vs_fastapi_users"], TARGET_ME_VS_FASTAPI_USERS),
        "refresh_per_s": at_least(report["refresh_per_s"], TARGET_REFRESH_PER_S),
    }
    return {
        "login_vs_argon2_min": TARGET_LOGIN_VS_ARGON2,
        "me_vs_bare_min": TARGET_ME_VS_BARE,
        "me_vs_fastapi_users_min": TARGET_ME_VS_FASTAPI_USERS,
        "refresh_per_s_min": TARGET_REFRESH_PER_S,
        "met": met,
        "all_met": all(met.values()),
    }


def build_report(bench: Bench, quick: bool, version: str, seconds: float) -> dict[str, Any]:
    figures = bench.figures
    login, argon2_rate = figures.rate("login"), figures.rate("argon2")
    me, bare, fau = figures.rate("me"), figures.rate("bare"), figures.rate("fastapi_users")
    report: dict[str, Any] = {
        "bench": "auth",
        "quick": quick,
        "login_per_s": login,
        "argon2_verify_per_s": argon2_rate,
        "login_vs_argon2": ratio(login, argon2_rate, 3),
        "login_p50_ms": figures.latency("login")["p50_ms"],
        "me_per_s": me,
        "me_p50_ms": figures.latency("me")["p50_ms"],
        "me_p99_ms": figures.latency("me")["p99_ms"],
        "bare_fastapi_per_s": bare,
        "bare_fastapi_p50_ms": figures.latency("bare")["p50_ms"],
        "bare_fastapi_p99_ms": figures.latency("bare")["p99_ms"],
        "me_vs_bare": ratio(me, bare, 3),
        "fastapi_users_per_s": fau,
        "fastapi_users_p50_ms": figures.latency("fastapi_users")["p50_ms"],
        "fastapi_users_p99_ms": figures.latency("fastapi_users")["p99_ms"],
        "me_vs_fastapi_users": ratio(me, fau, 3),
        "refresh_per_s": figures.rate("refresh"),
        "refresh_p50_ms": figures.latency("refresh")["p50_ms"],
        "refresh_p99_ms": figures.latency("refresh")["p99_ms"],
    }
    if bench.fau_error:
        report["fastapi_users_error"] = bench.fau_error
    report["targets"] = targets(report)
    report["setup"] = {
        "generator": bench.generator.name,
        "cores": os.cpu_count(),
        "workers": WORKERS,
        "rounds": bench.plan.rounds,
        "seconds_per_measurement": bench.plan.seconds,
        "in_flight": {"login": LOGIN_IN_FLIGHT, "get": GET_IN_FLIGHT, "refresh": REFRESH_IN_FLIGHT},
        "login_users": LOGIN_USERS,
        "refresh_sessions": REFRESH_SESSIONS,
        "argon2": {
            "type": "argon2id",
            "memory_kib": ARGON2_MEMORY_KIB,
            "time_cost": ARGON2_TIME_COST,
            "parallelism": ARGON2_PARALLELISM,
            "processes": WORKERS,
        },
        "fastapi_users_jwt": bench.fau_jwt,
        "usercenter": code_under_test(),
        "database": version,
        # 1/5/15-minute load averages: anything well above the benchmark's own load means
        # something else was running, and the figures are not to be trusted.
        "loadavg": bench.loadavg,
        # CPU that processes outside this run (not its children, PostgreSQL or Redis) and the
        # hypervisor took, per round, as a share of all cores: beyond a few percent the
        # figures are skewed.
        "other_processes_cpu_percent": figures.other_cpu_percent,
    }
    report.update(figures.per_round())
    pairs = {
        "login_vs_argon2": ("login", "argon2"),
        "me_vs_bare": ("me", "bare"),
        "me_vs_fastapi_users": ("me", "fastapi_users"),
    }
    report["per_round_ratios"] = {
        name: [
            ratio(top, bottom, 3)
            for top, bottom in zip(
                figures.per_s.get(upper, []), figures.per_s.get(lower, []), strict=False
            )
        ]
        for name, (upper, lower) in pairs.items()
    }
    if figures.problems:
        report["problems"] = figures.problems
    report["seconds"] = round(seconds, 1)
    return report


def code_under_test() -> dict[str, Any]:
    """Which usercenter ran: its source directory, and the git commit (`+dirty` with changes)."""
    source = Path(schema.__file__).resolve().parent
    described: dict[str, Any] = {"source": str(source), "commit": None}
    git = shutil.which("git")
    if git is None:
        return described
    try:
        commit = subprocess.run(  # noqa: S603 - git with fixed arguments
            [git, "-C", str(source), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(  # noqa: S603 - git with fixed arguments
            [git, "-C", str(source), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return described
    described["commit"] = commit + ("+dirty" if changes else "")
    return described


def pick_generator(choice: str, scratch: Path) -> Generator:
    executable = shutil.which("wrk")
    if choice == "wrk" and executable is None:
        raise SystemExit("--generator wrk: wrk is not installed (apt-get install wrk)")
    if choice != "python" and executable is not None:
        return WrkGenerator(executable, scratch)
    if choice == "auto":
        progress("[setup] wrk not found: the load comes from this process (python generator)")
    return PythonGenerator()


async def main_async(args: argparse.Namespace, plan: Plan) -> dict[str, Any]:
    started = time.perf_counter()
    raw_url = os.environ.get("USERCENTER_BENCH_AUTH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    redis_url = os.environ.get("USERCENTER_BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    service_url = normalize_database_url(raw_url)
    version = ""
    load_before = loadavg()
    with tempfile.TemporaryDirectory(prefix="uc-bench-auth-") as scratch_dir:
        scratch = Path(scratch_dir)
        generator = pick_generator(args.generator, scratch)
        bench = Bench(plan, generator, scratch, args.fastapi_users_jwt)
        pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=get_context("spawn"))
        try:
            env = bench.service_env(raw_url, redis_url)

            async def service_side() -> str:
                await flush_redis(redis_url)
                version = await prepare_service_database(raw_url, env, scratch)
                await bench.start_service(env)
                progress("[setup] service up; registering users")
                await bench.register_users()
                token = str((await bench.login())["access_token"])
                await bench.start_bare(await bench.save_jwks(token))
                return version

            async def fastapi_users_side() -> None:
                try:
                    await bench.start_fastapi_users(service_url)
                except Exception as exc:
                    bench.fau_error = one_line(exc)
                    progress(f"[setup] fastapi-users peer skipped: {bench.fau_error}")

            # The argon2 processes start now too, so no round pays for it.
            version, _, _ = await asyncio.gather(
                service_side(), fastapi_users_side(), measure_argon2(pool, 0.05)
            )
            progress(
                f"[setup] up in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{name} :{s.port}" for name, s in bench.servers.items())
                + f"; generator {generator.name}; warming up"
            )
            await bench.warm_up()
            await bench.run_rounds(pool)
        finally:
            bench.stop_all()
            pool.shutdown(cancel_futures=True)
        bench.loadavg = {"before": load_before, "after": loadavg()}
    return build_report(bench, args.quick, version, time.perf_counter() - started)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = timed_parser(__doc__)
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator (auto: wrk when installed)",
    )
    parser.add_argument(
        "--fastapi-users-jwt",
        choices=("HS256", "ES256"),
        default="HS256",
        help="algorithm of the fastapi-users peer's JWT strategy (default: its default, HS256)",
    )
    return parse_bench_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = Plan.of(quick=args.quick, rounds=args.rounds, seconds=args.seconds)
    return report_or_error("auth", args.quick, lambda: main_async(args, plan))


if __name__ == "__main__":
    sys.exit(main())
