"""Prometheus metrics: requests by route, and the job queue read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tidings.db.base import utcnow
from tidings.db.session import Database
from tidings.jobs import queue


class JobQueueCollector(Collector):
    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "tidings_jobs", "Jobs not yet done, by name and status", labels=["name", "status"]
        )
        age = GaugeMetricFamily(
            "tidings_jobs_oldest_age_seconds",
            "Age of the oldest due job not yet done",
            labels=["name", "status"],
        )
        now = utcnow()
        with self.db.read() as session:
            for name, status, count, oldest in queue.queue_stats(session):
                depth.add_metric([name, status], count)
                age.add_metric([name, status], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield depth
        yield age


class Metrics:
    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tidings_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "tidings_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.registry.register(JobQueueCollector(db))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
