"""Prometheus metrics: submissions by verdict, grading latency, sandbox kills, backlog, and
in the distributed mode the shared queue's depth, age, states, workers and recoveries.

Aggregates only: every label value comes from a closed list written here (a verdict, a kill
reason, a queue's name and state), never from a submission, a learner or a token; anything
else counts as "other". Who may read them is ``readable``'s: with ``GRADER_METRICS_TOKEN`` set,
that token (or an instructor's) as a bearer token; without it, anyone when the server has no
platform token (local use, where submitting is open too), else an instructor token only. Even
aggregates move when one submission is graded, so a server that learners reach is not
scraped anonymously.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from grader.sandbox.account import Stage
from grader.sandbox.base import KillReason
from grader.storage.jobs import CALLBACK_QUEUE, GRADING_QUEUE, MAINTENANCE_QUEUE

VERDICTS = ("passed", "failed", "grader_error")
STAGES: tuple[str, ...] = tuple(Stage)
KILL_REASONS: tuple[str, ...] = tuple(KillReason)
QUEUES = (GRADING_QUEUE, CALLBACK_QUEUE, MAINTENANCE_QUEUE)
JOB_STATES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")
OTHER = "other"


def closed(value: object, known: Sequence[str]) -> str:
    """A label value: one of ``known``, or "other"."""
    return value if isinstance(value, str) and value in known else OTHER


def readable(token: str | None, metrics_token: str | None, instructor_tokens: Sequence[str],
             open_server: bool) -> bool:
    """Whether a request with this bearer ``token`` (None: none) may read the metrics (see the
    module's docstring). Every candidate is compared, in constant time each."""
    if metrics_token is None and open_server:
        return True
    if token is None:
        return False
    found = False
    for candidate in ([metrics_token] if metrics_token else []) + list(instructor_tokens):
        found |= hmac.compare_digest(token.encode(), candidate.encode())
    return found


class _Kills(Collector):
    def __init__(self, kills: Callable[[], dict[str, int]]) -> None:
        self.kills = kills

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("grader_sandbox_kills", "Sandbox children killed, by reason",
                                     labels=["reason"])
        counts: dict[str, int] = dict.fromkeys(KILL_REASONS, 0)
        for reason, count in self.kills().items():
            key = closed(reason, KILL_REASONS)
            counts[key] = counts.get(key, 0) + int(count)
        for reason, count in counts.items():
            family.add_metric([reason], count)
        yield family


class _Queue(Collector):
    """The distributed mode's queue, read from the database at each scrape: what every
    replica and worker shares."""

    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        facts = self.read()
        jobs = GaugeMetricFamily("grader_queue_jobs", "Jobs in the queue, by queue and state",
                                 labels=["queue", "state"])
        counts: dict[tuple[str, str], int] = {}
        for (queue, state), count in facts["jobs"].items():
            key = (closed(queue, QUEUES), closed(state, JOB_STATES))
            counts[key] = counts.get(key, 0) + int(count)
        for (queue, state), count in sorted(counts.items()):
            jobs.add_metric([queue, state], count)
        yield jobs
        yield GaugeMetricFamily("grader_queue_depth", "Grading jobs waiting for a worker",
                                value=facts["depth"])
        yield GaugeMetricFamily("grader_queue_oldest_seconds",
                                "Age of the oldest grading job waiting for a worker",
                                value=facts["oldest"])
        yield GaugeMetricFamily("grader_queue_workers", "Worker processes connected to the queue",
                                value=facts["workers"])
        yield GaugeMetricFamily("grader_queue_heartbeat_age_seconds",
                                "Age of the oldest heartbeat among the workers",
                                value=facts["heartbeat_age"])
        for name, help_ in (("stalled_recovered", "Jobs of silent workers queued again"),
                            ("retries", "Grading attempts retried after a grader fault"),
                            ("fenced", "Reports of stale attempts refused")):
            yield CounterMetricFamily(f"grader_queue_{name}", help_,
                                      value=facts["counters"].get(name, 0))


class _Series:
    """A metric's series by one label, each looked up once; a value outside ``known`` is
    counted as "other" (``closed``)."""

    def __init__(self, metric: Any, label: str, known: Sequence[str]) -> None:
        self.metric, self.label, self.known = metric, label, known
        self.series: dict[str, Any] = {}

    def __call__(self, value: object) -> Any:
        key = closed(value, self.known)
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = self.metric.labels(**{self.label: key})
        return series


class Metrics:
    def __init__(self, backlog: Callable[[], int], kills: Callable[[], dict[str, int]],
                 queue: Callable[[], dict[str, Any]] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.submissions = Counter(
            "grader_submissions", "Graded submissions, by verdict", ["verdict"],
            registry=self.registry)
        self.latency = Histogram(
            "grader_grading_seconds", "Time to grade one submission",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry)
        self.stages = Histogram(
            "grader_stage_cpu_seconds", "CPU time of one grading in one stage, every process "
            "counted (the grader's threads, the zygote, the sandbox child)", ["stage"],
            buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1,
                     1),
            registry=self.registry)
        self.child_faults = Histogram(
            "grader_sandbox_child_page_faults", "Page faults of one sandbox child over its "
            "whole life (copies of pages shared with the zygote, first touches), once reaped",
            buckets=(250, 500, 750, 1000, 2500, 10_000, 100_000, 1_000_000),
            registry=self.registry)
        # each stage's and verdict's series, looked up once (a grading reports some fifteen
        # figures), when first observed: a label never seen has no series yet
        self._stage_series = _Series(self.stages, "stage", STAGES)
        self._verdict_series = _Series(self.submissions, "verdict", VERDICTS)
        backlog_gauge = Gauge("grader_backlog", "Submissions accepted and not yet graded",
                              registry=self.registry)
        backlog_gauge.set_function(lambda: float(backlog()))
        self.registry.register(_Kills(kills))
        if queue is not None:
            self.registry.register(_Queue(queue))

    def stage_cpu(self, stage: str, seconds: float) -> None:
        """One grading's CPU seconds in one stage (``grader.sandbox.account``)."""
        self._stage_series(stage).observe(seconds)

    def child_reaped(self, faults: int) -> None:
        """A sandbox child's page faults, once it is reaped."""
        self.child_faults.observe(faults)

    def graded(self, verdict: str, seconds: float) -> None:
        self._verdict_series(verdict).inc()
        self.latency.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
