"""Prometheus metrics: submissions by verdict, grading latency, sandbox kills, backlog."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector


class _Kills(Collector):
    def __init__(self, kills: Callable[[], dict[str, int]]) -> None:
        self.kills = kills

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("grader_sandbox_kills", "Sandbox children killed, by reason",
                                     labels=["reason"])
        for reason, count in sorted(self.kills().items()):
            family.add_metric([reason], count)
        yield family


class Metrics:
    def __init__(self, backlog: Callable[[], int], kills: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.submissions = Counter(
            "grader_submissions", "Graded submissions, by verdict", ["verdict"],
            registry=self.registry)
        self.latency = Histogram(
            "grader_grading_seconds", "Time to grade one submission",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry)
        backlog_gauge = Gauge("grader_backlog", "Submissions accepted and not yet graded",
                              registry=self.registry)
        backlog_gauge.set_function(lambda: float(backlog()))
        self.registry.register(_Kills(kills))

    def graded(self, verdict: str, seconds: float) -> None:
        self.submissions.labels(verdict=verdict).inc()
        self.latency.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
