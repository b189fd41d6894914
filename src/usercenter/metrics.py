"""Prometheus metrics: requests by route template and status, latency, database pool."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from usercenter.db import PoolStatus

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _PoolCollector(Collector):
    def __init__(self, read: Callable[[], PoolStatus]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        status = self._read()
        for name, doc, value in (
            ("usercenter_db_pool_size", "Connections the pool keeps", status.size),
            ("usercenter_db_pool_checked_out", "Connections in use", status.checked_out),
            ("usercenter_db_pool_overflow", "Connections beyond the pool size", status.overflow),
        ):
            yield GaugeMetricFamily(name, doc, value=value)


class Metrics:
    """One registry per app, so two apps in one process (tests) do not collide."""

    def __init__(self, pool_status: Callable[[], PoolStatus]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "usercenter_http_requests_total",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "usercenter_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.code_deliveries = Counter(
            "usercenter_code_deliveries_total",
            "One-time codes handed to the SMS or mail vendor, by channel and result",
            ["channel", "result"],
            registry=self.registry,
        )
        self.registry.register(_PoolCollector(pool_status))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def code_delivered(self, channel: str, result: str) -> None:
        self.code_deliveries.labels(channel, result).inc()
