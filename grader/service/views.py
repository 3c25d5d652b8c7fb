"""A stored submission as a platform reads it: the one serialisation of the submission
resource, given by ``GET /v1/submissions/{id}`` and sent as a callback's body."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from grader.grading.report import Report
from grader.pages.links import ReportLinks
from grader.storage.status import SubmissionStatus
from grader.storage.tables import Submission


class CallbackAttemptView(BaseModel):
    attempt: int
    at: AwareDatetime
    status_code: int | None
    error: str | None
    delivered: bool


class PassbackView(BaseModel):
    """The grade passback of a submission made through an LTI launch (its newest round)."""

    status: Literal["pending", "delivered", "failed"]
    attempts: int
    error: str | None = Field(default=None, description="Why the last attempt failed")


class SubmissionView(BaseModel):
    """A stored submission as a platform sees it: its status, and the report once graded."""

    id: str
    exercise_id: str
    exercise_version: int = Field(
        default=0, description="The exercise's published version it is graded against "
        "(0: the built-in spec)")
    learner_id: str | None
    status: SubmissionStatus
    created_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    report: Report | None = None
    error: str | None = Field(default=None, description="Why grading failed, when it did")
    callback_attempts: list[CallbackAttemptView] | None = Field(
        default=None, description="Deliveries of the report to callback_url, when one was given")
    report_url: str | None = Field(
        default=None, description="The report as an HTML page, by a signed link that expires: "
        "relative to this server's root, needs no token (e.g. for an iframe)")
    passback: PassbackView | None = Field(
        default=None, description="The score sent to an LMS's gradebook, for a submission "
        "made through an LTI launch")


def submission_view(row: Submission, status: SubmissionStatus | None = None,
                    links: ReportLinks | None = None, with_report: bool = True
                    ) -> SubmissionView:
    return SubmissionView(
        id=row.id, exercise_id=row.exercise_id, exercise_version=row.exercise_version,
        learner_id=row.learner_id, status=status or row.status,
        created_at=row.created_at, finished_at=row.finished_at, metadata=row.metadata_,
        report=Report.model_validate_json(row.report) if row.report and with_report else None,
        error=row.error if row.status == SubmissionStatus.FAILED else None,
        report_url=links.url(row.id) if links is not None else None,
    )


# The report's place in a serialised view without one. Nothing after the report (the error,
# callback attempts, the link) has a "report" key, and a quote inside a JSON string is escaped,
# so its last occurrence is the view's own field.
_NO_REPORT = '"report":null,"error":'


def spliced(row: Submission, links: ReportLinks | None) -> str:
    """The graded submission's view as JSON, with its report as it was serialised when it was
    graded (by ``Report.model_dump_json``), instead of parsed and serialised again: the same
    bytes as ``submission_view(row, links=links).model_dump_json()``, for less work."""
    shell = submission_view(row, links=links, with_report=False).model_dump_json()
    at = shell.rfind(_NO_REPORT)
    if not row.report or at < 0:
        return submission_view(row, links=links).model_dump_json()
    return shell[:at] + '"report":' + row.report + shell[at + len('"report":null'):]
