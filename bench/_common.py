"""What the benches share: progress and the JSON last line, the statistics of their rounds,
scratch databases (created when missing, emptied and migrated), service settings and
environments with fresh keys, served processes (started, awaited, stopped), a small keep-alive
HTTP/1.1 client, and the `--quick` / `--rounds` / `--backends` arguments.

Each bench is run as a script (`python bench/X.py`), so this module is imported as `_common`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from usercenter.config import Backend, Settings
from usercenter.db import Database
from usercenter.security.keys import generate_key_material

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 30.0

BACKENDS = ("sqlite", "mariadb", "postgresql")
SERVER_URLS = {
    "mariadb": ("USERCENTER_BENCH_MARIADB_URL", "mysql://root@127.0.0.1:3306/uc_bench"),
    "postgresql": (
        "USERCENTER_BENCH_POSTGRES_URL",
        "postgresql://postgres@127.0.0.1:5432/uc_bench",
    ),
}

T = TypeVar("T")


# --- Progress and the last line ---------------------------------------------------------------


def progress(message: str, *, since: float | None = None) -> None:
    """A line on stderr (`since`: prefixed with the seconds since that perf_counter)."""
    prefix = f"{time.perf_counter() - since:6.1f}s " if since is not None else ""
    print(prefix + message, file=sys.stderr, flush=True)


def one_line(exc: BaseException) -> str:
    """An exception as one line of at most 500 characters."""
    message = " ".join(str(exc).split()) or "no message"
    return f"{type(exc).__name__}: {message}"[:500]


def print_last_line(report: dict[str, Any]) -> None:
    """The bench's figures: one JSON object, the last line of stdout."""
    print(json.dumps(report, ensure_ascii=False))


def report_or_error(name: str, quick: bool, work: Callable[[], Coroutine[Any, Any, Any]]) -> int:
    """Run `work()` on `event_loop_runner` and print its report as the last line; the exit
    code. SIGTERM ends the run like Ctrl-C does (the servers are stopped on the way out); a
    run that fails prints one JSON line all the same, `{"bench", "quick", "error"}`, and
    exits 1 (130 when interrupted)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with event_loop_runner() as runner:
            report = runner.run(work())
    except (Exception, KeyboardInterrupt, SystemExit) as exc:
        error = "interrupted" if isinstance(exc, KeyboardInterrupt | SystemExit) else one_line(exc)
        progress(f"[error] {error}")
        print(json.dumps({"bench": name, "quick": quick, "error": error}))
        return 1 if isinstance(exc, Exception) else 130
    print_last_line(report)
    return 0


@contextlib.contextmanager
def event_loop_runner() -> Iterator[asyncio.Runner]:
    """uvloop when it is there (uvicorn[standard] brings it): a lighter in-process generator."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    with contextlib.suppress(ImportError):
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        yield runner


# --- Timing and the statistics of the rounds --------------------------------------------------


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Yields a one-element list that holds the elapsed seconds once the block ends."""
    elapsed = [0.0]
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - started


def median(values: list[float], digits: int = 1) -> float:
    """The median, rounded (StatisticsError when there is none)."""
    return round(statistics.median(values), digits)


def median_or(values: list[float], default: T, digits: int = 1) -> float | T:
    """The median, rounded, or `default` when there are no values."""
    return median(values, digits) if values else default


def ratio(numerator: float | None, denominator: float | None, digits: int = 2) -> float | None:
    """numerator / denominator, rounded; None when either is missing or the denominator is
    not positive."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return round(numerator / denominator, digits)


def loadavg() -> list[float]:
    """The 1/5/15-minute load averages, rounded."""
    return [round(value, 2) for value in os.getloadavg()]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def percentile_floor(values: list[float], fraction: float) -> float:
    """The value at index floor(fraction * n) of the sorted values: the wallet bench's
    definition, kept so its figures stay comparable with earlier runs."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- Arguments --------------------------------------------------------------------------------


def bench_parser(doc: str | None, *, quick_help: str, rounds_help: str) -> argparse.ArgumentParser:
    """A parser with the bench's first docstring line, `--quick` and `--rounds`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--rounds", type=int, default=None, help=rounds_help)
    return parser


def timed_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser for a bench of timed measurements: `--quick`, `--rounds` and `--seconds`."""
    parser = bench_parser(
        doc,
        quick_help="3 rounds of 2 s per measurement",
        rounds_help="rounds (default 5, quick 3)",
    )
    parser.add_argument(
        "--seconds", type=int, default=None, help="seconds per measurement (default 5, quick 2)"
    )
    return parser


def add_backends(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help=f"comma-separated, from {', '.join(BACKENDS)} (default: all)",
    )


def backend_args(doc: str | None, argv: list[str] | None, *, quick_help: str) -> argparse.Namespace:
    """`--quick`, `--rounds` (per backend) and `--backends`, parsed and checked."""
    parser = bench_parser(doc, quick_help=quick_help, rounds_help="rounds per backend")
    add_backends(parser)
    return parse_bench_args(parser, argv)


def parse_bench_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse and check: `--rounds` and `--seconds` at least 1; `--backends` known ones, as
    `backend_names` (in order, without repeats)."""
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if getattr(args, "seconds", None) is not None and args.seconds < 1:
        parser.error("--seconds must be at least 1")
    if hasattr(args, "backends"):
        names = [part.strip() for part in args.backends.split(",") if part.strip()]
        unknown = [name for name in names if name not in BACKENDS]
        if unknown or not names:
            parser.error(f"--backends: unknown {', '.join(unknown) or '(none given)'}")
        args.backend_names = list(dict.fromkeys(names))
    return args


# --- Scratch databases ------------------------------------------------------------------------


def backend_url(name: str, scratch: Path) -> str:
    """The database of backend `name`: a file in `scratch` for SQLite, else the environment's
    URL (SERVER_URLS) or its default."""
    if name == "sqlite":
        return f"sqlite:///{scratch / 'bench.db'}"
    variable, default = SERVER_URLS[name]
    return os.environ.get(variable) or default


async def ensure_database(url: URL, backend: Backend = Backend.POSTGRESQL) -> None:
    """Create the database `url` names, from the server's admin database, unless it exists."""
    name = url.database
    if not name:
        raise ValueError(f"{url.render_as_string(hide_password=True)} names no database")
    admin_url = URL.create(
        url.drivername,
        username=url.username,
        password=url.password,
        host=url.host,
        port=url.port,
        database=None if backend is Backend.MYSQL else "postgres",  # URL.set keeps it on None
        query=url.query,
    )
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            quoted = connection.dialect.identifier_preparer.quote_identifier(name)
            if backend is Backend.MYSQL:
                await connection.execute(
                    text(f"CREATE DATABASE IF NOT EXISTS {quoted} CHARACTER SET utf8mb4")
                )
            else:
                found = await connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                )
                if found is None:
                    await connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        await engine.dispose()


async def warm_pool(database: Database, connections: int) -> None:
    """Open `connections` connections at once, so no measurement pays for connecting."""
    gate = asyncio.Event()

    async def hold() -> None:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            await gate.wait()

    tasks = [asyncio.create_task(hold()) for _ in range(connections)]
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(*tasks)


async def each_backend(
    names: list[str], prefix: str, measure: Callable[[str, str], Awaitable[dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """`measure(name, database_url)` for each backend, in a scratch directory (`prefix`); a
    backend that fails is skipped, its result the error."""
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        for name in names:
            try:
                results[name] = await measure(name, backend_url(name, Path(scratch)))
            except Exception as exc:
                error = backend_error(exc)
                progress(f"[{name}] skipped: {error}")
                results[name] = {"error": error}
    return results


def report_backends(work: Coroutine[Any, Any, dict[str, Any]]) -> int:
    """Run a bench over the backends and print its report as the last line."""
    # asyncmy logs MariaDB's notes ("database exists", "Name 'pk_x' ignored for PRIMARY key").
    logging.getLogger("asyncmy").setLevel(logging.ERROR)
    print_last_line(asyncio.run(work))
    return 0


def backend_error(exc: BaseException) -> str:
    """Why a backend was skipped, in one line."""
    if isinstance(exc, TimeoutError):
        return f"TimeoutError: no answer within {CONNECT_TIMEOUT_S:g} s"
    return one_line(exc)


async def flush_redis(url: str) -> None:
    client = Redis.from_url(url)
    try:
        await asyncio.wait_for(client.flushdb(), CONNECT_TIMEOUT_S)
    finally:
        await client.aclose()


def bench_settings(raw_url: str, **overrides: Any) -> Settings:
    """Settings for a bench's own process: this database, fresh keys, warnings only, no .env
    file (`overrides` for the rest)."""
    keys = generate_key_material()
    options: dict[str, Any] = {
        "database_url": raw_url,
        "secret_keys": keys.secret_keys_item,
        "blind_index_key": keys.blind_index_key_b64,
        "log_level": "WARNING",
        **overrides,
    }
    return Settings(_env_file=None, **options)


def clean_environment() -> dict[str, str]:
    """This environment without any USERCENTER_* setting, so only ours reach the servers."""
    return {k: v for k, v in os.environ.items() if not k.startswith("USERCENTER_")}


def service_env(database_url: str, redis_url: str, scratch: Path) -> dict[str, str]:
    """The environment of a served `usercenter`: these databases, fresh keys (the keys
    directory in `scratch`), warnings only."""
    return {
        **clean_environment(),
        "USERCENTER_DATABASE_URL": database_url,
        "USERCENTER_REDIS_URL": redis_url,
        "USERCENTER_SECRET_KEYS": "bench:" + base64.b64encode(os.urandom(32)).decode(),
        "USERCENTER_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
        "USERCENTER_KEYS_DIR": str(scratch / "keys"),
        "USERCENTER_LOG_LEVEL": "WARNING",
    }


# --- Served processes -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(slots=True)
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 15) -> str:
        try:
            text_lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(text_lines[-lines:])[-1500:]


def spawn(name: str, argv: list[str], env: dict[str, str], cwd: Path, port: int) -> Server:
    """Start `argv` in a process group of its own, its output in `cwd/<name>.log`."""
    log = cwd / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            argv, env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, port, process, log)


def stop(servers: list[Server]) -> None:
    """SIGTERM to each server's own process group (uvicorn and its workers), all at once;
    SIGKILL to any still there 15 s later."""
    running = [server for server in servers if server.process.poll() is None]
    for server in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for server in running:
        try:
            server.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=5)


async def wait_until_up(
    server: Server, path: str = "/healthz", headers: dict[str, str] | None = None
) -> None:
    """Until `GET path` answers 200; RuntimeError when the server exits or takes longer than
    START_TIMEOUT_S."""
    deadline = time.monotonic() + START_TIMEOUT_S
    probe = build_request("GET", path, server.port, headers=headers)
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited {server.process.returncode}: {server.log_tail()}"
            )
        connection = HttpConnection(server.port)
        try:
            status, _ = await asyncio.wait_for(connection.send(probe), 2)
            if status == 200:
                return
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} not up after {START_TIMEOUT_S:g} s")
        await asyncio.sleep(0.1)


# --- A small HTTP/1.1 client ------------------------------------------------------------------


def build_request(
    method: str,
    path: str,
    port: int,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in {"POST", "PUT", "PATCH"}:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def json_request(method: str, path: str, port: int, payload: Any, **options: Any) -> bytes:
    return build_request(method, path, port, body=json.dumps(payload).encode(), **options)


class HttpConnection:
    """One keep-alive connection, one request at a time; far lighter than a client library,
    so the in-process load generator takes as little CPU from the servers as it can."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, data: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(HOST, self.port)
        assert self._reader is not None
        try:
            self._writer.write(data)
            head = await self._reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length, close = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection":
                    close = value.strip().lower() == b"close"
                elif name == b"transfer-encoding":
                    raise RuntimeError("chunked responses are not supported")
            body = await self._reader.readexactly(length) if length else b""
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, body

    async def call(self, data: bytes, expect: int = 200) -> Any:
        """Send, insist on the status, return the JSON body."""
        status, body = await asyncio.wait_for(self.send(data), REQUEST_TIMEOUT_S)
        if status != expect:
            raise RuntimeError(f"HTTP {status} (expected {expect}): {body[:300]!r}")
        return json.loads(body) if body else None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
