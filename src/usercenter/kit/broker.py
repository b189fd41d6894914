"""A connection to the message broker (RabbitMQ over AMQP 0-9-1), opened lazily and kept."""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika


class BrokerLink:
    def __init__(self, url: str, *, timeout: float = 3.0) -> None:
        self.url = url
        self.timeout = timeout
        self._connection: Any = None
        self._lock = asyncio.Lock()

    async def connection(self) -> Any:
        async with self._lock:
            if self._connection is None or self._connection.is_closed:
                self._connection = await aio_pika.connect_robust(self.url, timeout=self.timeout)
            return self._connection

    async def ping(self) -> str:
        """Connect if needed; returns the broker's product and version."""
        connection = await self.connection()
        properties = connection.transport.connection.server_properties
        product = properties.get("product", "AMQP broker")
        version = properties.get("version", "?")
        if isinstance(product, bytes):
            product = product.decode()
        if isinstance(version, bytes):
            version = version.decode()
        return f"{product} {version}"

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
