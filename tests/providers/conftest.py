"""The provider stubs, served once for the whole session, and helpers the tests share."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import TypedDict

import httpx
import pytest

from tests.conftest import log_lines
from usercenter.providers.stubs import (
    AlipayStub,
    AppleStub,
    QQStub,
    RunningStubs,
    WeChatStub,
    WeiboStub,
    serve_stubs,
)

# Stubs answer "slow" codes after this long; adapters in tests give up after TIMEOUT.
SLOW_SECONDS = 2.0
TIMEOUT = 0.4


class Timing(TypedDict):
    timeout: float
    retries: int
    backoff: float


FAST: Timing = {"timeout": TIMEOUT, "retries": 1, "backoff": 0.01}


@pytest.fixture(scope="session")
def stubs() -> Iterator[RunningStubs]:
    with serve_stubs(
        wechat=WeChatStub(slow_seconds=SLOW_SECONDS),
        qq=QQStub(slow_seconds=SLOW_SECONDS),
        weibo=WeiboStub(slow_seconds=SLOW_SECONDS),
        alipay=AlipayStub(slow_seconds=SLOW_SECONDS),
        apple=AppleStub(),
    ) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def person() -> str:
    """A person nobody else in the session uses."""
    return f"person-{secrets.token_hex(4)}"


__all__ = ["FAST", "http", "log_lines", "person", "stubs"]
