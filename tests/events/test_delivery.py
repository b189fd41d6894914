"""Delivery through real RabbitMQ when things fail: the broker out of reach (a TCP proxy cut and
restored), a relay killed between publishing and marking, the active one of two `serve`
processes killed, and two processes changing one subject at once. A consumer bound straight
to the broker (never through the proxy) sees what a subscriber sees: every event at least
once, a subject's events in their sequence order, a repeat only as an exact copy."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI
from sqlalchemy import select

from tests.access.conftest import make_staff, staff_token
from tests.conftest import SERVER_BACKENDS, TEST_KEYS, free_port, make_settings, service_url
from tests.events.proxy import TcpProxy
from tests.factories import services_of
from tests.factories.identity import make_user
from tests.factories.platform import basic_auth
from tests.identity.conftest import client_for
from usercenter.app import create_app
from usercenter.db import Database
from usercenter.events import repository
from usercenter.events.models import OutboxEvent
from usercenter.events.service import relay as relay_module

SERVICE = basic_auth("orders:s3cret")
# Two processes share a server database (the take-over on PostgreSQL, the order on both).
SERVER_DATABASES = [name for name, variable in SERVER_BACKENDS.items() if os.environ.get(variable)]
ON_POSTGRESQL = [name for name in SERVER_DATABASES if name == "postgresql"]
# What a relay process does does not depend on the database: one is enough (a process costs).
ON_ONE_DATABASE = ON_POSTGRESQL or ["sqlite"]
# Upper bounds for what the tests wait for, never sleeps: generous for a busy machine, where a
# new process takes its time to import the service.
DEADLINE = 30.0
STARTUP = 60.0


# --- what a subscriber sees ------------------------------------------------------------------


class Consumer:
    """An exclusive, auto-deleted queue bound to every routing key of the test's own exchange,
    connected straight to the broker; what arrived, in arrival order."""

    def __init__(self, url: str, exchange: str) -> None:
        self.url = url
        self.exchange_name = exchange
        self.arrived: list[dict[str, Any]] = []
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect(self.url)
        channel = await self._connection.channel()
        # Declared as the relay declares it, so whichever comes first makes it.
        self._exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(self._exchange, "#")
        await queue.consume(self._on_message, no_ack=True)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        body = json.loads(message.body)
        assert message.message_id == body["id"]
        self.arrived.append(body)

    def ids(self) -> Counter[str]:  # how often each event arrived
        return Counter(item["id"] for item in self.arrived)

    async def close(self) -> None:
        if self._exchange is not None:
            await self._exchange.delete()
        if self._connection is not None:
            await self._connection.close()


async def eventually(
    what: str, condition: Callable[[], bool | Awaitable[bool]], *, deadline: float = DEADLINE
) -> None:
    """Poll `condition` until it holds; fail with `what` after `deadline` seconds."""
    limit = time.monotonic() + deadline
    while True:
        outcome = condition()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > limit:
            raise AssertionError(f"not within {deadline:.0f} s: {what}")
        await asyncio.sleep(0.05)


def assert_in_subject_order(arrived: Iterable[dict[str, Any]]) -> None:
    """Per subject, the first arrival of each event comes in strictly increasing `subjectseq`;
    an event that comes again is an exact copy of its first arrival."""
    first: dict[str, dict[str, Any]] = {}
    last_seq: dict[str, int] = {}
    for item in arrived:
        seen = first.get(item["id"])
        if seen is not None:
            assert item == seen, f"{item['id']} came again changed: {seen} then {item}"
            continue
        first[item["id"]] = item
        subject, seq = item["subject"], item["subjectseq"]
        assert seq > last_seq.get(subject, 0), (
            f"{subject}: seq {seq} arrived after seq {last_seq[subject]}"
        )
        last_seq[subject] = seq


async def written_events(database: Database) -> list[Any]:
    """Every event in the outbox, in id order."""
    async with database.read_session() as session:
        return list(await session.execute(select(OutboxEvent).order_by(OutboxEvent.id)))


async def assert_all_arrived_once_at_least(database: Database, consumer: Consumer) -> list[Any]:
    rows = [row.OutboxEvent for row in await written_events(database)]
    arrived = consumer.ids()
    missing = [row.event_id for row in rows if row.event_id not in arrived]
    assert not missing, f"{len(missing)} of {len(rows)} events never arrived"
    by_id = {item["id"]: item for item in consumer.arrived}
    for row in rows:
        assert (by_id[row.event_id]["subject"], by_id[row.event_id]["subjectseq"]) == (
            row.subject,
            row.subject_seq,
        )
    assert_in_subject_order(consumer.arrived)
    return rows


async def all_arrived(database: Database, consumer: Consumer, times: int = 1) -> bool:
    rows = await written_events(database)
    arrived = consumer.ids()
    return bool(rows) and all(arrived[row.OutboxEvent.event_id] >= times for row in rows)


async def marks_of(database: Database) -> repository.RelayMarks:
    async with database.read_session() as session:
        return await repository.relay_marks(await session.connection())


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def broker_url() -> str:
    return service_url("broker")


@pytest.fixture
def exchange() -> str:
    """The test's own exchange on the shared broker (deleted when the test ends)."""
    return f"test.{secrets.token_hex(6)}"


@pytest.fixture
async def consumer(broker_url: str, exchange: str) -> AsyncIterator[Consumer]:
    subscriber = Consumer(broker_url, exchange)
    await subscriber.start()
    yield subscriber
    await subscriber.close()


@pytest.fixture
async def proxy(broker_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A proxy in front of the broker, and the broker URL through it."""
    relay = TcpProxy(broker_url)
    url = await relay.start()
    yield relay, url
    await relay.close()


@asynccontextmanager
async def running_app(database_url: str, **overrides: Any) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database_url,
        log_level="ERROR",
        wallet_hold_sweep_seconds=0,
        service_clients="orders:s3cret",
        **overrides,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


_payments = iter(range(1, 10**9))


async def recharge(http: httpx.AsyncClient, user_id: int, yuan: int) -> None:
    body = {
        "user_id": user_id,
        "asset": "CNY",
        "amount": yuan,
        "channel": "wechatpay",
        "payment_id": f"wx-{secrets.token_hex(4)}-{next(_payments)}",
    }
    response = await http.post("/v1/wallet/recharges", json=body, headers=SERVICE)
    assert response.status_code == 200, response.text


def process_env(database_url: str, **values: str) -> dict[str, str]:
    """The environment of a `usercenter` process of the test (no other USERCENTER_*)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("USERCENTER_")}
    return {
        **clean,
        "USERCENTER_DATABASE_URL": database_url,
        "USERCENTER_SECRET_KEYS": TEST_KEYS.secret_keys_item,
        "USERCENTER_BLIND_INDEX_KEY": TEST_KEYS.blind_index_key_b64,
        "USERCENTER_PASSWORD_MEMORY_KIB": "8192",
        "USERCENTER_PASSWORD_TIME_COST": "1",
        "USERCENTER_LOG_LEVEL": "WARNING",
        "USERCENTER_EVENTS_RELAY_LEASE_SECONDS": "1",
        "USERCENTER_EVENTS_RELAY_POLL_SECONDS": "0.05",
        **values,
    }


def held_by(marks: repository.RelayMarks, process: subprocess.Popen[str]) -> bool:
    return marks.holder is not None and f":{process.pid}:" in marks.holder


class Processes:
    """`usercenter` processes of a test, each logging to a file of its own in `workdir`;
    stopped with SIGTERM when the test ends (those still running)."""

    def __init__(self, workdir: Path, database_url: str) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.started: list[subprocess.Popen[str]] = []

    def start(self, *argv: str, **env: str) -> subprocess.Popen[str]:
        log = self.workdir / f"{argv[0]}-{len(self.started)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "usercenter", *argv],
            cwd=self.workdir,
            env=process_env(self.database_url, **env),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.started.append(process)
        return process

    def relay(self, broker: str, exchange: str) -> subprocess.Popen[str]:
        return self.start(
            "relay", USERCENTER_BROKER_URL=broker, USERCENTER_EVENTS_EXCHANGE=exchange
        )

    async def serve(self, count: int, broker: str, exchange: str) -> list[Served]:
        """`count` serve processes, each running the relay (one holds it at a time), once
        they all answer."""
        served = []
        for _ in range(count):
            port = free_port()
            process = self.start(
                "serve",
                "--port",
                str(port),
                USERCENTER_BROKER_URL=broker,
                USERCENTER_EVENTS_EXCHANGE=exchange,
                USERCENTER_SERVICE_CLIENTS="orders:s3cret",
            )
            served.append(Served(f"http://127.0.0.1:{port}", process))
        async with httpx.AsyncClient(timeout=1) as http:

            async def answers(one: Served) -> bool:
                assert one.process.poll() is None, f"serve exited: {self.output(one.process)}"
                try:
                    return (await http.get(f"{one.url}/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False

            async def all_answer() -> bool:
                return all([await answers(one) for one in served])

            await eventually("every serve process answers", all_answer, deadline=STARTUP)
        return served

    def output(self, process: subprocess.Popen[str]) -> str:
        argv = process.args
        assert isinstance(argv, list)
        number = self.started.index(process)
        return (self.workdir / f"{argv[3]}-{number}.log").read_text()[-3000:]

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@dataclass(frozen=True)
class Served:
    url: str
    process: subprocess.Popen[str]


@pytest.fixture
def processes(workdir: Path, database_url: str) -> Iterator[Processes]:
    started = Processes(workdir, database_url)
    yield started
    started.stop_all()


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0


# --- 1. the broker out of reach --------------------------------------------------------------


def seconds_between(errors: list[dict[str, Any]]) -> list[float]:
    """The gaps between the recorded failures, oldest first."""
    times = sorted(datetime.fromisoformat(error["at"]) for error in errors)
    return [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]


class TestBrokerOutOfReach:
    async def test_requests_go_on_and_every_event_arrives_in_order_once_it_is_back(
        self,
        database_url: str,
        db: Database,
        consumer: Consumer,
        exchange: str,
        proxy: tuple[TcpProxy, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # The backoff doubles from 0.5 s up to its cap; a cap of 1 s shows both in seconds.
        monkeypatch.setattr(relay_module, "MAX_BACKOFF", 1.0)
        cutter, through_proxy = proxy
        async with running_app(
            database_url, broker_url=through_proxy, events_exchange=exchange
        ) as application:
            services = services_of(application)
            users = [await make_user(application) for _ in range(3)]
            _, username = await make_staff(application, "super_admin")
            async with client_for(application) as http:
                staff = await staff_token(http, username)

                async def status() -> dict[str, Any]:
                    answer = await http.get("/v1/admin/events/relay", headers=staff)
                    assert answer.status_code == 200, answer.text
                    result: dict[str, Any] = answer.json()
                    return result

                services.relay.start()
                for user in users:
                    await recharge(http, user, 100)
                await eventually("the first events arrive", lambda: all_arrived(db, consumer))
                before_cut = len(consumer.arrived)
                # and their confirms reached the relay (else the cut may catch one on its way)
                await eventually("they are marked", lambda: published_through_is(db, before_cut))

                cutter.cut()
                for n in range(15):
                    await recharge(http, users[n % 3], n + 1)
                written = len(await written_events(db))

                async def keeps_retrying() -> bool:
                    return len((await status())["errors"]) >= 6

                await eventually("the relay keeps retrying", keeps_retrying)
                during_cut = await status()
                assert len(consumer.arrived) == before_cut
                assert during_cut["backlog"] == written - before_cut >= 15
                assert during_cut["published_through"] == before_cut
                assert during_cut["holder"] == services.relay.holder
                gaps = seconds_between(during_cut["errors"])
                # Not a busy loop: half a second first, then growing to the cap, and no more.
                assert gaps[0] >= 0.45, gaps
                assert all(gap >= 0.95 for gap in gaps[1:]), gaps
                assert max(gaps) < 3.5, gaps  # uncapped, the last would be 8 s
                assert services.relay.counts.failures >= 6

                cutter.restore()
                await eventually("every event arrives", lambda: all_arrived(db, consumer))
                rows = await assert_all_arrived_once_at_least(db, consumer)
                after = await status()
                assert after["backlog"] == 0
                assert after["published_through"] == after["sequenced_through"] == len(rows)


# --- 2. the relay killed between publishing and marking ---------------------------------------


class TestRelayKilledBeforeMarking:
    @pytest.mark.parametrize("database_url", ON_ONE_DATABASE, indirect=True)
    async def test_the_next_relay_sends_the_same_events_again_and_marks_them(
        self,
        database_url: str,
        db: Database,
        consumer: Consumer,
        exchange: str,
        broker_url: str,
        proxy: tuple[TcpProxy, str],
        processes: Processes,
    ) -> None:
        gate, through_proxy = proxy
        gate.hold_on_publish = True
        async with running_app(database_url) as application:
            users = [await make_user(application) for _ in range(3)]
            async with client_for(application) as http:
                for n in range(9):
                    await recharge(http, users[n % 3], n + 1)
            rows = await written_events(db)
            # Written before the relay starts: it publishes them all in one batch.
            first = processes.relay(through_proxy, exchange)
            # The broker routes every event; its confirms wait in the proxy.
            await eventually(
                "the broker routes them", lambda: all_arrived(db, consumer), deadline=STARTUP
            )
            assert gate.is_holding
            marks = await marks_of(db)
            assert held_by(marks, first)
            assert marks.sequenced_through == len(rows)
            assert marks.published_through == 0
            first.send_signal(signal.SIGKILL)
            first.wait(10)

            second = processes.relay(broker_url, exchange)
            await eventually(
                "the same events come again",
                lambda: all_arrived(db, consumer, times=2),
                deadline=STARTUP,
            )
            await eventually(
                "published_through covers them", lambda: published_through_is(db, len(rows))
            )
            taken_over = await marks_of(db)
            assert held_by(taken_over, second)
            assert taken_over.epoch == marks.epoch + 1

            # What comes next goes out once.
            async with client_for(application) as http:
                await recharge(http, users[0], 1000)
            await eventually("the next event", lambda: all_arrived(db, consumer))
        rows = await assert_all_arrived_once_at_least(db, consumer)
        counts = consumer.ids()
        assert [counts[row.event_id] for row in rows] == [2] * (len(rows) - 1) + [1]
        await eventually("published_through covers it", lambda: published_through_is(db, len(rows)))
        stop(second)
        assert (await marks_of(db)).holder is None  # handed back on SIGTERM


async def lease_of(database: Database, process: subprocess.Popen[str]) -> bool:
    assert process.poll() is None, f"the process exited with {process.returncode}"
    return held_by(await marks_of(database), process)


async def one_holds(database: Database, served: list[Served]) -> bool:
    marks = await marks_of(database)
    return any(held_by(marks, one.process) for one in served)


async def published_through_is(database: Database, position: int) -> bool:
    marks = await marks_of(database)
    return marks.published_through == marks.sequenced_through == position


# --- 3 and 4. two `serve` processes ----------------------------------------------------------


class TestTwoServeProcesses:
    @pytest.mark.parametrize("database_url", ON_POSTGRESQL, indirect=True)
    async def test_the_standby_takes_over_when_the_active_one_is_killed(
        self,
        database_url: str,
        db: Database,
        consumer: Consumer,
        exchange: str,
        broker_url: str,
        processes: Processes,
    ) -> None:
        both = await processes.serve(2, broker_url, exchange)
        await eventually("one of them takes the lease", lambda: one_holds(db, both))
        # Read before any event exists: a take-over at start-up (a busy machine can stall the
        # first holder past its lease) may send the batch it had in flight again.
        initial = await marks_of(db)
        async with running_app(database_url) as application:
            user = await make_user(application)
        at = [httpx.AsyncClient(base_url=one.url) for one in both]
        try:
            for n in range(4):
                await recharge(at[0], user, n + 1)
                await recharge(at[1], user, n + 10)
            await eventually("events made on both arrive", lambda: all_arrived(db, consumer))
            rows = await written_events(db)
            await eventually(
                "they are marked published", lambda: published_through_is(db, len(rows))
            )
            # One holds the lease, the other stands by.
            before = await marks_of(db)
            [active] = [one for one in both if held_by(before, one.process)]
            [standby] = [one for one in both if one is not active]

            active.process.send_signal(signal.SIGKILL)
            active.process.wait(10)
            await eventually("the standby takes over", lambda: lease_of(db, standby.process))
            assert (await marks_of(db)).epoch == before.epoch + 1

            for n in range(4):
                await recharge(at[both.index(standby)], user, n + 100)
            await eventually("what it publishes arrives", lambda: all_arrived(db, consumer))
        finally:
            for http in at:
                await http.aclose()
        rows = await assert_all_arrived_once_at_least(db, consumer)
        counts = consumer.ids()
        # Alone, the new holder sends each of its events once.
        assert [counts[row.event_id] for row in rows[-4:]] == [1] * 4
        # Before the kill, nothing came twice unless the lease moved (a busy machine can stall
        # the holder past its 1 s lease; the take-over then sends its batch again).
        if before.epoch == initial.epoch:
            assert set(counts.values()) == {1}, (initial, before, counts.most_common(3))
        await eventually("and marks", lambda: published_through_is(db, len(rows)))

    @pytest.mark.parametrize("database_url", SERVER_DATABASES, indirect=True)
    async def test_one_subject_changed_by_both_keeps_its_order(
        self,
        database_url: str,
        db: Database,
        consumer: Consumer,
        exchange: str,
        broker_url: str,
        processes: Processes,
    ) -> None:
        both = await processes.serve(2, broker_url, exchange)
        await eventually("one of them takes the lease", lambda: one_holds(db, both))
        # Read before any event exists: a take-over at start-up (a busy machine can stall the
        # first holder past its lease) may send the batch it had in flight again.
        initial = await marks_of(db)
        async with running_app(database_url) as application:
            user = await make_user(application)
        urls = [one.url for one in both]
        amounts = {url: list(range(1 + n, 61, 2)) for n, url in enumerate(urls)}

        async def load(url: str) -> None:
            todo = iter(amounts[url])
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:

                async def worker() -> None:
                    for yuan in todo:
                        await recharge(http, user, yuan)

                await asyncio.gather(*(worker() for _ in range(4)))

        await asyncio.gather(*(load(url) for url in urls))
        await eventually("every event arrives", lambda: all_arrived(db, consumer))
        rows = await assert_all_arrived_once_at_least(db, consumer)

        account = [
            row
            for row in rows
            if row.type == "usercenter.wallet.transfer_posted" and row.data["user_id"] == user
        ]
        assert len({row.subject for row in account}) == 1
        in_seq = sorted(account, key=lambda row: row.subject_seq)
        assert [row.subject_seq for row in in_seq] == list(range(1, 61))
        positions = [row.position for row in in_seq]
        assert positions == sorted(positions)
        # Each event's balance is the one before it plus its amount: the sequence is the order
        # in which the postings committed.
        balance = 0
        for row in in_seq:
            balance += row.data["amount"]
            assert row.data["balance_after"] == balance
        assert balance == sum(range(1, 61)) * 100  # in fen
        subject = in_seq[0].subject
        arrived = [item for item in consumer.arrived if item["subject"] == subject]
        first_arrivals = {item["id"]: item["subjectseq"] for item in arrived}
        assert list(first_arrivals.values()) == list(range(1, 61))
        if (await marks_of(db)).epoch == initial.epoch:  # no take-over: nothing twice
            assert len(arrived) == 60
