"""Prometheus metrics of the service: HTTP requests, task durations and tasks by status.

Each app has its own registry, so several apps in one process (tests) never collide.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["Metrics"]

logger = logging.getLogger(__name__)

PREFIX = "reasoning_action"
# Task durations span a one-second image to a twenty-segment workflow of an hour or more.
TASK_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, float("inf"))


class _TaskStatusCollector(Collector):
    """Reads the number of tasks in each status from the database at scrape time."""

    def __init__(self, count_by_status: Callable[[], dict[str, int]]) -> None:
        self._count_by_status = count_by_status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(f"{PREFIX}_tasks", "Tasks in the database by status.", labels=["status"])
        try:
            counts = self._count_by_status()
        except Exception:  # A scrape must not fail because the database is briefly unavailable.
            logger.exception("Could not count tasks by status for /metrics")
            counts = {}
        for status, count in sorted(counts.items()):
            family.add_metric([status], count)
        yield family


class Metrics:
    """The metrics one app exports at `/metrics`."""

    def __init__(self, count_by_status: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "HTTP request handling time by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.tasks_created = Counter(
            f"{PREFIX}_tasks_created", "Tasks created, by type.", ["type"], registry=self.registry
        )
        self.task_duration = Histogram(
            f"{PREFIX}_task_duration_seconds",
            "Time from a task's start to its end, by type and final status.",
            ["type", "status"],
            buckets=TASK_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            f"{PREFIX}_rate_limited_requests", "Task creations rejected by the rate limit.", registry=self.registry
        )
        self.registry.register(_TaskStatusCollector(count_by_status))
