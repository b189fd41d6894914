from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import pytest

from tests.notify.stubs import AliyunStub, TencentStub, serve

StubT = TypeVar("StubT")


@dataclass
class Running(Generic[StubT]):
    stub: StubT
    url: str


@pytest.fixture(scope="session")
def aliyun() -> Iterator[Running[AliyunStub]]:
    stub = AliyunStub()
    with serve(stub.app()) as url:
        yield Running(stub, url)


@pytest.fixture(scope="session")
def tencent() -> Iterator[Running[TencentStub]]:
    stub = TencentStub()
    with serve(stub.app()) as url:
        yield Running(stub, url)
