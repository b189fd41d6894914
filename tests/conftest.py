"""Test fixtures: every database test runs on SQLite and on each server database configured.

USERCENTER_TEST_MARIADB_URL and USERCENTER_TEST_POSTGRES_URL name server databases (created
empty by .ci/run); USERCENTER_TEST_REDIS_URL and USERCENTER_TEST_BROKER_URL name Redis and
RabbitMQ. With USERCENTER_TEST_REQUIRE_ALL=1 (CI) a missing URL is an error, and a URL that
cannot be reached fails its tests: nothing is skipped silently.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import make_url

from usercenter import schema
from usercenter.app import create_app
from usercenter.config import LogFormat, Settings
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.kit.cache import RedisCache
from usercenter.logs import build_formatter, configure_logging
from usercenter.models import metadata
from usercenter.security.keys import generate_key_material

SERVER_BACKENDS = {
    "mariadb": "USERCENTER_TEST_MARIADB_URL",
    "postgresql": "USERCENTER_TEST_POSTGRES_URL",
}
SERVICES = {"redis": "USERCENTER_TEST_REDIS_URL", "broker": "USERCENTER_TEST_BROKER_URL"}


def _require_all() -> bool:
    return os.environ.get("USERCENTER_TEST_REQUIRE_ALL", "") in {"1", "true", "yes"}


def _backends() -> list[str]:
    names = ["sqlite"]
    for name, variable in SERVER_BACKENDS.items():
        if os.environ.get(variable):
            names.append(name)
    return names


def pytest_configure(config: pytest.Config) -> None:
    if _require_all():
        missing = [
            v for v in [*SERVER_BACKENDS.values(), *SERVICES.values()] if not os.environ.get(v)
        ]
        if missing:
            raise pytest.UsageError(
                f"USERCENTER_TEST_REQUIRE_ALL is set but {', '.join(missing)} is not"
            )


def pytest_report_header(config: pytest.Config) -> str:
    services = [name for name, variable in SERVICES.items() if os.environ.get(variable)]
    return (
        f"usercenter backends: {', '.join(_backends())}; services: {', '.join(services) or 'none'}"
    )


def service_url(name: str) -> str:
    url = os.environ.get(SERVICES[name])
    if not url:
        pytest.skip(f"{SERVICES[name]} is not set")
    return url


async def redis_lifetime_ms(cache: RedisCache, key: str) -> int:
    """What is left of `key`'s life in Redis. Redis expires keys on its own clock, which no test
    moves: a test of expiry there checks that the store gave the key the lifetime asked for."""
    return int(await cache._redis.pttl(cache._ns + key))


@pytest.fixture(scope="session", params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'usercenter.db'}"
    return os.environ[SERVER_BACKENDS[request.param]]


@pytest.fixture(scope="session")
def backend_name(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


TEST_KEYS = generate_key_material("test")


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test: no `.env`, fixed field keys (no key file), cheap password hashes."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_keys": TEST_KEYS.secret_keys_item,
        "blind_index_key": TEST_KEYS.blind_index_key_b64,
        "password_memory_kib": 8192,
        "password_time_cost": 1,
        # The relay runs when a test starts it (tests/events): elsewhere it would only take
        # the write lock beside the test's own transactions.
        "events_relay": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)


Snapshot = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="session")
async def migrated(database_url: str) -> AsyncIterator[tuple[Database, Snapshot]]:
    """The test database, emptied and migrated to head once per session; with the rows the
    migrations seeded, so each test can start from them again."""
    database = Database.from_settings(make_settings(database_url))
    await schema.drop_all_tables(database)
    await schema.upgrade(database)
    snapshot: Snapshot = {}
    async with database.read_session() as session:
        for table in metadata.sorted_tables:
            rows = (await session.execute(select(table))).mappings().all()
            snapshot[table.name] = [dict(row) for row in rows]
    yield database, snapshot
    await database.dispose()


async def reset_database(database: Database, snapshot: Snapshot) -> None:
    async with database.unit_of_work() as session:
        for table in reversed(metadata.sorted_tables):
            await session.execute(delete(table))
        for table in metadata.sorted_tables:
            if snapshot[table.name]:
                await session.execute(insert(table), snapshot[table.name])


# The session-wide app of each database (the `app` fixture), once started.
_session_apps: dict[str, FastAPI] = {}


@pytest.fixture
async def db(
    migrated: tuple[Database, Snapshot], database_url: str, request: pytest.FixtureRequest
) -> Database:
    """The migrated database with only the seeded rows in it."""
    database, snapshot = migrated
    await reset_database(database, snapshot)
    live = _session_apps.get(database_url)
    if live is not None and "app" in request.fixturenames:
        # The reset took the session-wide app's signing key with every other row: it makes a
        # new one now, or once it re-reads the table (every minute) it would go on signing
        # with a key that nothing verifies (token_invalid, depending on timing).
        await live.state.services.signing_keys.load()
    return database


@pytest.fixture(scope="session")
async def app(database_url: str, migrated: tuple[Database, Snapshot]) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url, log_level="WARNING"))
    async with application.router.lifespan_context(application):
        _session_apps[database_url] = application
        yield application
        del _session_apps[database_url]


@pytest.fixture
async def client(app: FastAPI, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://usercenter.test") as http:
        yield http


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch working directory with no USERCENTER_* variables from outside."""
    for key in list(os.environ):
        if key.startswith("USERCENTER_") and not key.startswith("USERCENTER_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serve(workdir: Path) -> Iterator[object]:
    """Start `usercenter serve` in the background; yields a starter returning (url, process)."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, **env: str) -> tuple[str, subprocess.Popen[str]]:
        port = free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("USERCENTER_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "usercenter", "serve", "--port", str(port), *args],
            cwd=workdir,
            env={**clean, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(
                    f"serve exited: {process.stdout.read() if process.stdout else ''}"
                )
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return url, process
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("serve did not come up in 30 s")

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


@contextmanager
def log_output(
    logger: str | None = None, *, level: int | None = None, json_lines: bool = False
) -> Iterator[io.StringIO]:
    """What `logger` (the root by default) writes while the block runs: at `level` when given
    (the logger's own level is put back after), as the service's JSON lines when `json_lines`
    (else as the logger formats its messages)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    if json_lines:
        handler.setFormatter(build_formatter(LogFormat.JSON))
    target = logging.getLogger(logger)
    before = target.level
    target.addHandler(handler)
    if level is not None:
        target.setLevel(level)
    try:
        yield stream
    finally:
        target.removeHandler(handler)
        target.setLevel(before)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Log output as the service writes it (JSON lines, DEBUG and up)."""
    configure_logging("DEBUG", LogFormat.JSON)
    with log_output(json_lines=True) as stream:
        yield stream
    configure_logging("WARNING", LogFormat.JSON)


def log_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


class MovableClock:
    """The service's clocks (`kit.clock.now()` and `monotonic()`), running with the system's
    from offsets a test moves on: `advance(seconds)` moves both, so what expires by either
    (a cached entry, a lockout, a code) expires without the test sleeping. Setting `offset`
    alone moves the wall clock only (to a day boundary, say)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.elapsed = 0.0

    def now(self) -> datetime:
        return clock._system_now() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.elapsed

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)
        self.elapsed += seconds


@pytest.fixture
def moved_clock() -> Iterator[MovableClock]:
    """The service's clocks, moved on by the test (`advance`); the system's back after it."""
    movable = MovableClock()
    clock.set_clock(movable.now)
    clock.set_monotonic(movable.monotonic)
    yield movable
    clock.set_clock(None)
    clock.set_monotonic(None)


def sqlite_files(database_url: str) -> bytes:
    """Every byte of an SQLite database as it is on disk: the file, its write-ahead log and
    shared memory. Read by another process: closing a descriptor of the database file in this
    one would drop the POSIX locks SQLite holds on it (every later connection then fails with
    `disk I/O error`)."""
    path = str(make_url(database_url).database)
    names = sorted(str(p) for p in Path(path).parent.glob(Path(path).name + "*") if p.is_file())
    assert names, f"no database file at {path}"
    copy = (
        "import sys\n"
        "for name in sys.argv[1:]:\n"
        "    sys.stdout.buffer.write(open(name, 'rb').read())"
    )
    return subprocess.run(
        [sys.executable, "-c", copy, *names], capture_output=True, check=True
    ).stdout
