"""The relay without a broker and the pull feed: positions in commit order, pages, the long
poll, retention and its expired cursors, the lease and its fencing, the AsyncAPI document."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import MovableClock
from tests.events.conftest import relay_catch_up, stored_events
from tests.factories.access import make_staff, staff_token
from tests.factories.identity import make_user
from usercenter.app import Services, relay_options
from usercenter.events.service import Relay
from usercenter.events.service.publisher import AmqpPublisher
from usercenter.events.service.relay import LeaseLost
from usercenter.kit.events import event_types

SERVICE = {"Authorization": "Basic " + base64.b64encode(b"orders:s3cret").decode()}
REGISTERED = "usercenter.user.registered"


@pytest.fixture
async def http(events_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=events_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://usercenter.test") as c:
        yield c


async def _read_all(http: httpx.AsyncClient, *, limit: int, **params: str) -> list[dict]:
    after, seen = "0", []
    while True:
        page = (
            await http.get(
                "/v1/events", params={"after": after, "limit": limit, **params}, headers=SERVICE
            )
        ).json()
        seen.extend(page["items"])
        assert page["next_cursor"] >= after
        after = page["next_cursor"]
        if not page["has_more"]:
            return seen


async def test_the_feed_pages_through_every_event_in_position_order(
    services: Services, http: httpx.AsyncClient
) -> None:
    users = [await make_user(services, phone=f"1390000{n:04d}") for n in range(7)]
    unsequenced = await http.get("/v1/events", headers=SERVICE)
    assert unsequenced.json()["items"] == []  # nothing until the relay has given positions
    await relay_catch_up(services)

    items = await _read_all(http, limit=3)
    assert [item["data"]["user_id"] for item in items] == users
    assert [item["position"] for item in items] == list(range(1, 8))
    first = items[0]
    assert first["specversion"] == "1.0"
    assert first["type"] == REGISTERED
    assert first["subject"] == f"users/{users[0]}"
    assert first["subjectseq"] == 1
    assert first["data"]["phone_masked"] == "139****0000"
    assert "13900000000" not in str(items)
    stored = await stored_events(services)
    assert [item["id"] for item in items] == [row.event_id for row in stored]


async def test_the_feed_filters_by_type_and_moves_the_cursor_past_what_it_skipped(
    services: Services, http: httpx.AsyncClient
) -> None:
    await make_user(services)
    await relay_catch_up(services)
    page = (
        await http.get(
            "/v1/events",
            params={"types": "usercenter.wallet.transfer_posted"},
            headers=SERVICE,
        )
    ).json()
    assert page["items"] == []
    assert page["next_cursor"] == "1"


async def test_the_feed_refuses_strangers_unknown_types_and_bad_cursors(
    services: Services, http: httpx.AsyncClient
) -> None:
    assert (await http.get("/v1/events")).status_code == 401
    wrong = {"Authorization": "Basic " + base64.b64encode(b"orders:wrong").decode()}
    assert (await http.get("/v1/events", headers=wrong)).status_code == 401
    unknown = await http.get("/v1/events", params={"types": "no.such"}, headers=SERVICE)
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "event_type_unknown"
    for bad in ({"after": "-1"}, {"after": "x"}, {"limit": "0"}, {"wait": "31"}):
        response = await http.get("/v1/events", params=bad, headers=SERVICE)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == next(iter(bad))


async def test_a_long_poll_returns_as_soon_as_an_event_is_sequenced(
    services: Services, http: httpx.AsyncClient
) -> None:
    services.relay.start()
    started = time.monotonic()
    waiting = asyncio.create_task(
        http.get("/v1/events", params={"wait": "20"}, headers=SERVICE, timeout=30)
    )
    await asyncio.sleep(0.3)
    assert not waiting.done()  # nothing yet: it holds on
    await make_user(services)
    page = (await waiting).json()
    assert [item["type"] for item in page["items"]] == [REGISTERED]
    assert time.monotonic() - started < 10


async def test_retention_deletes_old_published_events_and_expires_older_cursors(
    services: Services, http: httpx.AsyncClient, moved_clock: MovableClock
) -> None:
    for _ in range(3):
        await make_user(services)
    await relay_catch_up(services)
    moved_clock.advance(8 * 86400)
    await make_user(services)  # a recent one, kept
    await relay_catch_up(services)
    assert await services.relay.trim() == 3
    assert len(await stored_events(services)) == 1

    expired = await http.get("/v1/events", params={"after": "1"}, headers=SERVICE)
    assert expired.status_code == 410
    assert expired.json()["code"] == "event_cursor_expired"
    assert "3" in expired.json()["detail"]
    from_start = (await http.get("/v1/events", params={"after": "0"}, headers=SERVICE)).json()
    assert [item["position"] for item in from_start["items"]] == [4]
    at_mark = (await http.get("/v1/events", params={"after": "3"}, headers=SERVICE)).json()
    assert [item["position"] for item in at_mark["items"]] == [4]


async def test_one_relay_holds_the_lease_and_another_takes_over_when_it_goes_silent(
    services: Services, moved_clock: MovableClock
) -> None:
    first = services.relay
    second = Relay(services.database, services.outbox, relay_options(services.settings))
    assert await first.hold_lease()
    assert not await second.hold_lease()

    moved_clock.advance(services.settings.events_relay_lease_seconds + 1)
    assert await second.hold_lease()  # the first stopped renewing: its lease ran out

    await make_user(services)
    with pytest.raises(LeaseLost):  # fenced: the old holder can no longer move the marks
        await first.step()
    assert await second.step()
    async with services.database.read_session() as session:
        from usercenter.events import repository

        marks = await repository.relay_marks(await session.connection())
    assert marks.holder == second.holder
    assert marks.epoch == 2
    assert marks.sequenced_through == 1


async def test_an_unreachable_broker_backs_publishing_off_while_the_feed_goes_on(
    services: Services, http: httpx.AsyncClient
) -> None:
    nowhere = AmqpPublisher("amqp://guest:guest@127.0.0.1:1/", "nowhere", timeout=1)
    relay = Relay(services.database, services.outbox, relay_options(services.settings), nowhere)
    await make_user(services)
    assert await relay.hold_lease()  # declaring the exchange fails: the lease is held
    assert await relay.step()  # sequenced, though publishing failed
    assert relay.counts.failures >= 1
    page = (await http.get("/v1/events", headers=SERVICE)).json()
    assert [item["type"] for item in page["items"]] == [REGISTERED]
    await make_user(services)
    assert await relay.step()  # publishing waits out its pause; sequencing does not
    async with services.database.read_session() as session:
        from usercenter.events import repository

        marks = await repository.relay_marks(await session.connection())
    assert marks.holder == relay.holder
    assert marks.sequenced_through == 2
    assert marks.published_through == 0
    assert "nowhere" not in str(marks.errors)
    assert marks.errors
    assert marks.errors[0]["message"]
    await relay.close()


async def test_a_relay_that_stops_hands_the_lease_over_at_once(services: Services) -> None:
    first = services.relay
    second = Relay(services.database, services.outbox, relay_options(services.settings))
    assert await first.hold_lease()
    await first.close()
    assert await second.hold_lease()
    await second.close()


async def test_staff_see_the_relay_and_browse_events(
    services: Services, http: httpx.AsyncClient
) -> None:
    user_id = await make_user(services)
    _, username = await make_staff(services, "super_admin")
    headers = await staff_token(http, username)
    relay = (await http.get("/v1/admin/events/relay", headers=headers)).json()
    assert relay["holder"] is None
    assert relay["backlog"] >= 1
    assert relay["broker"] is False

    await relay_catch_up(services)
    relay = (await http.get("/v1/admin/events/relay", headers=headers)).json()
    assert relay["holder"] == services.relay.holder
    assert relay["backlog"] == 0
    assert relay["published_through"] == relay["sequenced_through"] >= 1

    page = (
        await http.get(
            "/v1/admin/events",
            params={"type": REGISTERED, "subject": f"users/{user_id}"},
            headers=headers,
        )
    ).json()
    assert [(e["subject"], e["published"]) for e in page["items"]] == [(f"users/{user_id}", True)]
    types = (await http.get("/v1/admin/events/types", headers=headers)).json()
    assert {t["type"] for t in types} == set(event_types())

    _, clerk = await make_staff(services)
    refused = await http.get("/v1/admin/events", headers=await staff_token(http, clerk))
    assert refused.status_code == 403


async def test_the_asyncapi_document_describes_every_event_type(http: httpx.AsyncClient) -> None:
    document = (await http.get("/asyncapi.json")).json()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(event_types())
    message = document["components"]["messages"]["UserRegistered"]
    assert message["contentType"] == "application/cloudevents+json"
    data = document["components"]["schemas"]["UserRegistered"]
    assert {"user_id", "uid", "method", "phone_masked"} <= set(data["properties"])
    for operation in document["operations"].values():
        assert operation["action"] == "send"
