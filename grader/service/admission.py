"""Admission: what work is taken now, and what is refused with when to come back.

Three limits on new submissions, the same in both modes: the backlog (everything waiting or
being graded: past it, ``Busy``, 503), one learner's share and one platform token's share
(``OverLimit``, 429). ``Retry-After`` comes from the rate at which the backlog drained lately.
A backlog counted in the database, once full, is taken as full for a moment (``BusyMemory``).
Apart from them, ``Caps`` bounds work that a request starts and waits for (a report page drawn
again, a pushed bundle proven): so many at once per learner and per token, 429 past it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from grader.errors import OverLimit, Unavailable

DRAIN_SAMPLE = 256  # how many recent departures from the backlog give its drain rate
DRAIN_WINDOW = 30.0  # seconds: older departures do not count
MAX_RETRY_AFTER = 600
OVER_LIMIT_RETRY = 5  # seconds a learner or token over its share is told to wait
REFUSED_RETRY = 60  # seconds: a sandbox that refuses is not mended sooner
BUSY_MEMORY = 1.0  # seconds a full backlog counted in the database is taken as still full


class Busy(Unavailable):
    """The backlog is full."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the grader is busy; retry after {retry_after} s", retry_after)


class Refused(Unavailable):
    """The sandbox refuses to grade (a layer is missing): nothing is taken."""

    def __init__(self, refusal: str) -> None:
        super().__init__(f"grading is refused: {refusal}", REFUSED_RETRY)


def learner_over(count: int) -> OverLimit:
    return OverLimit(f"this learner has {count} submissions waiting or being graded, the most "
                     "allowed; send this one when one is graded", OVER_LIMIT_RETRY)


def token_over(count: int) -> OverLimit:
    return OverLimit(f"this platform token has {count} submissions waiting or being graded, "
                     "the most allowed", OVER_LIMIT_RETRY)


def retry_after(waiting: int, limit: int, rate: float | None) -> int:
    """Seconds until a backlog of ``waiting`` has drained below ``limit`` at ``rate`` a second
    (None, not measured yet: a guess of 10 a second)."""
    return max(1, min(MAX_RETRY_AFTER, math.ceil((waiting - limit + 1) / (rate or 10.0))))


def drain_rate(left: int, span: float) -> float | None:
    """The rate a backlog drained at, from ``left`` departures over the last ``span`` seconds
    (at most ``DRAIN_WINDOW``): None while there is too little to tell (fewer than two,
    over less than the whole window). Fewer than two over the whole window is a stalled
    backlog (loops holding every place until their limits): one in the window, at most."""
    if left >= 2:
        return left / max(span, 1e-3)
    return 1 / DRAIN_WINDOW if span >= DRAIN_WINDOW else None


@dataclass(frozen=True)
class Limits:
    backlog: int
    learner: int
    token: int


@dataclass(frozen=True)
class Counts:
    """New submissions waiting or being graded: in all, of this token, of this learner."""

    queued: int
    of_token: int
    of_learner: int


def admit(counts: Counts, limits: Limits, busy_for: Callable[[int], int]) -> None:
    """Refuse a new submission that would pass a limit: the backlog first (``Busy``, for
    ``busy_for(queued)`` seconds), then the learner's share, then the token's (``OverLimit``)."""
    if counts.queued >= limits.backlog:
        raise Busy(retry_after=busy_for(counts.queued))
    if counts.of_learner >= limits.learner:
        raise learner_over(counts.of_learner)
    if counts.of_token >= limits.token:
        raise token_over(counts.of_token)


class Drain:
    """When recent submissions left the backlog: the rate behind ``Retry-After``. Not locked:
    its owner calls it under its own lock."""

    def __init__(self) -> None:
        self.departures: deque[float] = deque(maxlen=DRAIN_SAMPLE)
        self.since = time.monotonic()  # when it started counting

    def left(self) -> None:
        self.departures.append(time.monotonic())

    def retry_after(self, waiting: int, limit: int) -> int:
        now = time.monotonic()
        recent = [t for t in self.departures if now - t <= DRAIN_WINDOW]
        # the window looked at: the whole of it (as long as it has looked), or since the
        # oldest departure kept when the sample holds no more (a fast drain)
        span = min(now - self.since, DRAIN_WINDOW)
        if len(recent) == self.departures.maxlen:
            span = now - recent[0]
        elif recent:
            span = max(span, now - recent[0])
        return retry_after(waiting, limit, drain_rate(len(recent), span))


class Shares:
    """Work under way per token and per learner of a token, by the id of each piece. Not
    locked: its owner calls it under its own lock."""

    def __init__(self) -> None:
        self._owners: dict[str, tuple[str, str | None]] = {}
        self.of_token: Counter[str] = Counter()
        self.of_learner: Counter[tuple[str, str]] = Counter()

    def count(self, scope: str, learner_id: str | None) -> tuple[int, int]:
        """(of the token, of the learner); a learner-less piece's learner count is 0."""
        learner = 0 if learner_id is None else self.of_learner[(scope, learner_id)]
        return self.of_token[scope], learner

    def take(self, key: str, scope: str, learner_id: str | None) -> None:
        self._owners[key] = (scope, learner_id)
        self.of_token[scope] += 1
        if learner_id is not None:
            self.of_learner[(scope, learner_id)] += 1

    def give_back(self, key: str) -> None:
        """The piece no longer counts; once, whatever number of calls."""
        owner = self._owners.pop(key, None)
        if owner is None:
            return
        scope, learner_id = owner
        self.of_token[scope] -= 1
        if self.of_token[scope] <= 0:
            del self.of_token[scope]
        if learner_id is not None:
            self.of_learner[(scope, learner_id)] -= 1
            if self.of_learner[(scope, learner_id)] <= 0:
                del self.of_learner[(scope, learner_id)]


class BusyMemory:
    """Where the backlog is counted in the database (the distributed mode), a full one is
    remembered for a moment, so that a burst of new submissions is refused at once, before
    any of them waits for one of the database's connections."""

    def __init__(self, enabled: bool, seconds: float = BUSY_MEMORY) -> None:
        self.enabled = enabled
        self.seconds = seconds
        self._lock = threading.Lock()
        self._until = 0.0
        self._refusal: Busy | None = None

    def check(self) -> None:
        """Raise the refusal remembered, if it is recent."""
        with self._lock:
            if self._refusal is not None and time.monotonic() < self._until:
                raise Busy(self._refusal.retry_after)

    def refused(self, error: Busy) -> None:
        if self.enabled:
            with self._lock:
                self._refusal = error
                self._until = time.monotonic() + min(self.seconds, error.retry_after)


class Caps:
    """At most ``per_learner`` pieces of one kind of work under way at once for one learner
    of a token, and ``per_token`` for one token; past either, ``OverLimit`` (429)."""

    def __init__(self, what: str, per_learner: int, per_token: int,
                 retry_after: int = OVER_LIMIT_RETRY) -> None:
        self.what = what
        self.per_learner = per_learner
        self.per_token = per_token
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._shares = Shares()
        self._next = 0

    @contextmanager
    def hold(self, scope: str, learner_id: str | None = None) -> Iterator[None]:
        """A place for one piece of work while the block runs; OverLimit if there is none."""
        with self._lock:
            of_token, of_learner = self._shares.count(scope, learner_id)
            if learner_id is not None and of_learner >= self.per_learner:
                raise OverLimit(f"this learner has {of_learner} {self.what} under way, the "
                                "most allowed at once", self.retry_after)
            if of_token >= self.per_token:
                raise OverLimit(f"this token has {of_token} {self.what} under way, the most "
                                "allowed at once", self.retry_after)
            self._next += 1
            key = str(self._next)
            self._shares.take(key, scope, learner_id)
        try:
            yield
        finally:
            with self._lock:
                self._shares.give_back(key)

    def under_way(self, scope: str) -> int:
        with self._lock:
            return self._shares.count(scope, None)[0]
