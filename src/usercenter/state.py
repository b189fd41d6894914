"""What one running app holds: settings, database, cache, broker, allocators, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from usercenter.config import Settings
from usercenter.db import Database
from usercenter.ids.service import IdService
from usercenter.kit.broker import BrokerLink
from usercenter.kit.cache import Cache
from usercenter.metrics import Metrics


@dataclass(slots=True)
class AppState:
    settings: Settings
    database: Database
    cache: Cache
    broker: BrokerLink | None
    ids: IdService
    metrics: Metrics

    @staticmethod
    def of(connection: HTTPConnection) -> AppState:
        state: AppState = connection.app.state.usercenter
        return state
