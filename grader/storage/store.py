"""Storage: submissions, published exercise versions and callback attempts, with
SQLAlchemy 2, in one ``Store``.

SQLite (a file, in WAL mode) by default, PostgreSQL through a URL. The schema is created and
upgraded by the Alembic migrations in ``grader/storage/migrations``. Each group of tables
has its module, and its part of ``Store`` there:

- ``database``: the engine, its connections and the schema (``Database``);
- ``tables`` and ``rows``: the rows as mapped, and the named rows handed back;
- ``status``: a submission's ``SubmissionStatus``;
- ``submissions``, ``versions``, ``callbacks``: the rows of each (``SubmissionRows``...);
- ``queue``: the job queue's tables and the counters of events (``QueueRows``);
- ``lti``: LTI 1.3 platforms, keys, nonces and grade passbacks (``LtiRows``).
- ``findings``, ``summary``, ``listing``: what a grading found, counted and listed for the
  instructor's view (``SummaryRows``, ``ListingRows``).
"""

from __future__ import annotations

from grader.storage.callbacks import CallbackRows
from grader.storage.database import (
    Database,
    OldSchema,
    make_engine,
    schema_problem,
    suspect,
    upgrade,
)
from grader.storage.listing import ListingRows
from grader.storage.lti import LtiRows
from grader.storage.queue import QueueRows
from grader.storage.rows import (
    Admission,
    NewestRow,
    NewestSpec,
    Orphan,
    Page,
    Regraded,
    SpecRow,
    Stored,
    VersionRow,
)
from grader.storage.status import SubmissionStatus
from grader.storage.submissions import SubmissionRows
from grader.storage.summary import SummaryRows
from grader.storage.tables import CallbackAttempt, ExerciseVersion, Submission
from grader.storage.versions import VersionRows

__all__ = [
    "Admission", "CallbackAttempt", "ExerciseVersion", "NewestRow", "NewestSpec", "OldSchema",
    "Orphan", "Page", "Regraded", "SpecRow", "Store", "Stored", "Submission",
    "SubmissionStatus", "VersionRow", "make_engine", "schema_problem", "suspect", "upgrade",
]


class Store(SubmissionRows, VersionRows, CallbackRows, QueueRows, LtiRows, SummaryRows,
            ListingRows, Database):
    """The grader's database: every group of tables' rows, on one engine."""
