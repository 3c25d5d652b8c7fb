"""The grading report: what a submission earned, case by case, and why."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal[
    "passed",
    "wrong_shape",
    "wrong_values",
    "invalid_output",
    "error",
    "timeout",
    "memory_limit",
    "crashed",
]


class Finding(BaseModel):
    """A diagnosis: a known mistake, or a problem with the submission as a whole."""

    code: str
    message: str
    cases: list[str] = Field(default_factory=list)
    severity: Literal["error", "warning", "mistake", "info"] = "error"


class TimeLimit(BaseModel):
    """The time limit that stopped a case: CPU time or the wall clock, a case's own or the
    whole submission's, and its value (the one the case's message states)."""

    kind: Literal["cpu", "wall"]
    seconds: float
    scope: Literal["case", "submission"]


class CaseReport(BaseModel):
    name: str
    passed: bool
    status: Status
    message: str
    points: float
    max_points: float
    visible: bool
    input_shape: list[int]
    expected_shape: list[int]
    output_shape: list[int] | None = None
    max_abs_error: float | None = None
    mistake: str | None = None
    duration_ms: float = 0.0
    limit: TimeLimit | None = None  # timeout: the limit that stopped it


class Report(BaseModel):
    exercise_id: str
    passed: bool
    score: float
    max_score: float
    seed: int
    duration_ms: float
    cases: list[CaseReport]
    diagnosis: list[Finding] = Field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
