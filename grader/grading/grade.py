"""The grading pipeline: spec -> inputs -> sandbox run -> compare -> diagnose -> report."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.catalog.bundle import parse_python
from grader.catalog.exercises import Exercise
from grader.catalog.spec import ExerciseSpec
from grader.errors import GraderError
from grader.grading.compare import Verdict, compare, describe_error, time_limit
from grader.grading.drawings import Drawings
from grader.grading.inputs import Arguments, case_arguments, new_seed
from grader.grading.messages import Msg, say
from grader.grading.oracle import Oracle, oracle_for
from grader.grading.report import CaseReport, Finding, Report
from grader.grading.tally import Tally
from grader.sandbox.account import Stage, stage
from grader.sandbox.base import (
    SUBMISSION_FILE,
    CaseInput,
    CaseRun,
    Cause,
    Inputs,
    Job,
    LearnerError,
    RunLimits,
    Runner,
    redact,
)

WITHHELD = say(Msg.WITHHELD)
# What the parser says of a learner's source (from Python 3.12, a SyntaxWarning for each invalid
# escape sequence) is the learner's, not the grader's to log: once per submission, with text
# the learner chose. The learner reads it on the run's stderr, from the child's own compile.
warnings.filterwarnings("ignore", module=re.escape(SUBMISSION_FILE.removesuffix(".py")) + r"\Z")


def syntax_finding(source: str) -> Finding | None:
    """Parse (never run) the source in the grader: a syntax error needs no sandbox."""
    try:
        parse_python(source, SUBMISSION_FILE)
    except SyntaxError as error:
        line = error.lineno or 0
        message = say(Msg.SYNTAX_ERROR, msg=error.msg)
        if line:
            message = say(Msg.SYNTAX_ERROR_LINE, msg=error.msg, line=line)
            text = (error.text or "").rstrip("\n")
            if text:
                caret = " " * max((error.offset or 1) - 1, 0) + "^"
                message += f"\n    {text}\n    {caret}"
        return Finding(code="syntax_error", message=message)
    except (ValueError, RecursionError, MemoryError) as error:
        return Finding(code="syntax_error", message=say(Msg.UNPARSABLE, error=error))
    return None


def job_for(spec: ExerciseSpec, source: str, cases: list[CaseInput],
            expected: Iterable[np.ndarray]) -> Job:
    """The sandbox's job for ``cases`` of ``spec``: its limits, and room for outputs of up to
    16 times the largest expected one."""
    return Job(source, spec.entry_point, cases, _run_limits(spec), _most_elements(expected))


def _run_limits(spec: ExerciseSpec) -> RunLimits:
    limits = spec.limits
    return RunLimits(limits.case_seconds, limits.submission_seconds, limits.memory_mb,
                     scratch_bytes=limits.scratch_kb * 1024, scratch_files=limits.scratch_files)


def _most_elements(expected: Iterable[np.ndarray]) -> int:
    return max(16 * max(e.size for e in expected), 1 << 16)


class _Made:
    """A grading's inputs and expected outputs, made once, when first asked for: by the
    runner once its child has the source, for an oracle that runs in this process (the child
    loads the source meanwhile), or before the run."""

    def __init__(self, spec: ExerciseSpec, oracle: Oracle, seed: int, secret: bytes) -> None:
        self.spec, self.oracle, self.seed, self.secret = spec, oracle, seed, secret
        self._made: tuple[list[Arguments], list[np.ndarray]] | None = None
        self.order = _visible_first(spec)  # the cases in the order they are run
        # a case's verdict, found while the child computed a later case, and the run it is of
        self.verdicts: dict[int, tuple[CaseRun, Verdict]] = {}

    def __call__(self) -> tuple[list[Arguments], list[np.ndarray]]:
        if self._made is None:
            with stage(Stage.INPUTS):
                arguments = case_arguments(self.spec, self.seed, self.secret)
                self._made = arguments, self.oracle.expected(self.seed, arguments)
        return self._made

    def job(self, source: str, first: Callable[[], None]) -> Job:
        """The sandbox's job: every visible case before any hidden one, so that no visible
        case runs in a process that has seen a hidden input. ``first`` runs before the
        inputs are made (and may stop the run by raising)."""
        spec = self.spec

        def inputs() -> Inputs:
            first()
            arguments, expected = self()
            return Inputs([CaseInput(arguments[i], hidden=not spec.cases[i].visible)
                           for i in self.order], _most_elements(expected))

        job = Job(source, spec.entry_point, None, _run_limits(spec), later=inputs,
                  answered=self.answered)
        if not self.oracle.in_process:
            job.inputs  # noqa: B018 - made now: the oracle's own runs go before the job's
        return job

    def answered(self, position: int, run: CaseRun) -> None:
        """The verdict of the case run at ``position``, while the child computes another."""
        index = self.order[position]
        case, spec = self.spec.cases[index], self.spec
        with stage(Stage.COMPARE):
            self.verdicts[index] = (run, compare(run, self()[1][index], spec.compare,
                                                 case.visible, spec.entry_point))


def _visible_first(spec: ExerciseSpec) -> list[int]:
    """The order in which cases are run: every visible case before any hidden one, so that no
    visible case runs in a process that has seen a hidden input."""
    return sorted(range(len(spec.cases)), key=lambda i: not spec.cases[i].visible)


def grade(
    exercise: Exercise, source: str, runner: Runner, seed: int | None = None, *,
    hidden_secret: bytes, oracle: Oracle | None = None, drawings: Drawings | None = None,
) -> Report:
    """Grade ``source``. Inputs come from ``seed`` (drawn when None) and, for hidden cases,
    ``hidden_secret`` too. A hidden case reports its status, points and the spec's shapes,
    nothing else, and gives no finding of its own. Expected and mistake outputs come from
    ``oracle`` (default: the exercise's, ``oracle_for``: a pushed exercise's functions run in
    the sandbox on these inputs); nothing is read or written but the sandbox's runs.
    ``drawings``, if given, is filled with the visible cases' arrays, for the report page."""
    started = time.perf_counter()
    spec = exercise.spec
    with stage(Stage.INPUTS):
        oracle = oracle or oracle_for(exercise, runner, hidden_secret)
        seed = new_seed() if seed is None else seed
    made = _Made(spec, oracle, seed, hidden_secret)
    ran = _run(spec, source, runner, made)
    arguments, expected = made()
    with stage(Stage.COMPARE):
        tally = Tally(spec, lambda index, args: dict(oracle.mistakes(seed, index, args)),
                      lambda index, args: list(oracle.transformed(seed, index, args)))
        cases = [_case_report(spec, index, args, want, run, tally, made.verdicts.get(index))
                 for index, (args, want, run) in enumerate(
                     zip(arguments, expected, ran.runs, strict=True))]
        concluded = tally.conclude(cases, ran.load_error, source)
        cases = concluded.reports
    if drawings is not None:
        for index, case in enumerate(spec.cases):
            if case.visible:  # a hidden case's arrays are never kept
                run = ran.runs[index]
                drawings.keep(case.name, expected[index], run.array,
                              run.error or ran.load_error)
    with stage(Stage.REPORT):
        return Report(
            exercise_id=spec.id,
            passed=all(c.passed for c in cases),
            score=sum(c.points for c in cases),
            max_score=spec.max_score,
            seed=seed,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            cases=cases,
            diagnosis=ran.findings + concluded.findings,
            explanation=concluded.explanation,
            stdout=ran.stdout,
            stderr=ran.stderr,
        )


@dataclass
class _Ran:
    """The sandbox's run of a submission, in the spec's order of cases, and what its loading
    said."""

    runs: list[CaseRun]
    findings: list[Finding] = field(default_factory=list)
    load_error: LearnerError | None = None
    stdout: str = ""
    stderr: str = ""


def _syntax_error(spec: ExerciseSpec, finding: Finding) -> _Ran:
    return _Ran([CaseRun(kind="error", cause=Cause.SYNTAX_ERROR) for _ in spec.cases], [finding])


class _Unparsable(GraderError):
    """The source does not parse: the run stops before any case (its child is ended)."""

    def __init__(self, finding: Finding) -> None:
        self.finding = finding


def _check_syntax(source: str) -> None:
    with stage(Stage.INPUTS):
        syntax = syntax_finding(source)
    if syntax is not None:
        raise _Unparsable(syntax)


def _run(spec: ExerciseSpec, source: str, runner: Runner, made: _Made) -> _Ran:
    """Run the source on the cases. The source is parsed here too, usually while a child
    loads it: a syntax error needs no sandbox, and gets the grader's own finding, even when
    the runner fails before it asks for the cases."""
    job: Job | None = None
    try:
        job = made.job(source, lambda: _check_syntax(source))
        result = runner.run(job)
    except _Unparsable as unparsable:
        return _syntax_error(spec, unparsable.finding)
    except Exception:
        syntax = None if job is None or job.inputs_made else syntax_finding(source)
        if syntax is None:
            raise
        return _syntax_error(spec, syntax)
    by_case = dict(zip(made.order, result.cases, strict=True))
    ran = _Ran([by_case[i] for i in range(len(spec.cases))],
               stdout=redact(result.stdout), stderr=redact(result.stderr))
    if result.output_withheld:
        ran.stdout = f"{ran.stdout}\n{WITHHELD}" if ran.stdout else WITHHELD
    ran.load_error = result.load_error
    if result.load_error is not None:
        ran.findings.append(Finding(
            code="load_error",
            message=say(Msg.LOAD_ERROR, error=describe_error(result.load_error)),
        ))
    if result.kept_running:
        ran.findings.append(Finding(code="kept_running", message=say(Msg.KEPT_RUNNING),
                                    severity="warning"))
    if result.missing_entry is not None:
        found = ", ".join(result.missing_entry) or say(Msg.NONE_FOUND)
        ran.findings.append(Finding(
            code="missing_entry_point",
            message=say(Msg.MISSING_ENTRY, entry=spec.entry_point, found=found),
        ))
    return ran


def _case_report(spec: ExerciseSpec, index: int, args: Arguments, want: np.ndarray,
                 run: CaseRun, tally: Tally,
                 early: tuple[CaseRun, Verdict] | None = None) -> CaseReport:
    case = spec.cases[index]
    verdict = early[1] if early is not None and early[0] is run \
        else compare(run, want, spec.compare, case.visible, spec.entry_point)
    passed = verdict.status == "passed"
    shared: dict[str, Any] = {
        "name": case.name, "passed": passed, "status": verdict.status,
        "points": case.points if passed else 0.0, "max_points": case.points,
        "input_shape": list(args[0].shape), "expected_shape": list(want.shape)}
    tally.add(index, args, want, run, passed)
    if not case.visible:
        # Only what the spec and the status say: the rest of the run is the learner's.
        return CaseReport(**shared, message=verdict.message, visible=False)
    return CaseReport(**shared, message=verdict.message, visible=True,
                      output_shape=verdict.output_shape, max_abs_error=verdict.max_abs_error,
                      duration_ms=round(run.seconds * 1000, 3),
                      limit=time_limit(run))
