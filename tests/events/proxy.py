"""A TCP proxy for the relay's failure tests, between the relay and RabbitMQ: it forwards bytes
both ways until the test cuts it (every connection closed, new ones refused) or holds it (the
broker's answers to a client that has started publishing are kept back: the messages reach
the broker, its confirms never reach the relay)."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

PROTOCOL_HEADER = 8  # b"AMQP\x00\x00\x09\x01", sent once by the client before any frame
FRAME_HEADER = 7  # type (1), channel (2), payload size (4); the payload and 0xCE follow
METHOD_FRAME = 1
BASIC_PUBLISH = (60).to_bytes(2, "big") + (40).to_bytes(2, "big")  # class 60, method 40


class _PublishWatch:
    """Reads the client's AMQP frames as they pass: whether a Basic.Publish has gone by."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._header_seen = False

    def publishes(self, data: bytes) -> bool:
        self._buffer += data
        if not self._header_seen:
            if len(self._buffer) < PROTOCOL_HEADER:
                return False
            del self._buffer[:PROTOCOL_HEADER]
            self._header_seen = True
        found = False
        while len(self._buffer) >= FRAME_HEADER:
            size = int.from_bytes(self._buffer[3:7], "big")
            end = FRAME_HEADER + size + 1
            if len(self._buffer) < end:
                break
            frame_type = self._buffer[0]
            payload = bytes(self._buffer[FRAME_HEADER : FRAME_HEADER + 4])
            if frame_type == METHOD_FRAME and payload == BASIC_PUBLISH:
                found = True
            del self._buffer[:end]
        return found


class _Link:
    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.writers = (client, upstream)
        self.watch = _PublishWatch()
        self.answers_flow = asyncio.Event()
        self.answers_flow.set()

    def abort(self) -> None:
        for writer in self.writers:
            writer.transport.abort()


class TcpProxy:
    """Listens on a free local port and forwards each connection to `target` (an amqp:// URL)."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._target = parts
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 5672
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.is_cut = False
        self.hold_on_publish = False
        self.connections = 0  # accepted and forwarded, over the proxy's life

    async def start(self) -> str:
        """Start listening; the broker URL that goes through the proxy."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        credentials = self._target.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
        return urlunsplit(self._target._replace(netloc=netloc))

    def cut(self) -> None:
        """Close every connection now and refuse new ones until `restore`."""
        self.is_cut = True
        for link in list(self._links):
            link.abort()

    def restore(self) -> None:
        self.is_cut = False

    @property
    def is_holding(self) -> bool:
        return any(not link.answers_flow.is_set() for link in self._links)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self._host, self._port)
        except OSError:
            writer.transport.abort()
            return
        link = _Link(writer, upstream_writer)
        self._links.add(link)
        self.connections += 1
        pumps = [
            asyncio.create_task(self._to_broker(link, reader, upstream_writer)),
            asyncio.create_task(self._to_client(link, upstream_reader, writer)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            link.abort()
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            self._tasks.difference_update(pumps)
            self._links.discard(link)

    async def _to_broker(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                publishes = link.watch.publishes(data)
                if publishes and self.hold_on_publish:
                    # Before the publish goes on: its confirm cannot slip through.
                    link.answers_flow.clear()
                writer.write(data)
                await writer.drain()

    async def _to_client(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                await link.answers_flow.wait()
                writer.write(data)
                await writer.drain()
