"""Named rows: what the store hands back where a table's row is not the whole answer. They
are tuples too, so a caller may still unpack them."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from grader.storage.tables import Submission


class Stored(NamedTuple):
    """A submission as stored, and whether this call stored it (False: a retry with an
    idempotency key already used, answered with the first submission)."""

    submission: Submission
    created: bool


class Page(NamedTuple):
    """One page of submissions, and how many there are in all."""

    rows: list[Submission]
    total: int


class Admission(NamedTuple):
    """What admitting a new submission depends on, counted up to a cap: submissions of its
    token and of its learner that wait or are being graded, all of them, and the newest
    stored version of its exercise."""

    of_token: int
    of_learner: int
    backlog: int
    newest_version: int


class Regraded(NamedTuple):
    """A submission queued again by a regrade, in its new round."""

    submission_id: str
    round: int


class Orphan(NamedTuple):
    """An unfinished submission with no grading job for its round."""

    submission_id: str
    round: int
    version: int


class SpecRow(NamedTuple):
    """A stored version's spec (JSON) and, for a pushed bundle, its files (JSON: path ->
    text); None: a spec naming a built-in bundle's functions."""

    spec: str
    files: str | None


class NewestRow(NamedTuple):
    """The newest stored version of an exercise, with its spec and files."""

    exercise_id: str
    version: int
    spec: str
    files: str | None


class NewestSpec(NamedTuple):
    """The newest stored version of an exercise, with its spec."""

    exercise_id: str
    version: int
    spec: str


class Graded(NamedTuple):
    """What a finished grading found, stored beside its report in columns SQL can count:
    whether it passed, its score as a whole percentage of the maximum (rounded down), its
    passed cases as bits (bit i: case i), how long it ran, and the mistakes it made."""

    passed: bool
    score_pct: int
    cases_passed: int
    duration_ms: float
    mistakes: tuple[str, ...] = ()


class VersionRow(NamedTuple):
    """A stored version as listed: when it was published, whether it was pushed as a bundle
    (with files of its own), and the version it is a copy of, if restored."""

    version: int
    created_at: dt.datetime
    bundle: bool
    restored_from: int | None
    message: str | None = None  # what the instructor said of it when pushing
    published_by: str | None = None  # the name of the instructor token that published it
