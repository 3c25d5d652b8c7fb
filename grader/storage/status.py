"""A submission's status: each word said once, here, for the rows, the SQL and the API."""

from __future__ import annotations

import enum


class SubmissionStatus(enum.StrEnum):
    """Where a submission is: waiting, being graded, graded (it has a report), or given up
    on after faults of the grader's (it has an error). A regrade queues it again."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


UNFINISHED = (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING)
FINISHED = (SubmissionStatus.DONE, SubmissionStatus.FAILED)


class DeliveryState(enum.StrEnum):
    """Where a callback is: to send (now, later, or in flight), sent (a 2xx answer), given up
    after its last attempt, or left for a newer grading round's callback."""

    PENDING = "pending"
    DELIVERED = "delivered"
    GIVEN_UP = "given_up"
    SUPERSEDED = "superseded"
