"""The CPU time of one grading, stage by stage: figures for the benchmark and the metrics,
never an input to a verdict.

The grader's own stages are measured with the CPU clock of the thread that does them
(``time.thread_time``). A stage nested in another on the same thread is charged to the inner
one only, so that stages never count the same CPU twice. A sandbox child's stages come from the
CPU time the kernel counts for it (its ``/proc/<pid>/schedstat``, read by the grader), the
zygote's fork from the zygote (the grader's own code, before any learner code), and a child's
end from the zygote's ``wait4``. Two splits inside the child (confinement against warm-up, the
learner's call against the harness around it) are the child's own word: shown, never trusted.

An account follows one grading from thread to thread: it lives in a context variable, which
the code that hands work to another thread passes along (``using``).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from enum import StrEnum


class Stage(StrEnum):
    """Every stage a grading's CPU time is charged to; the metrics' label values."""

    REQUEST = "request"  # HTTP parsing, routing, validation of the body
    ADMISSION = "admission"  # admission and the database insert
    HANDOFF = "handoff"  # to a grading thread, a place in the fast lane, a ready child
    FORK = "fork"  # the zygote's fork and the grader's side of starting a child
    CONFINE = "confine"  # the child until confined: copy-on-write, rlimits, uid, Landlock, seccomp
    WARM_UP = "warm_up"  # the child's warm-up, before it greets
    INPUTS = "inputs"  # syntax check, the cases' inputs and the reference's outputs
    LOAD = "load"  # the child's import of the learner's source
    LEARNER = "learner"  # the learner's own calls, per case
    CHILD_FRAMES = "child_frames"  # the child's decoding of inputs and encoding of answers
    FRAMES = "frames"  # the grader's side of the exchange: frames, pipes, checks of each answer
    EXIT = "exit"  # the child's end, after its last answer: killed, torn down, reaped
    COMPARE = "compare"  # comparison and diagnosis
    REPORT = "report"  # the report built and serialised
    UPDATE = "update"  # the database update
    GRADING_OTHER = "grading_other"  # the rest of the grading thread's work
    RESPONSE = "response"  # the answer built and sent


class Account:
    """CPU seconds per stage, for one grading."""

    def __init__(self) -> None:
        self.seconds: dict[Stage, float] = {}
        self._lock = threading.Lock()
        self.span: Span | None = None  # the event loop's stage in progress (``pause``)

    def add(self, stage: Stage, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


_current: contextvars.ContextVar[Account | None] = contextvars.ContextVar(
    "grader_cpu_account", default=None)
_thread = threading.local()  # CPU time charged to nested stages on this thread, so far


def current() -> Account | None:
    return _current.get()


class _Using:
    """``using``'s block (a class, not a generator: it is entered a few times per grading)."""

    def __init__(self, account: Account | None) -> None:
        self.account = account
        self.token: contextvars.Token[Account | None] | None = None

    def __enter__(self) -> None:
        self.token = _current.set(self.account)

    def __exit__(self, *_: object) -> None:
        assert self.token is not None
        _current.reset(self.token)


def using(account: Account | None) -> _Using:
    """Charge what this thread measures to ``account`` (None: to nothing) until the end of
    the ``with`` block."""
    return _Using(account)


class Span:
    """One stage's CPU time on this thread, from ``start`` to ``stop``, less what nested
    stages took meanwhile. It must not span an ``await``: the event loop's thread runs other
    requests' code there."""

    def __init__(self, stage: Stage, account: Account | None = None) -> None:
        self.stage = stage
        self.account = account or current()
        self.started = 0.0
        self.inner = 0.0

    def start(self) -> Span:
        if self.account is not None:
            self.started = time.thread_time()
            self.inner = getattr(_thread, "charged", 0.0)
        return self

    def stop(self) -> None:
        if self.account is None:
            return
        gross = time.thread_time() - self.started
        inner = getattr(_thread, "charged", 0.0) - self.inner
        self.account.add(self.stage, gross - inner)
        _thread.charged = self.inner + gross

    def __enter__(self) -> Span:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def stage(name: Stage) -> Span:
    """Charge the CPU time of the ``with`` block, on this thread, to ``name`` of the current
    account."""
    return Span(name)


def resume(name: Stage) -> None:
    """The request's code on the event loop's thread goes on after an ``await``: its CPU time
    is ``name``'s until the next ``pause``."""
    account = current()
    if account is not None:
        account.span = Span(name, account).start()


def pause() -> None:
    """The request's code on the event loop's thread is about to ``await``: what runs there
    meanwhile is other requests'."""
    account = current()
    if account is not None and account.span is not None:
        account.span.stop()
        account.span = None


def observed(account: Account, report: Callable[[Stage, float], None]) -> None:
    """Hand each stage's figure to ``report`` (the metrics)."""
    for name, seconds in account.seconds.items():
        report(name, seconds)


def charge_child(account: Account, start: dict[Stage, float], ready: float | None,
                 last: float | None, claimed: float) -> None:
    """A child's CPU time for loading the source and for the cases (its readings at its start,
    once loaded and at its last answer), to ``account``. The split of the cases' time between
    the learner's calls (``claimed``, the child's own timing) and the harness around them is
    the child's word: shown, never trusted (it never reaches a verdict)."""
    if ready is None or last is None:
        return
    # a difference of two clocks' readings (the child's own for its confinement): never below
    # zero, and near it for a small source
    account.add(Stage.LOAD, max(ready - start.get(Stage.CONFINE, 0.0)
                                - start.get(Stage.WARM_UP, 0.0), 0.0))
    learner = min(max(claimed, 0.0), last - ready)
    account.add(Stage.LEARNER, learner)
    account.add(Stage.CHILD_FRAMES, last - ready - learner)
