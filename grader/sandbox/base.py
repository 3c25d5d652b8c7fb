"""The runner interface: how the grader asks for learner code to be run, and what comes back.

A runner executes learner code somewhere other than the grader's process and reports, per
case, what the code produced. It never judges: comparison is the grader's job.

    SandboxError            the runner itself failed (a grader fault, never a learner's)
     +-- SandboxUnavailable  it refuses to grade at all (a layer is missing, self-test failed)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from grader.sandbox.errors import SandboxError as SandboxError
from grader.sandbox.errors import SandboxUnavailable as SandboxUnavailable

CaseKind = Literal["output", "invalid", "error", "timeout", "memory_limit", "crashed"]

# The name a learner's source has wherever it is parsed or compiled: in its tracebacks, its
# syntax errors and its warnings.
SUBMISSION_FILE = "submission.py"


def source_lines(source: str) -> list[str]:
    """``source``'s lines as Python numbers them: split at \\n, \\r\\n and \\r only, not at
    the other breaks ``str.splitlines`` knows (a form feed, U+2028 in a comment), so that a
    traceback's line number names its own line."""
    return source.replace("\r\n", "\n").replace("\r", "\n").split("\n")


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


# A case may run for its time limit in CPU time, and for this many times its limit on the wall
# clock (sleeping, waiting, or on a busy machine), within the submission's own limit on the
# wall clock, whichever lane it runs in. Each is stated as such to the learner. Generous, for
# an honest case on a busy machine; the submission's limit is what bounds the answer's time.
CASE_WALL_FACTOR = 5.0


@dataclass(frozen=True)
class RunLimits:
    case_seconds: float
    submission_seconds: float
    memory_mb: int
    output_bytes: int = 16 * 1024
    # a private, writable file system of this many bytes and files; 0: none at all
    scratch_bytes: int = 0
    scratch_files: int = 0

    @property
    def case_wall_seconds(self) -> float:
        """A case's limit on the wall clock, within the submission's."""
        return min(CASE_WALL_FACTOR * self.case_seconds, self.submission_seconds)

    @property
    def process_cpu_seconds(self) -> int:
        """The child's own CPU limit (RLIMIT_CPU), for all its cases: a backstop the
        grader's clocks come before."""
        return int(self.submission_seconds) + 1


@dataclass(frozen=True)
class CaseInput:
    args: tuple[np.ndarray, ...]
    hidden: bool


class KillReason(StrEnum):
    """Why the grader killed a child: the sandbox's kill counter's labels, all of them."""

    TIMEOUT = "timeout"  # a case's or the submission's time limit
    OUTPUT_LIMIT = "output_limit"  # it wrote past its byte budget, or bytes that are no frame
    PROTOCOL = "protocol"  # a frame out of turn, or its process ended the conversation
    PARKED = "parked"  # its job waits for room in the slow lane
    LINGERING = "lingering"  # still alive when its run was over
    UNCONFINED = "unconfined"  # it reported a confinement that is not the one asked for
    KEPT_RUNNING = "kept_running"  # computing after its last answer


# Whose job it is, for the fast lane's turns: a group (a platform token) and a member of it
# (a learner of that token; "" for a job that names none).
Owner = tuple[str, str]
NOBODY: Owner = ("", "")


class Kind(StrEnum):
    """Who waits for a run, which decides how the lanes treat it (see ``lanes``)."""

    SUBMISSION = "submission"  # a learner waits for this grading: full speed, first served
    REGRADE = "regrade"  # a submission graded again (a new version of the exercise)
    REDRAW = "redraw"  # a report page runs a learner's code again, to draw its visible cases
    PROOF = "proof"  # an instructor's reference (or its mistakes) runs to prove a bundle

    @property
    def background(self) -> bool:
        """Work no learner waits on at a submit button: it takes a fast place only when no
        submission waits for one, holds it for a small budget of wall time, and its children
        run at the lowest CPU priority."""
        return self is not Kind.SUBMISSION


@dataclass(frozen=True)
class Inputs:
    """A job's cases, and the most output elements the grader reads back for one of them."""

    cases: Sequence[CaseInput]
    max_output_elements: int = 1 << 22


class Job:
    """Learner code to run on cases, with its limits.

    The cases may come late: given ``later`` instead of ``cases``, a job makes them the first
    time they are asked for, once, on the thread that asks (a job is run by one thread). A
    runner that starts a child asks only once the source is on its way, so that the child
    loads it while the grader draws the inputs and runs the reference.

    ``answered``, if given, is handed a case's answer (its index in ``cases``, and its run)
    while the child computes a later case, or after the last one, while the child is watched
    until it blocks: work on it there is off the submission's clock. A runner may hand over
    some answers, or none."""

    def __init__(self, source: str, entry_point: str, cases: Sequence[CaseInput] | None,
                 limits: RunLimits, max_output_elements: int = 1 << 22,
                 kind: Kind = Kind.SUBMISSION, *,
                 later: Callable[[], Inputs] | None = None,
                 answered: Callable[[int, CaseRun], None] | None = None) -> None:
        if (cases is None) == (later is None):
            raise ValueError("a job is given its cases or a function that makes them, "
                             "not both")
        self.source = source
        self.entry_point = entry_point
        self.limits = limits
        # a background kind makes this run background even in a submission's place
        self.kind = kind
        self._inputs = None if cases is None else Inputs(cases, max_output_elements)
        self._later = later
        self.answered = answered

    @property
    def inputs(self) -> Inputs:
        if self._inputs is None:
            assert self._later is not None
            self._inputs = self._later()
        return self._inputs

    @property
    def inputs_made(self) -> bool:
        """Whether the cases are made (asking for them would not make them now)."""
        return self._inputs is not None

    @property
    def cases(self) -> Sequence[CaseInput]:
        return self.inputs.cases

    @property
    def max_output_elements(self) -> int:
        return self.inputs.max_output_elements


# The lines of a learner's exception message that a report keeps
MESSAGE_LINES = 8


@dataclass(frozen=True)
class LearnerError:
    type: str
    message: str
    line: int | None = None
    text: str | None = None

    @classmethod
    def from_header(cls, data: Any) -> LearnerError:
        """From a child's description, which may be malformed: keep only well-typed parts,
        and of a message its first ``MESSAGE_LINES`` lines (each is repeated in every case's
        message and in the text report)."""
        if not isinstance(data, dict):
            return cls(type="Exception", message="")

        def text(key: str, default: str | None) -> str | None:
            value = data.get(key)
            return redact(value[:500]) if isinstance(value, str) else default

        line = data.get("line")
        message = text("message", "") or ""
        lines = message.split("\n")
        if len(lines) > MESSAGE_LINES:  # how many more is unknown: the child cut it short
            message = "\n".join(lines[:MESSAGE_LINES]) + "\n... (more lines not shown)"
        return cls(
            type=text("type", "Exception") or "Exception",
            message=message,
            line=line if type(line) is int and line > 0 else None,
            text=text("text", None),
        )


class Limit(StrEnum):
    """The limit that stopped a run."""

    CASE_TIME = "case_time"  # the case's wall-clock time (CASE_WALL_FACTOR x its time limit)
    CASE_CPU = "case_cpu"  # the case's CPU time (its time limit)
    TOTAL_TIME = "total_time"  # the submission's wall-clock time, all cases together
    CPU = "cpu"  # the process's CPU time (SIGXCPU), the whole submission's
    MEMORY = "memory"  # the process's memory (SIGKILL, or a MemoryError)


class Invalid(StrEnum):
    """Why an output cannot be compared; each code has the parameters in INVALID_PARAMS."""

    TYPE = "type"  # not an array or nested lists: {type}
    NOT_AN_ARRAY = "not_an_array"  # nested lists that do not form an array: {error}
    TUPLE = "tuple"  # a tuple of several things, an array among them: {count, first}
    ELEMENTS = "elements"  # an array of other things than numbers: {kind, dtype}
    TOO_LARGE = "too_large"  # more elements than allowed: {count, limit, shape}
    UNREADABLE = "unreadable"  # the result frame could not be parsed: {fault, its facts}
    UNUSABLE = "unusable"  # the child's reason was not one of these


# Parameters of each reason, with their types; codes the child may send are the keys of
# CHILD_INVALID (the parent decides UNREADABLE and UNUSABLE itself).
INVALID_PARAMS: dict[Invalid, dict[str, type]] = {
    Invalid.TYPE: {"type": str},
    Invalid.NOT_AN_ARRAY: {"error": str},
    Invalid.TUPLE: {"count": int, "first": str},
    Invalid.ELEMENTS: {"kind": str, "dtype": str},
    Invalid.TOO_LARGE: {"count": int, "limit": int, "shape": str},
    Invalid.UNREADABLE: {"fault": str},  # and the fault's own facts (frames.Fault)
    Invalid.UNUSABLE: {},
}
CHILD_INVALID = frozenset({Invalid.TYPE, Invalid.NOT_AN_ARRAY, Invalid.TUPLE, Invalid.ELEMENTS,
                           Invalid.TOO_LARGE})


class Cause(StrEnum):
    """What ended a case that gave no output, where the kind and the other facts do not say."""

    MISSING_ENTRY = "missing_entry"  # the entry point was not defined
    SYNTAX_ERROR = "syntax_error"  # the source does not parse (found by the grader)
    PROTOCOL = "protocol"  # the child wrote what is not an answer to the grader's channel
    SILENT = "silent"  # it closed its channel and went on, until the grader killed it
    NOT_RUN = "not_run"  # the total time was used up before the case started


@dataclass
class CaseRun:
    """What happened in one case, as facts; the grader chooses the words."""

    kind: CaseKind
    array: np.ndarray | None = None
    output_type: str | None = None
    error: LearnerError | None = None
    mutated: bool = False
    seconds: float = 0.0
    limit: Limit | None = None  # timeout, memory_limit: the limit that stopped it
    limit_value: float | None = None  # that limit, in seconds (time limits)
    # a wall-clock limit's: the time it did not count (the child waited for a CPU others held)
    waited: float = 0.0
    signal: int | None = None  # the signal that ended the process
    exit_status: int | None = None  # the status the process exited with, unasked
    loading: bool = False  # it happened while the module was loading
    cause: Cause | None = None
    invalid: Invalid | None = None  # invalid: why the output cannot be used
    params: dict[str, str | int] = field(default_factory=dict)  # the reason's parameters


@dataclass
class RunResult:
    cases: list[CaseRun]
    load_error: LearnerError | None = None
    missing_entry: list[str] | None = None
    stdout: str = ""
    stderr: str = ""
    output_withheld: bool = False
    # a hidden case's inputs reached a child of this run: whatever a later child (after a
    # crash, a timeout, a park) prints, or its load error, could carry them, and is withheld
    hidden_sent: bool = False
    # its answers were all in, yet it went on computing: the grader killed it there
    kept_running: bool = False


class Runner(Protocol):
    # why this runner refuses to grade (a missing layer, a failed self-test), or None
    refusal: str | None
    # submissions that may go on at the lowest priority beside the ``slots`` at full speed
    slow_slots: int

    def fast_place(self, low: bool = False, freed: Callable[[], None] | None = None,
                   kind: Kind | None = None, owner: Owner = NOBODY,
                   ) -> AbstractContextManager[None]:
        """Hold one of the places of submissions graded at full speed around a whole grading;
        the runs in it share one budget (see ``lanes``). ``kind``: what the grading is for
        (``Kind.SUBMISSION`` unless said; ``low=True`` is ``Kind.REGRADE``); a background kind
        waits until no submission waits, and runs at the lowest priority on a small budget.
        ``freed``: called when the place is given back, as the job moves to the slow lane or
        ends. ``owner``: whose grading it is (a token and its learner): they take turns at
        the places (see ``lanes.Places``)."""
        ...

    def run(self, job: Job) -> RunResult:
        """Run ``job`` in the place this thread holds, or in one of its own, taken for
        ``job.kind``. Every child it used is killed when it returns."""
        ...

    def close(self) -> None: ...
