"""The service as one process runs it: its parts, made from the settings, in either mode.

``assemble`` is the one place that reads the mode (``Settings.distributed``):

- embedded: this process migrates the schema, grades with ``slots`` sandbox places
  (``GradingService``);
- distributed: the schema is migrated once, by ``grader migrate`` (an old one is refused:
  ``OldSchema``), and the sandbox only proves pushed bundles and draws report pages
  (``QueueService``; ``grader worker`` processes grade).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from grader.catalog.exercises import Catalog
from grader.pages.links import ReportLinks
from grader.sandbox.base import Runner
from grader.service.admission import BusyMemory, Caps
from grader.service.callbacks import CallbackSender
from grader.service.embedded import GradingService
from grader.service.metrics import Metrics
from grader.service.publish import Publisher
from grader.service.published import Published
from grader.service.queued import QueueService
from grader.service.report_pages import DRAWING_RETRY, DRAWN_AT_ONCE, ReportPages
from grader.service.secret import hidden_secret
from grader.service.submissions import Submissions
from grader.settings import Settings
from grader.storage.store import Store

if TYPE_CHECKING:
    from grader.sandbox.forkserver import ForkServerRunner

log = logging.getLogger("grader.service.assembly")
PROOF_RETRY = 10  # seconds an instructor over its proofs is told to wait


@dataclass
class Sandbox:
    """What the sandbox said of itself at start, for readiness."""

    layers: dict[str, Any] = field(default_factory=dict)
    self_test: str = "not run (a test runner)"
    failures: list[str] = field(default_factory=list)


@dataclass
class Service:
    settings: Settings
    store: Store
    catalog: Catalog
    published: Published  # the catalog's exercises and every version stored above them
    runner: Runner
    submissions: Submissions
    publisher: Publisher
    pages: ReportPages
    links: ReportLinks
    metrics: Metrics
    callbacks: CallbackSender
    sandbox: Sandbox
    busy: BusyMemory  # a full backlog, refused again at once for a moment

    def close(self) -> None:
        self.submissions.close()
        self.callbacks.close()
        self.runner.close()
        self.store.close()


def _sandbox(settings: Settings, slots: int) -> tuple[Runner, Sandbox]:
    forkserver = runner_from_settings(settings, slots)
    failures = list(forkserver.self_test_failures)
    self_test = "passed" if forkserver.refusal is None else "failed" if failures else "not run"
    if forkserver.refusal is not None and not failures:
        failures = [forkserver.refusal]
    return forkserver, Sandbox(forkserver.layers.summary(), self_test, failures)


def assemble(settings: Settings, runner: Runner | None = None) -> Service:
    """Every part, started; ``runner``: a test's, instead of the sandbox."""
    distributed = settings.distributed
    store = Store(settings.database, migrate=not distributed)
    catalog = Catalog.from_settings(settings)
    published = Published(catalog, store)
    sandbox = Sandbox()
    if runner is None:
        runner, sandbox = _sandbox(settings, 1 if distributed else settings.slots)
    secret = hidden_secret(settings)
    links = ReportLinks(secret, settings.report_link_seconds)
    callbacks = CallbackSender.from_settings(settings, store, links)
    if not distributed:  # the workers send the distributed mode's callbacks
        callbacks.start()
    # The backlog gauge reads the submissions, made just below; read only at scrape time.
    metrics = Metrics(backlog=lambda: submissions.backlog,
                      kills=lambda: dict(getattr(runner, "kills", {})),
                      queue=store.queue_facts if distributed else None)
    submissions: Submissions
    if distributed:
        submissions = QueueService(
            published, store, settings.database, backlog=settings.backlog,
            learner_limit=settings.learner_limit, token_limit=settings.per_token,
            hidden_secret=secret)
    else:
        submissions = GradingService(
            catalog, store, runner, metrics, callbacks, settings.slots, settings.backlog,
            hidden_secret=secret, learner_limit=settings.learner_limit,
            token_limit=settings.per_token, published=published)
    proofs = Caps("proofs", settings.proof_token_limit, settings.proof_token_limit,
                  PROOF_RETRY)
    pages = Caps("report pages", settings.report_page_learner_limit,
                 settings.pages_per_token(DRAWN_AT_ONCE), DRAWING_RETRY)
    service = Service(
        settings, store, catalog, published, runner, submissions,
        Publisher(published, store, runner, hidden_secret=secret, proofs=proofs,
                  announce=distributed),
        ReportPages(published, runner, secret, pages, store.drawings),
        links, metrics, callbacks, sandbox, BusyMemory(enabled=distributed))
    _warn_if_open(settings)
    submissions.recover()
    return service


def _warn_if_open(settings: Settings) -> None:
    if not settings.platform_tokens:
        log.warning("GRADER_PLATFORM_TOKENS is empty: anyone who reaches this server may "
                    "submit and read submissions")
    if not settings.instructor_tokens:
        log.warning("GRADER_INSTRUCTOR_TOKENS is empty: instructor routes answer 403")


def runner_from_settings(settings: Settings, slots: int) -> ForkServerRunner:
    """The runner the operator's settings ask for (the server's, the worker's and the CLI's)."""
    from grader.sandbox.forkserver import ForkServerRunner

    return ForkServerRunner(slots=slots, base_uid=settings.sandbox_base_uid,
                            fast_seconds=settings.fast_lane_cpu_ms / 1000,
                            slow_slots=settings.slow_lane_slots,
                            without=tuple(settings.sandbox_without))
