"""Publishing to RabbitMQ (aio-pika): a durable topic exchange, persistent messages, publisher
confirms; and the CloudEvents envelope every consumer gets, over AMQP and from the feed."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from usercenter.kit.events import CONTENT_TYPE, DATA_CONTENT_TYPE, SPEC_VERSION


def envelope(row: Any, source: str) -> dict[str, Any]:
    """The CloudEvents 1.0 JSON form of an outbox row. `subjectseq` (the subject's sequence
    number) and `position` (the place in the feed) are extension attributes."""
    result: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": row.event_id,
        "source": source,
        "type": row.type,
        "subject": row.subject,
        "time": row.occurred_at.isoformat().replace("+00:00", "Z"),
        "datacontenttype": DATA_CONTENT_TYPE,
        "subjectseq": row.subject_seq,
        "data": row.data,
    }
    if row.position is not None:
        result["position"] = row.position
    return result


class AmqpPublisher:
    """One connection and one confirming channel, opened on first use and again after a
    failure. `publish` sends a batch in order on the channel (RabbitMQ keeps a channel's order
    to each queue) and answers how many of its first messages the broker confirmed."""

    def __init__(self, url: str, exchange: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self.exchange_name = exchange
        self.timeout = timeout
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def _open(self) -> AbstractExchange:
        connection, channel = self._connection, self._channel
        if (
            self._exchange is not None
            and connection is not None
            and channel is not None
            and not connection.is_closed
            and not channel.is_closed
        ):
            return self._exchange
        await self.close()
        self._connection = await aio_pika.connect(self.url, timeout=self.timeout)
        self._channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        return self._exchange

    async def declare(self) -> None:
        """Connect and declare the exchange (so consumers can bind before the first event)."""
        await self._open()

    async def publish(self, envelopes: Sequence[dict[str, Any]]) -> int:
        """Send `envelopes` in order; the number of them, from the first, that the broker
        confirmed. A failure closes the connection (the next call opens a new one) and raises
        when nothing was confirmed."""
        exchange = await self._open()
        messages = [
            aio_pika.Message(
                json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode(),
                message_id=item["id"],
                content_type=CONTENT_TYPE,
                type=item["type"],
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )
            for item in envelopes
        ]
        results = await asyncio.gather(
            *(
                exchange.publish(
                    message, routing_key=item["type"], mandatory=False, timeout=self.timeout
                )
                for message, item in zip(messages, envelopes, strict=True)
            ),
            return_exceptions=True,
        )
        confirmed = 0
        for result in results:
            if isinstance(result, BaseException):
                break
            confirmed += 1
        if confirmed < len(results):
            failure = next(r for r in results if isinstance(r, BaseException))
            await self.close()
            if confirmed == 0:
                raise failure
        return confirmed

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        self._channel = self._exchange = None
        if connection is not None and not connection.is_closed:
            # A connection that is already gone closes with an error: it is closed either way.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)
