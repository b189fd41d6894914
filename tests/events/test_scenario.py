"""A consumer bound to the exchange on the real RabbitMQ receives every event of a user's life —
register, bind, grant, recharge, spend, refund, withdrawal, disable — with the right type,
subject, sequence and masked data, and no personal data in clear in any message."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import service_url
from tests.factories import services_of
from tests.factories.access import grant, make_staff, staff_token
from tests.factories.identity import bearer, last_sms_code, register
from tests.factories.wallet import top_up
from tests.wallet.conftest import started
from usercenter.access.models import SubjectType
from usercenter.access.service.permissions import Subject
from usercenter.wallet.service import Business

PHONE = "13912345678"
CARD = "6222020000031234"
ID_CARD = "440101199001031234"


@pytest.fixture
async def broker_app(database_url: str, db: object) -> AsyncIterator[tuple[FastAPI, str]]:
    exchange = f"test.scenario.{secrets.token_hex(4)}"
    async for application in started(
        database_url, broker_url=service_url("broker"), events_exchange=exchange
    ):
        yield application, exchange


async def _consumer(exchange: str) -> tuple[Any, aio_pika.abc.AbstractQueue]:
    connection = await aio_pika.connect(service_url("broker"))
    channel = await connection.channel()
    declared = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue("", exclusive=True, auto_delete=True)
    await queue.bind(declared, routing_key="usercenter.#")
    return connection, queue


async def _receive(queue: aio_pika.abc.AbstractQueue, count: int) -> list[tuple[Any, dict]]:
    got: list[tuple[Any, dict]] = []
    async with queue.iterator() as messages:
        async for message in messages:
            async with message.process():
                got.append((message, json.loads(message.body)))
            if len(got) == count:
                return got
    raise AssertionError("the queue closed")


async def test_a_users_life_reaches_the_exchange_in_order_and_masked(
    broker_app: tuple[FastAPI, str],
) -> None:
    application, exchange = broker_app
    services = services_of(application)
    connection, queue = await _consumer(exchange)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://usercenter.test") as http:
        tokens = await register(http, f"life_{secrets.token_hex(3)}")
        user_id = int(tokens["user"]["id"])
        sent = await http.post(
            "/v1/sms/codes", json={"phone": PHONE, "purpose": "bind"}, headers=bearer(tokens)
        )
        assert sent.status_code == 202, sent.text
        bound = await http.post(
            "/v1/me/identities/phone",
            json={"phone": PHONE, "code": await last_sms_code(application, PHONE)},
            headers=bearer(tokens),
        )
        assert bound.status_code == 204, bound.text
        await grant(services, Subject(SubjectType.USER, user_id), "consumer")

        wallet = services.wallet
        await top_up(wallet, user_id, "CNY", 10_000)
        spent = await wallet.debit(
            user_id=user_id,
            asset="CNY",
            amount=3_000,
            business=Business(business_type="order", business_id="life-1"),
        )
        await wallet.refund(
            transfer_id=spent.answer["transfer_id"],
            amount=1_000,
            business=Business(business_type="order_refund", business_id="life-1"),
        )
        payout = await wallet.add_bank_card(
            user_id=user_id,
            real_name="张三",
            bank_name="工商银行",
            card_number=CARD,
            id_card=ID_CARD,
        )
        _, withdrawal = await wallet.apply_withdrawal(
            user_id=user_id, payout_account_id=payout.id, amount=2_000, key="life-w"
        )
        await wallet.settle_withdrawal(
            withdrawal_id=withdrawal.id, paid=True, handler_id="1", remark=None
        )

        _, username = await make_staff(services, "super_admin")
        disabled = await http.post(
            f"/v1/admin/users/{user_id}/disable", headers=await staff_token(http, username)
        )
        assert disabled.status_code == 204, disabled.text

    services.relay.start()
    try:
        async with services.database.read_session() as session:
            from sqlalchemy import func, select

            from usercenter.events.models import OutboxEvent

            total = await session.scalar(select(func.count()).select_from(OutboxEvent))
        received = await asyncio.wait_for(_receive(queue, int(total or 0)), 30)
    finally:
        await connection.close()

    bodies = [body for _, body in received]
    for message, body in received:
        assert message.message_id == body["id"]
        assert message.routing_key == body["type"]
        assert message.content_type == "application/cloudevents+json"
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        raw = message.body.decode()
        for secret in (PHONE, PHONE[3:], CARD, CARD[-8:], ID_CARD, "张三"):
            assert secret not in raw, (secret, body["type"])

    mine = [b for b in bodies if b["subject"] == f"users/{user_id}"]
    assert [b["subjectseq"] for b in mine] == list(range(1, len(mine) + 1))
    types = [b["type"].removeprefix("usercenter.") for b in mine]
    expected_in_order = [
        "user.registered",
        "user.identity_bound",
        "access.grant_changed",
        "wallet.withdrawal_requested",
        "wallet.withdrawal_completed",
        "user.disabled",
    ]
    assert [t for t in types if t in expected_in_order] == expected_in_order
    assert "session.revoked" in types[types.index("user.disabled") - 1 :]

    bound_event = next(b for b in mine if b["type"].endswith("identity_bound"))
    assert bound_event["data"]["identifier_masked"] == "139****5678"

    account_events = [
        b
        for b in bodies
        if b["type"] == "usercenter.wallet.transfer_posted" and b["data"]["user_id"] == user_id
    ]
    assert [(b["data"]["amount"], b["data"]["balance_after"]) for b in account_events] == [
        (10_000, 10_000),
        (-3_000, 7_000),
        (1_000, 8_000),
        (-2_000, 6_000),
    ]
    account = account_events[0]["subject"]
    seqs = [b["subjectseq"] for b in bodies if b["subject"] == account]
    assert seqs == list(range(1, len(seqs) + 1))  # the hold's own events among them
    positions = [b["position"] for b in bodies]
    assert positions == sorted(positions)
