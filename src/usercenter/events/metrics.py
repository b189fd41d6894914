"""The relay's figures for Prometheus, read from this process's relay when scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from usercenter.events.service.relay import RelayCounts


class RelayCollector(Collector):
    """Backlog and age are measured by the process holding the lease (others report 0 and
    `usercenter_events_relay_active 0`); counts are this process's own."""

    def __init__(self, counts: RelayCounts) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        counts = self._counts
        yield GaugeMetricFamily(
            "usercenter_events_relay_active",
            "1 when this process holds the relay's lease",
            value=1 if counts.active else 0,
        )
        yield GaugeMetricFamily(
            "usercenter_events_backlog",
            "Events written and not yet published (as last measured by the active relay)",
            value=counts.backlog if counts.active else 0,
        )
        yield GaugeMetricFamily(
            "usercenter_events_oldest_unpublished_age_seconds",
            "How long the oldest unpublished event has waited",
            value=counts.oldest_age_seconds if counts.active else 0,
        )
        yield CounterMetricFamily(
            "usercenter_events_published",
            "Events this process published (confirmed by the broker, or given to the feed)",
            value=counts.published,
        )
        yield CounterMetricFamily(
            "usercenter_events_relay_failures",
            "Relay steps of this process that failed (broker or database down)",
            value=counts.failures,
        )
