"""Benchmark of WeChat mini-program logins (code -> provider -> session -> tokens) against the
same flow with the provider call reduced to a constant.

Everything runs on this machine: PostgreSQL and Redis as they are, the service as `usercenter
serve --workers 2` (the machinery of bench/auth.py: database, Redis, server start and stop,
HTTP client, CPU accounting, medians), and two WeChat servers under uvicorn, one process each
(bench/linking_peers/wechat_peer.py):

- the stub: usercenter's own WeChat stub (usercenter.providers.stubs), which checks the app's
  secret and the single-use code and derives openid and unionid from the person, as WeChat
  does; its codes are pre-minted in bulk before each measurement, so the load generator only
  sends bodies it already has;
- the constant: GET /sns/jscode2session answered at once with an answer derived from the code
  (openid "o" + code, unionid "u" + code, a fixed session_key).

The service knows two mini programs, identical but for their api_base: one at the stub, one
at the constant. So both figures go through the same code, HTTP client, pool and database,
and their difference is the stub's own cost.

- `returning_per_s`: successful POST /v1/auth/wechat/miniapp by one of 64 persons who logged
  in once beforehand (is_new_user false), through the stub. Baseline
  `returning_constant_per_s`: the same through the constant.
- `first_per_s`: the same, a fresh person every request (is_new_user true: a user, an
  identity, its unionid row written). Baseline `first_constant_per_s`.
- `*_vs_constant`: figure / baseline, and `provider_share_*`: 1 - that ratio, the share of a
  login's cost (its time on the saturated cores) that the stub's exchange takes.

16 requests in flight over keep-alive connections, from an asyncio client in this process (wrk's
Lua cannot hand out single-use codes cheaply). Successes count from 0.5 s after the start to the
last one; several interleaved rounds, the median of the rounds is reported (latencies: the
median of the rounds' p50 and p99). A request whose answer lacks tokens or has the wrong
is_new_user counts as failed.

    python bench/linking.py [--quick] [--rounds N] [--seconds S]

The database comes from USERCENTER_BENCH_LINKING_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/uc_bench_linking), created when missing and emptied
first; Redis from USERCENTER_BENCH_REDIS_URL (default redis://127.0.0.1:6379/14), flushed
first. Progress goes to stderr; the last line of stdout is one JSON object with every figure
(or {"error": ...} when the run could not finish).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
from itertools import count
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import auth as authbench  # noqa: E402 - bench/auth.py: its plan, figures and service peers
from _common import (  # noqa: E402
    HOST,
    REQUEST_TIMEOUT_S,
    HttpConnection,
    Server,
    flush_redis,
    free_port,
    json_request,
    loadavg,
    parse_bench_args,
    percentile,
    ratio,
    report_or_error,
    spawn,
    timed_parser,
    wait_until_up,
)

from usercenter.providers.stubs import WECHAT_MINIAPP_ID, WeChatStub  # noqa: E402

PEERS = HERE / "linking_peers"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/uc_bench_linking"
CONSTANT_APP_ID = "wxbenchconstant01"
LOGIN_PATH = "/v1/auth/wechat/miniapp"
IN_FLIGHT = 16
RETURNING_USERS = 64
FIRST_GUESS_PER_S = 300.0  # codes minted for the warm-up, before any rate is known
CODE_MARGIN = 2.0  # codes minted per measurement: this times the best rate seen so far
KINDS = ("returning", "returning_constant", "first", "first_constant")

progress = authbench.progress


def client_apps(stub_url: str, constant_url: str) -> str:
    secret = WeChatStub().apps[WECHAT_MINIAPP_ID].secret
    return json.dumps(
        [
            {
                "app_type": "wechat_miniapp",
                "app_id": WECHAT_MINIAPP_ID,
                "secret": secret,
                "name": "bench stub",
                "extra": {"api_base": stub_url, "open_base": stub_url},
            },
            {
                "app_type": "wechat_miniapp",
                "app_id": CONSTANT_APP_ID,
                "secret": "bench-constant-secret",
                "name": "bench constant",
                "extra": {"api_base": constant_url, "open_base": constant_url},
            },
        ]
    )


def peer_argv(app: str, port: int) -> list[str]:
    argv = authbench.uvicorn_argv(app, port)
    argv[argv.index("--app-dir") + 1] = str(PEERS)
    argv[argv.index("--workers") + 1] = "1"  # the stub keeps its codes in memory
    return argv


async def drive(port: int, bodies: list[bytes], seconds: float, new_user: bool) -> Any:
    """Send each body once, IN_FLIGHT at a time, for `seconds` (or until they run out)."""
    marker = b'"is_new_user":true' if new_user else b'"is_new_user":false'
    latencies: list[float] = []
    counts = {"ok": 0, "failed": 0, "errors": 0, "starved": 0}
    queue = iter(bodies)
    started = time.perf_counter()
    counting_from, deadline = started + authbench.RAMP_SECONDS, started + seconds
    last_ok = counting_from

    async def worker() -> None:
        nonlocal last_ok
        connection = HttpConnection(port)
        try:
            while time.perf_counter() < deadline:
                data = next(queue, None)
                if data is None:
                    counts["starved"] += 1
                    return
                sent = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(connection.send(data), REQUEST_TIMEOUT_S)
                except (OSError, TimeoutError, asyncio.IncompleteReadError, RuntimeError):
                    counts["errors"] += 1
                    continue
                finished = time.perf_counter()
                latencies.append(finished - sent)
                if status != 200 or b'"refresh_token"' not in body or marker not in body:
                    counts["failed"] += 1
                    continue
                if counting_from <= finished <= deadline:
                    counts["ok"] += 1
                    last_ok = max(last_ok, finished)
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    latencies.sort()
    end = deadline if not counts["starved"] else last_ok
    return authbench.LoadResult(
        ok=counts["ok"],
        failed=counts["failed"],
        seconds=end - counting_from,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        starved=counts["starved"],
        errors=counts["errors"],
    )


class LinkingBench:
    def __init__(self, plan: authbench.Plan, scratch: Path) -> None:
        self.plan = plan
        self.scratch = scratch
        # bench/auth.py's Bench for the service's environment, start and stop.
        self.base = authbench.Bench(plan, authbench.PythonGenerator(), scratch, "HS256")
        self.figures = authbench.Figures()
        self.fresh = count()
        self.best_per_s = FIRST_GUESS_PER_S
        self.loadavg: dict[str, list[float]] = {}

    @property
    def servers(self) -> dict[str, Server]:
        return self.base.servers

    async def start_peers(self) -> None:
        for name, app in (
            ("stub", "wechat_peer:stub_app"),
            ("constant", "wechat_peer:constant_app"),
        ):
            port = free_port()
            server = spawn(name, peer_argv(app, port), os.environ.copy(), self.scratch, port)
            self.servers[name] = server
        for name in ("stub", "constant"):
            await wait_until_up(self.servers[name])

    def url(self, name: str) -> str:
        return f"http://{HOST}:{self.servers[name].port}"

    async def mint(self, persons: list[str]) -> list[str]:
        port = self.servers["stub"].port
        connection = HttpConnection(port)
        try:
            payload = {"app_id": WECHAT_MINIAPP_ID, "persons": persons}
            answer = await connection.call(json_request("POST", "/_bench/codes", port, payload))
        finally:
            connection.close()
        return [str(code) for code in answer["codes"]]

    async def bodies(self, kind: str, number: int) -> list[bytes]:
        port = self.servers["service"].port
        if kind == "returning":
            codes = await self.mint([f"ret-{i % RETURNING_USERS}" for i in range(number)])
        elif kind == "first":
            codes = await self.mint([f"new-{next(self.fresh)}" for _ in range(number)])
        elif kind == "returning_constant":
            codes = [f"ret-{i % RETURNING_USERS}" for i in range(number)]
        else:
            codes = [f"new-{next(self.fresh)}" for _ in range(number)]
        app_id = CONSTANT_APP_ID if kind.endswith("_constant") else WECHAT_MINIAPP_ID
        return [
            json_request("POST", LOGIN_PATH, port, {"code": code, "app_id": app_id})
            for code in codes
        ]

    async def measure(self, kind: str, seconds: float) -> Any:
        number = math.ceil(self.best_per_s * CODE_MARGIN * seconds) + 4 * IN_FLIGHT
        bodies = await self.bodies(kind, number)
        before = authbench.cpu_snapshot()
        result = await drive(
            self.servers["service"].port, bodies, seconds, kind.startswith("first")
        )
        result.cpu_busy_percent = authbench.busy_percent(before, authbench.cpu_snapshot())
        self.best_per_s = max(self.best_per_s, result.per_s)
        return result

    async def seed_returning(self) -> None:
        """Every returning person logs in once, through each app, before anything counts."""
        port = self.servers["service"].port
        for kind in ("first", "first_constant"):
            persons = [f"ret-{i}" for i in range(RETURNING_USERS)]
            if kind == "first":
                codes = await self.mint(persons)
            else:
                codes = persons
            app_id = WECHAT_MINIAPP_ID if kind == "first" else CONSTANT_APP_ID
            bodies = [
                json_request("POST", LOGIN_PATH, port, {"code": code, "app_id": app_id})
                for code in codes
            ]
            result = await drive(port, bodies, 60.0, new_user=True)
            if result.failed or result.errors:
                raise RuntimeError(
                    f"seeding returning users ({kind}): {result.failed} failed, "
                    f"{result.errors} errors; service log: {self.servers['service'].log_tail()}"
                )

    async def run_rounds(self) -> None:
        figures = self.figures
        for index in range(self.plan.rounds):
            before = authbench.cpu_snapshot()
            order = KINDS if index % 2 == 0 else tuple(reversed(KINDS))
            for kind in order:
                figures.add(kind, await self.measure(kind, self.plan.seconds))
            others = authbench.other_cpu_percent(before, authbench.cpu_snapshot())
            figures.other_cpu_percent.append(others)
            if others is not None and others > authbench.OTHERS_TOLERATED_PERCENT:
                figures.problems.append(
                    f"round {index + 1}: other processes used {others:g}% of the cores"
                )
            last = {name: values[-1] for name, values in figures.per_s.items()}
            progress(
                f"[round {index + 1}/{self.plan.rounds}] "
                + ", ".join(f"{name} {last[name]:,.1f}/s" for name in KINDS)
                + f"; other processes {'?' if others is None else f'{others:g}'}% of the cores"
            )


def build_report(bench: LinkingBench, quick: bool, version: str, seconds: float) -> dict[str, Any]:
    figures = bench.figures
    report: dict[str, Any] = {"bench": "linking", "quick": quick}
    for kind in ("returning", "first"):
        ours, constant = figures.rate(kind), figures.rate(f"{kind}_constant")
        vs = ratio(ours, constant, 3)
        report[f"{kind}_per_s"] = ours
        report[f"{kind}_constant_per_s"] = constant
        report[f"{kind}_vs_constant"] = vs
        report[f"provider_share_{kind}"] = None if vs is None else round(1 - vs, 3)
        for name in (kind, f"{kind}_constant"):
            latency = figures.latency(name)
            report[f"{name}_p50_ms"] = latency["p50_ms"]
            report[f"{name}_p99_ms"] = latency["p99_ms"]
    report["setup"] = {
        "generator": "python",
        "cores": os.cpu_count(),
        "workers": authbench.WORKERS,
        "rounds": bench.plan.rounds,
        "seconds_per_measurement": bench.plan.seconds,
        "in_flight": IN_FLIGHT,
        "returning_users": RETURNING_USERS,
        "usercenter": authbench.code_under_test(),
        "database": version,
        "loadavg": bench.loadavg,
        "other_processes_cpu_percent": figures.other_cpu_percent,
    }
    report.update(figures.per_round())
    if figures.problems:
        report["problems"] = figures.problems
    report["seconds"] = round(seconds, 1)
    return report


async def main_async(args: argparse.Namespace, plan: authbench.Plan) -> dict[str, Any]:
    started = time.perf_counter()
    raw_url = os.environ.get("USERCENTER_BENCH_LINKING_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    redis_url = os.environ.get("USERCENTER_BENCH_REDIS_URL") or authbench.DEFAULT_REDIS_URL
    load_before = loadavg()
    with tempfile.TemporaryDirectory(prefix="uc-bench-linking-") as scratch_dir:
        scratch = Path(scratch_dir)
        bench = LinkingBench(plan, scratch)
        try:
            await bench.start_peers()
            env = bench.base.service_env(raw_url, redis_url)
            env["USERCENTER_CLIENT_APPS"] = client_apps(bench.url("stub"), bench.url("constant"))
            await flush_redis(redis_url)
            version = await authbench.prepare_service_database(raw_url, env, scratch)
            await bench.base.start_service(env)
            progress("[setup] service and WeChat peers up; seeding returning users")
            await bench.seed_returning()
            progress("[setup] warming up")
            for kind in KINDS:
                await bench.measure(kind, authbench.WARMUP_SECONDS)
            await bench.run_rounds()
        finally:
            bench.base.stop_all()
        bench.loadavg = {"before": load_before, "after": loadavg()}
    return build_report(bench, args.quick, version, time.perf_counter() - started)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = timed_parser(__doc__)
    return parse_bench_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = authbench.Plan.of(quick=args.quick, rounds=args.rounds, seconds=args.seconds)
    return report_or_error("linking", args.quick, lambda: main_async(args, plan))


if __name__ == "__main__":
    sys.exit(main())
