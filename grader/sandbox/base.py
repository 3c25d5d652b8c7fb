"""The runner interface: how the grader asks for learner code to be run, and what comes back.

A runner executes learner code somewhere other than the grader's process and reports, per
case, what the code produced. It never judges: comparison is the grader's job.

    SandboxError            the runner itself failed (a grader fault, never a learner's)
     +-- SandboxUnavailable  it refuses to grade at all (a layer is missing, self-test failed)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

CaseKind = Literal["output", "invalid", "error", "timeout", "memory_limit", "crashed"]


# Where the grader is installed: never shown to learners, even in their own error messages.
_PRIVATE_PATHS = sorted(
    {str(Path(__file__).resolve().parents[2]), sys.prefix} - {sys.base_prefix}, key=len,
    reverse=True)


def add_private_path(path: Path) -> None:
    """Also redact ``path`` (the exercise and reference folders) from what learners see."""
    text = str(path.resolve())
    if text not in _PRIVATE_PATHS and text != "/":
        _PRIVATE_PATHS.append(text)
        _PRIVATE_PATHS.sort(key=len, reverse=True)


def redact(text: str) -> str:
    for path in _PRIVATE_PATHS:
        text = text.replace(path, "<grader>")
    return text


class SandboxError(Exception):
    """The sandbox could not run the submission; the grader's fault, not the learner's."""


class SandboxUnavailable(SandboxError):
    """The sandbox refuses to grade at all: a required layer is missing or its self-test
    failed. Retrying does not help; the reason says what an operator must fix."""


@dataclass(frozen=True)
class RunLimits:
    case_seconds: float
    submission_seconds: float
    memory_mb: int
    output_bytes: int = 16 * 1024
    # a private, writable file system of this many bytes and files; 0: none at all
    scratch_bytes: int = 0
    scratch_files: int = 0


@dataclass(frozen=True)
class CaseInput:
    args: tuple[np.ndarray, ...]
    hidden: bool


@dataclass(frozen=True)
class Job:
    source: str
    entry_point: str
    cases: Sequence[CaseInput]
    limits: RunLimits
    max_output_elements: int = 1 << 22


@dataclass(frozen=True)
class LearnerError:
    type: str
    message: str
    line: int | None = None
    text: str | None = None

    @classmethod
    def from_header(cls, data: Any) -> LearnerError:
        """From a child's description, which may be malformed: keep only well-typed parts."""
        if not isinstance(data, dict):
            return cls(type="Exception", message="")

        def text(key: str, default: str | None) -> str | None:
            value = data.get(key)
            return redact(value[:500]) if isinstance(value, str) else default

        line = data.get("line")
        return cls(
            type=text("type", "Exception") or "Exception",
            message=text("message", "") or "",
            line=line if type(line) is int and line > 0 else None,
            text=text("text", None),
        )


@dataclass
class CaseRun:
    kind: CaseKind
    array: np.ndarray | None = None
    output_type: str | None = None
    detail: str = ""
    error: LearnerError | None = None
    mutated: bool = False
    seconds: float = 0.0


@dataclass
class RunResult:
    cases: list[CaseRun]
    load_error: LearnerError | None = None
    missing_entry: list[str] | None = None
    stdout: str = ""
    stderr: str = ""
    output_withheld: bool = False


class Runner(Protocol):
    # why this runner refuses to grade (a missing layer, a failed self-test), or None
    refusal: str | None

    def run(self, job: Job) -> RunResult: ...

    def close(self) -> None: ...
