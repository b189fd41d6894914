"""Benchmark of the events outbox and relay: what events cost the ledger, how fast the relay
publishes, how long an event takes from its commit to a consumer. In-process (no HTTP),
against the local RabbitMQ (exchanges `bench.events.<random>.*`, deleted at the end).

1. Ledger, events off and on (`ledger_*`, each backend): bench/wallet.py's own workloads,
   `many` (random debits and user-to-user transfers over N accounts, 32 callers) and `hot`
   (one sponsor account debited by all 32), with the outbox off (`events_enabled=False`) and
   on (a `transfer_posted` per user/sponsor account moved, in the batch's transaction),
   interleaved, the first mode alternating per round. Medians; `ledger_*_ratio` = on / off,
   target >= 0.9. No relay meanwhile: the writers' cost. Then the ledger is reconciled
   (`reconciled`, 0 expected) and the events written are checked against the user/sponsor
   entries written while the outbox was on (`events_missing`, 0 expected).
2. Relay publish rate (`relay_*`, the first server backend): N events (50,000; 10,000 with
   --quick) appended in big transactions, then a `Relay` with an `AmqpPublisher`: events/s
   from its start until all are confirmed and `published_through` is the last position; a
   bound queue gets them all, in position order. Baseline (`bare_publish_per_s`): a bare
   aio-pika loop, as many messages of the same size, confirms, batches of the relay's size.
   `relay_phase_s`: seconds in sequencing, the statements, the broker's confirms. Target
   >= 5,000 events/s.
3. Commit-to-consumer latency (`latency_*`): the relay in this process, producers committing
   500 events/s (paced; 10 events per transaction, so on a busy 2-core machine they leave the
   event loop to the relay and the consumer), a consumer matching each arrival by the event's
   `business_id` with its commit time. p50/p99 over 10 s (3 s with --quick); target p99 <
   500 ms.

    python bench/events.py [--quick] [--rounds N] [--backends postgresql,mariadb]

Databases: USERCENTER_BENCH_POSTGRES_URL / _MARIADB_URL (default: local, uc_bench), emptied and
migrated; broker: USERCENTER_BENCH_BROKER_URL (default amqp://guest:guest@127.0.0.1:5672/).
Progress on stderr; the last line of stdout is one JSON object: every figure, the targets, and
whether each was met.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import io
import itertools
import json
import logging
import os
import pstats
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import aio_pika
from _common import (
    add_backends,
    bench_parser,
    each_backend,
    ensure_database,
    loadavg,
    median,
    one_line,
    parse_bench_args,
    percentile,
    progress,
    ratio,
    report_or_error,
    warm_pool,
)
from sqlalchemy import func, or_, select, text

from usercenter import schema
from usercenter.app import Services, build_services
from usercenter.config import Backend
from usercenter.events import repository
from usercenter.events.service.publisher import AmqpPublisher, envelope
from usercenter.events.service.relay import Relay, RelayOptions
from usercenter.wallet.events import TransferPosted
from usercenter.wallet.repository.batches import ACCOUNTS, ENTRIES
from wallet import (
    CALLERS,
    fund_users,
    funded_sponsor,
    hot_account,
    many_accounts,
    wallet_settings,
)

BROKER_URL = os.environ.get("USERCENTER_BENCH_BROKER_URL") or "amqp://guest:guest@127.0.0.1:5672/"
SOURCE = "/usercenter-bench"
APPEND_CHUNK = 5000  # events per transaction when filling the outbox
SUBJECTS = 1000  # accounts the relay's events are spread over
LATENCY_RATE = 500  # events/s
LATENCY_PER_COMMIT = 10  # events per producer transaction: 50 commits/s
LATENCY_PRODUCERS = 4
WAIT_S = 60.0  # at most, for the last events to arrive
# The relay's statements, timed while it publishes (`relay_phase_s`).
SQL_STEPS = ("unsequenced_rows", "set_positions", "relay_marks", "events_between", "move_marks")

PERSISTENT = aio_pika.DeliveryMode.PERSISTENT
TARGET_LEDGER_RATIO = 0.9
TARGET_RELAY_PER_S = 5000
TARGET_LATENCY_P99_MS = 500


@dataclass(frozen=True, slots=True)
class Plan:
    rounds: int
    accounts: int
    seconds: float
    relay_events: int
    latency_seconds: float
    ledger: bool = True  # --no-ledger: the relay and the latency only
    profile: bool = False  # --profile: cProfile of the relay's publishing, on stderr

    @classmethod
    def of(cls, *, quick: bool, rounds: int | None) -> Plan:
        if quick:
            return cls(rounds or 1, 10_000, 2.0, 10_000, 3.0)
        return cls(rounds or 3, 100_000, 8.0, 50_000, 10.0)


# --- 1. the ledger with events off and on -----------------------------------------------------


async def count_events(state: Services) -> int:
    async with state.database.read_session() as session:
        return int(await session.scalar(select(func.count()).select_from(repository.EVENTS)) or 0)


async def count_named_entries(state: Services) -> int:
    """Ledger entries on user or sponsor accounts: one `transfer_posted` each."""
    named = or_(ACCOUNTS.c.owner.like("user:%"), ACCOUNTS.c.owner.like("sponsor:%"))
    query = (
        select(func.count())
        .select_from(ENTRIES.join(ACCOUNTS, ACCOUNTS.c.id == ENTRIES.c.account_id))
        .where(named)
    )
    async with state.database.read_session() as session:
        return int(await session.scalar(query) or 0)


async def bench_ledger(
    name: str, raw_url: str, plan: Plan, then: Callable[[Services], Awaitable[None]] | None
) -> dict[str, Any]:
    settings = wallet_settings(raw_url)
    if settings.backend is not Backend.SQLITE:
        await asyncio.wait_for(ensure_database(settings.database, settings.backend), 10)
    state = build_services(settings)
    try:
        progress(f"[{name}] schema")
        await schema.drop_all_tables(state.database)
        await schema.upgrade(state.database)
        if not plan.ledger:
            if then is not None:
                await then(state)
            return {}
        progress(f"[{name}] funding {plan.accounts} accounts")
        users = await fund_users(state, plan.accounts)
        sponsor_id = await funded_sponsor(state)
        await warm_pool(state.database, CALLERS)
        figures: dict[str, list[float]] = {}
        failed = expected = written = 0
        for round_ in range(plan.rounds):
            modes = (False, True) if round_ % 2 == 0 else (True, False)
            for enabled in modes:
                mode = "on" if enabled else "off"
                progress(f"[{name}] round {round_ + 1}/{plan.rounds}: events {mode}")
                state.outbox.enabled = enabled
                events_before = await count_events(state)
                entries_before = await count_named_entries(state)
                many = await many_accounts(state, users, plan.seconds)
                hot = await hot_account(state, sponsor_id, plan.seconds)
                figures.setdefault(f"ledger_many_{mode}_per_s", []).append(many.ok_per_s)
                figures.setdefault(f"ledger_hot_{mode}_per_s", []).append(hot.ok_per_s)
                failed += many.failed + hot.failed
                written += await count_events(state) - events_before
                if enabled:
                    expected += await count_named_entries(state) - entries_before
        state.outbox.enabled = True
        progress(f"[{name}] reconciling")
        report = await state.wallet.reconcile()
        result: dict[str, Any] = {key: median(values) for key, values in figures.items()}
        result["rounds"] = {key: [round(v, 1) for v in values] for key, values in figures.items()}
        for load in ("many", "hot"):
            result[f"ledger_{load}_ratio"] = ratio(
                result[f"ledger_{load}_on_per_s"], result[f"ledger_{load}_off_per_s"]
            )
        result.update(
            accounts=plan.accounts,
            failed=failed,
            reconciled=len(report.differences),
            events_written=written,
            events_expected=expected,
            events_missing=expected - written,
        )
        if then is not None:
            await then(state)
        return result
    finally:
        await state.wallet.close()
        await state.ids.close()
        await state.database.dispose()


# --- the broker side --------------------------------------------------------------------------


class Inbox:
    """An exclusive queue bound to an exchange (`#`): each message's arrival time, by key."""

    def __init__(self, connection: aio_pika.abc.AbstractConnection, exchange: str) -> None:
        self.connection = connection
        self.exchange = exchange
        self.count = 0
        self.out_of_order = 0
        self.arrivals: dict[str, float] = {}
        self._last_position = 0
        self._arrived = asyncio.Event()
        self._want = 0
        self._queue: aio_pika.abc.AbstractQueue | None = None

    async def open(self, *, consume: bool = True) -> None:
        """Bind a queue; `consume=False`: its messages wait, costing nothing, until `consume`."""
        channel = await self.connection.channel()
        await channel.declare_exchange(self.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        self._queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await self._queue.bind(self.exchange, "#")
        if consume:
            await self.consume()

    async def consume(self) -> None:
        assert self._queue is not None
        await self._queue.consume(self._on_message, no_ack=True)

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        self.count += 1
        if message.type != "bare":
            item = json.loads(message.body)
            position = item.get("position", 0)
            if position <= self._last_position:
                self.out_of_order += 1
            self._last_position = position
            key = item["data"].get("business_id")
            if key is not None:
                self.arrivals.setdefault(key, time.perf_counter())  # a resend: the first
        if self._want and self.count >= self._want:
            self._arrived.set()

    async def wait_for(self, count: int, within_s: float = WAIT_S) -> bool:
        """Whether `count` messages arrived within `within_s` seconds."""
        self._want = count
        self._arrived.clear()
        if self.count < count:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), within_s)
        return self.count >= count


async def delete_exchanges(names: list[str]) -> None:
    connection = await aio_pika.connect(BROKER_URL)
    try:
        channel = await connection.channel()
        for name in names:
            await channel.exchange_delete(name)
    finally:
        await connection.close()


def bench_event(index: int, key: str) -> TransferPosted:
    account = 1 + index % SUBJECTS
    return TransferPosted(
        account_id=account,
        user_id=10_000_000 + account,
        asset="CNY",
        transfer_id=10**12 + index,
        kind="TRANSFER",
        amount=-index % 500 - 1,
        balance_after=10_000_000 - index,
        business_type="bench",
        business_id=key,
    )


def timed(phases: dict[str, float], name: str, work: Callable[..., Awaitable[Any]]) -> Any:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await work(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started

    return wrapper


def instrument(relay: Relay, publisher: AmqpPublisher) -> tuple[dict[str, float], Any]:
    """Time the relay's steps, its statements and the broker's confirms (seconds, summed);
    and a function that takes the statements' timers off again."""
    phases: dict[str, float] = {}
    relay._sequence = timed(phases, "sequence", relay._sequence)  # type: ignore[method-assign]
    relay._publish = timed(phases, "publish_step", relay._publish)  # type: ignore[method-assign]
    publisher.publish = timed(phases, "broker", publisher.publish)  # type: ignore[method-assign]
    originals = {name: getattr(repository, name) for name in SQL_STEPS}
    for name, work in originals.items():
        setattr(repository, name, timed(phases, f"sql_{name}", work))

    def restore() -> None:
        for name, work in originals.items():
            setattr(repository, name, work)

    return phases, restore


def phase_seconds(phases: dict[str, float]) -> dict[str, float]:
    """The timed phases, rounded; `read_and_mark`: the publishing step less the broker."""
    result = dict(phases)
    result["read_and_mark"] = result.pop("publish_step", 0.0) - result.get("broker", 0.0)
    return {key: round(value, 2) for key, value in sorted(result.items())}


# --- 2. the relay's publish rate ------------------------------------------------------------


async def bench_relay(state: Services, plan: Plan, exchange: str) -> dict[str, Any]:
    batch = state.settings.events_relay_batch
    async with state.database.transaction() as connection:
        # The ledger's, never relayed; TRUNCATE leaves no dead rows for the relay to wade through.
        await connection.execute(text("TRUNCATE TABLE events"))
    progress(f"[relay] writing {plan.relay_events} events")
    for start in range(0, plan.relay_events, APPEND_CHUNK):
        stop = min(plan.relay_events, start + APPEND_CHUNK)
        events = [bench_event(i, f"relay-{i}") for i in range(start, stop)]
        async with state.database.transaction() as connection:
            await state.outbox.append(connection, events)

    consumer = await aio_pika.connect(BROKER_URL)
    try:
        inbox = Inbox(consumer, exchange)
        await inbox.open(consume=False)
        publisher = AmqpPublisher(BROKER_URL, exchange)
        relay = Relay(
            state.database, state.outbox, RelayOptions(source=SOURCE, batch=batch), publisher
        )
        phases, restore = instrument(relay, publisher)
        progress("[relay] publishing")
        # CPU time, not wall time: on a busy machine, wall time blames whatever ran when the
        # process was descheduled.
        profiler = cProfile.Profile(time.process_time) if plan.profile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        relay.start()
        try:
            while relay.counts.published < plan.relay_events:
                if time.perf_counter() - started > WAIT_S * 5:
                    raise RuntimeError(f"relay published {relay.counts.published} only")
                await asyncio.sleep(0.005)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        finally:
            if profiler is not None:
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
                progress(out.getvalue())
            await relay.close()
            restore()
        await inbox.consume()
        async with state.database.read_session() as session:
            marks = await repository.relay_marks(await session.connection())
        arrived = await inbox.wait_for(plan.relay_events)
        body_size = await sample_body_size(state)
        progress("[relay] bare aio-pika baseline")
        bare, bare_cpu = await bare_publish(plan.relay_events, body_size, batch, exchange + ".bare")
    finally:
        await consumer.close()
    relay_per_s = plan.relay_events / elapsed
    return {
        "relay_events": plan.relay_events,
        "relay_batch": batch,
        "relay_seconds": round(elapsed, 2),
        "relay_events_per_s": round(relay_per_s, 1),
        "bare_publish_per_s": round(bare, 1),
        "relay_vs_bare": ratio(relay_per_s, bare),
        # CPU of this process per event: what the relay costs, whatever the machine's load
        "relay_cpu_us_per_event": round(cpu / plan.relay_events * 1e6),
        "bare_cpu_us_per_message": round(bare_cpu / plan.relay_events * 1e6),
        "relay_cpu_share": round(cpu / elapsed, 2),
        "relay_phase_s": phase_seconds(phases),
        "relay_failures": relay.counts.failures,
        # a fresh schema: the marks start at 0
        "relay_published_through_ok": marks.published_through == plan.relay_events,
        "relay_arrived": inbox.count,
        "relay_all_arrived": arrived and inbox.count == plan.relay_events,
        "relay_out_of_order": inbox.out_of_order,
        "message_bytes": body_size,
    }


async def sample_body_size(state: Services) -> int:
    async with state.database.read_session() as session:
        rows = await repository.events_between(await session.connection(), 0, 10**15, 100)
    sizes = [len(json.dumps(envelope(r, SOURCE), separators=(",", ":")).encode()) for r in rows]
    return round(sum(sizes) / len(sizes)) if sizes else 400


def bare_message(body: bytes) -> aio_pika.Message:
    return aio_pika.Message(
        body, message_id=str(uuid.uuid4()), type="bare", delivery_mode=PERSISTENT
    )


async def bare_publish(
    count: int, size: int, batch: int, exchange_name: str
) -> tuple[float, float]:
    """A bare confirming publisher, batches of `batch` each awaited whole: messages/s and
    the CPU seconds this process spent."""
    consumer = await aio_pika.connect(BROKER_URL)
    connection = await aio_pika.connect(BROKER_URL)
    try:
        inbox = Inbox(consumer, exchange_name)
        await inbox.open(consume=False)
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        body = b"x" * size
        started, cpu_started = time.perf_counter(), time.process_time()
        for start in range(0, count, batch):
            chunk = range(start, min(count, start + batch))
            await asyncio.gather(
                *(exchange.publish(bare_message(body), "bench.bare") for _ in chunk)
            )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        await inbox.consume()
        if not await inbox.wait_for(count):
            raise RuntimeError(f"bare publish: {inbox.count} of {count} arrived")
        await channel.exchange_delete(exchange_name)
        return count / elapsed, cpu
    finally:
        await connection.close()
        await consumer.close()


# --- 3. commit-to-consumer latency -------------------------------------------------------------


async def bench_latency(state: Services, plan: Plan, exchange: str) -> dict[str, Any]:
    total = int(LATENCY_RATE * plan.latency_seconds)
    committed: dict[str, float] = {}
    consumer = await aio_pika.connect(BROKER_URL)
    publisher = AmqpPublisher(BROKER_URL, exchange)
    relay = Relay(
        state.database,
        state.outbox,
        RelayOptions(source=SOURCE, batch=state.settings.events_relay_batch),
        publisher,
    )
    phases, restore = instrument(relay, publisher)
    try:
        inbox = Inbox(consumer, exchange)
        await inbox.open()
        relay.start()
        progress(f"[latency] {total} events at {LATENCY_RATE}/s")
        indexes = itertools.count()
        started = time.perf_counter() + 0.2  # the relay takes its lease meanwhile
        cpu_started = time.process_time()

        async def producer() -> None:
            while (commit := next(indexes)) * LATENCY_PER_COMMIT < total:
                first = commit * LATENCY_PER_COMMIT
                delay = started + first / LATENCY_RATE - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                numbers = range(first, min(total, first + LATENCY_PER_COMMIT))
                events = [bench_event(n, f"latency-{n}") for n in numbers]
                async with state.database.transaction() as connection:
                    await state.outbox.append(connection, events)
                at = time.perf_counter()
                committed.update((f"latency-{n}", at) for n in numbers)
                state.outbox.notify()

        await asyncio.gather(*(producer() for _ in range(LATENCY_PRODUCERS)))
        produced_in = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        arrived = await inbox.wait_for(total)
    finally:
        await relay.close()
        await consumer.close()
        restore()
    latencies = sorted(
        (inbox.arrivals[key] - at) * 1000 for key, at in committed.items() if key in inbox.arrivals
    )
    return {
        "latency_events": total,
        "latency_rate_per_s": round(total / produced_in, 1),
        "latency_events_per_commit": LATENCY_PER_COMMIT,
        "latency_cpu_share": round(cpu / produced_in, 2),
        "latency_arrived": len(latencies),
        "latency_all_arrived": arrived and len(latencies) == total,
        "latency_p50_ms": round(percentile(latencies, 0.5), 1),
        "latency_p99_ms": round(percentile(latencies, 0.99), 1),
        "latency_max_ms": round(latencies[-1], 1) if latencies else None,
        "latency_relay_failures": relay.counts.failures,
        "latency_phase_s": phase_seconds(phases),
    }


# --- the run ------------------------------------------------------------------------------


def verdicts(report: dict[str, Any]) -> dict[str, bool]:
    met: dict[str, bool] = {}
    for name, result in report["results"].items():
        if "ledger_many_ratio" not in result:
            continue
        short = "pg" if name == "postgresql" else name
        for load in ("many", "hot"):
            met[f"{short}_ledger_{load}_ratio_ge_0_9"] = (
                result[f"ledger_{load}_ratio"] or 0
            ) >= TARGET_LEDGER_RATIO
        met[f"{short}_reconciled_clean"] = result["reconciled"] == 0
        met[f"{short}_events_as_expected"] = result["events_missing"] == 0 and result["failed"] == 0
    relay = report.get("relay", {})
    if "relay_events_per_s" in relay:
        met["relay_ge_5000_per_s"] = relay["relay_events_per_s"] >= TARGET_RELAY_PER_S
        in_order = relay["relay_out_of_order"] == 0 and relay["relay_published_through_ok"]
        met["relay_all_arrived_in_order"] = relay["relay_all_arrived"] and in_order
    latency = report.get("latency", {})
    if "latency_p99_ms" in latency:
        met["latency_p99_lt_500_ms"] = latency["latency_p99_ms"] < TARGET_LATENCY_P99_MS
        met["latency_all_arrived"] = latency["latency_all_arrived"]
    return met


async def main_async(backends: list[str], plan: Plan, quick: bool) -> dict[str, Any]:
    exchange = f"bench.events.{uuid.uuid4().hex[:8]}"
    relay_backend = next((name for name in backends if name != "sqlite"), backends[0])
    report: dict[str, Any] = {
        "bench": "events",
        "quick": quick,
        "rounds": plan.rounds,
        "callers": CALLERS,
        "seconds_per_measurement": plan.seconds,
        "relay_backend": relay_backend,
        "loadavg_start": loadavg(),
        "targets": {
            "ledger_ratio_min": TARGET_LEDGER_RATIO,
            "relay_events_per_s_min": TARGET_RELAY_PER_S,
            "latency_rate_per_s": LATENCY_RATE,
            "latency_p99_ms_max": TARGET_LATENCY_P99_MS,
        },
    }

    async def broker_part(state: Services) -> None:
        for key, work in (("relay", bench_relay), ("latency", bench_latency)):
            try:
                report[key] = await work(state, plan, f"{exchange}.{key}")
            except Exception as exc:
                progress(f"[{key}] failed: {exc!r}")
                report[key] = {"error": one_line(exc)}

    async def measure(name: str, raw_url: str) -> dict[str, Any]:
        then = broker_part if name == relay_backend else None
        return await bench_ledger(name, raw_url, plan, then)

    try:
        report["results"] = await each_backend(backends, "uc-bench-events-", measure)
    finally:
        try:
            await delete_exchanges([f"{exchange}.relay", f"{exchange}.latency"])
        except Exception as exc:  # the report matters more than the clean-up
            progress(f"[cleanup] {exc!r}")
    report["pass"] = verdicts(report)
    report["all_pass"] = all(report["pass"].values()) and bool(report["pass"])
    report["loadavg_end"] = loadavg()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(
        __doc__,
        quick_help="1 round of 2 s, 10,000 accounts, 10,000 relayed events, 3 s of latency",
        rounds_help="ledger rounds (default 3, quick 1)",
    )
    add_backends(parser)
    parser.add_argument("--no-ledger", action="store_true", help="the relay and latency only")
    parser.add_argument("--profile", action="store_true", help="cProfile the relay (stderr)")
    parser.set_defaults(backends="postgresql,mariadb")
    args = parse_bench_args(parser, argv)
    plan = Plan.of(quick=args.quick, rounds=args.rounds)
    plan = replace(plan, ledger=not args.no_ledger, profile=args.profile)
    logging.getLogger("asyncmy").setLevel(logging.ERROR)
    return report_or_error(
        "events", args.quick, lambda: main_async(args.backend_names, plan, args.quick)
    )


if __name__ == "__main__":
    sys.exit(main())
