"""The grading pipeline: spec -> inputs -> sandbox run -> compare -> diagnose -> report."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.catalog.bundle import parse_python
from grader.catalog.exercises import Exercise
from grader.catalog.spec import ExerciseSpec
from grader.grading.compare import compare, describe_error, matches, precision, time_limit
from grader.grading.diagnose import CaseOutcome, diagnose, square_only
from grader.grading.inputs import Arguments, case_arguments, new_seed
from grader.grading.messages import Msg, say
from grader.grading.oracle import Oracle, oracle_for
from grader.grading.report import CaseReport, Finding, Report
from grader.sandbox.base import CaseInput, CaseRun, Cause, Job, RunLimits, Runner, redact

WITHHELD = say(Msg.WITHHELD)


def syntax_finding(source: str) -> Finding | None:
    """Parse (never run) the source in the grader: a syntax error needs no sandbox."""
    try:
        parse_python(source, "submission.py")
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
    limits = spec.limits
    return Job(
        source=source,
        entry_point=spec.entry_point,
        cases=cases,
        limits=RunLimits(limits.case_seconds, limits.submission_seconds, limits.memory_mb,
                         scratch_bytes=limits.scratch_kb * 1024,
                         scratch_files=limits.scratch_files),
        max_output_elements=max(16 * max(e.size for e in expected), 1 << 16),
    )


def _visible_first(spec: ExerciseSpec) -> list[int]:
    """The order in which cases are run: every visible case before any hidden one, so that no
    visible case runs in a process that has seen a hidden input."""
    return sorted(range(len(spec.cases)), key=lambda i: not spec.cases[i].visible)


def grade(
    exercise: Exercise, source: str, runner: Runner, seed: int | None = None, *,
    hidden_secret: bytes, oracle: Oracle | None = None,
) -> Report:
    """Grade ``source``. Inputs come from ``seed`` (drawn when None) and, for hidden cases,
    ``hidden_secret`` too. A hidden case reports its status, points and the spec's shapes,
    nothing else, and gives no finding of its own. Expected and mistake outputs come from
    ``oracle`` (default: the exercise's, ``oracle_for``: a pushed exercise's functions run in
    the sandbox on these inputs); nothing is read or written but the sandbox's runs."""
    started = time.perf_counter()
    spec = exercise.spec
    oracle = oracle or oracle_for(exercise, runner, hidden_secret)
    seed = new_seed() if seed is None else seed
    arguments = case_arguments(spec, seed, hidden_secret)
    expected = oracle.expected(seed, arguments)
    ran = _run(spec, source, runner, arguments, expected)
    tally = _Tally()
    cases = [_case_report(spec, index, args, want, run, tally, oracle, seed)
             for index, (args, want, run) in enumerate(
                 zip(arguments, expected, ran.runs, strict=True))]
    return Report(
        exercise_id=spec.id,
        passed=all(c.passed for c in cases),
        score=sum(c.points for c in cases),
        max_score=spec.max_score,
        seed=seed,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        cases=cases,
        diagnosis=ran.findings + tally.findings(spec),
        stdout=ran.stdout,
        stderr=ran.stderr,
    )


@dataclass
class _Ran:
    """The sandbox's run of a submission, in the spec's order of cases, and what its loading
    said."""

    runs: list[CaseRun]
    findings: list[Finding] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""


def _run(spec: ExerciseSpec, source: str, runner: Runner, arguments: list[Arguments],
         expected: list[np.ndarray]) -> _Ran:
    syntax = syntax_finding(source)
    if syntax is not None:
        return _Ran([CaseRun(kind="error", cause=Cause.SYNTAX_ERROR) for _ in arguments],
                    [syntax])
    order = _visible_first(spec)
    result = runner.run(job_for(
        spec, source,
        [CaseInput(arguments[i], hidden=not spec.cases[i].visible) for i in order],
        expected))
    by_case = dict(zip(order, result.cases, strict=True))
    ran = _Ran([by_case[i] for i in range(len(spec.cases))],
               stdout=redact(result.stdout), stderr=redact(result.stderr))
    if result.output_withheld:
        ran.stdout = f"{ran.stdout}\n{WITHHELD}" if ran.stdout else WITHHELD
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


@dataclass
class _Tally:
    """What the visible cases showed, gathered case by case, for the report's diagnosis."""

    mistakes: dict[str, list[str]] = field(default_factory=dict)
    structural: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # code -> ...
    outcomes: list[CaseOutcome] = field(default_factory=list)
    mutated: list[str] = field(default_factory=list)
    low_precision: dict[str, list[str]] = field(default_factory=dict)  # dtype -> cases

    def findings(self, spec: ExerciseSpec) -> list[Finding]:
        findings = [Finding(code=code, message=mistake_hint(spec, code), cases=names,
                            severity="mistake") for code, names in self.mistakes.items()]
        findings += [Finding(code=code, message=message, cases=names, severity="mistake")
                     for code, (message, names) in self.structural.items()]
        square = square_only(self.outcomes)
        if square is not None:
            findings.append(Finding(code=square.code, message=square.message,
                                    cases=[c.name for c in self.outcomes], severity="mistake"))
        if self.mutated:
            findings.append(Finding(code="modifies_input", message=say(Msg.MODIFIES_INPUT),
                                    cases=self.mutated, severity="warning"))
        findings += [precision_finding(np.dtype(name), names)
                     for name, names in self.low_precision.items()]
        return findings


def _case_report(spec: ExerciseSpec, index: int, args: Arguments, want: np.ndarray,
                 run: CaseRun, tally: _Tally, oracle: Oracle, seed: int) -> CaseReport:
    case = spec.cases[index]
    verdict = compare(run, want, spec.compare, case.visible, spec.entry_point)
    passed = verdict.status == "passed"
    shared: dict[str, Any] = {
        "name": case.name, "passed": passed, "status": verdict.status,
        "points": case.points if passed else 0.0, "max_points": case.points,
        "input_shape": list(args[0].shape), "expected_shape": list(want.shape)}
    if not case.visible:
        # Only what the spec and the status say: the rest of the run is the learner's.
        return CaseReport(**shared, message=verdict.message, visible=False)
    mistake, note = None, ""
    if not passed and run.array is not None:
        mistake, note = _explain(spec, index, args, want, run.array, tally, oracle, seed)
    tally.outcomes.append(CaseOutcome(
        case.name, tuple(args[0].shape), tuple(want.shape),
        tuple(run.array.shape) if run.array is not None else None, passed))
    if run.mutated:
        tally.mutated.append(case.name)
    if run.array is not None and passed:
        kind = precision(run.array)
        if kind.kind == "f" and kind.itemsize < 8:
            tally.low_precision.setdefault(kind.name, []).append(case.name)
    return CaseReport(**shared, message=verdict.message + note, visible=True,
                      output_shape=verdict.output_shape, max_abs_error=verdict.max_abs_error,
                      mistake=mistake, duration_ms=round(run.seconds * 1000, 3),
                      limit=time_limit(run))


def _explain(spec: ExerciseSpec, index: int, args: Arguments, want: np.ndarray,
             got: np.ndarray, tally: _Tally, oracle: Oracle,
             seed: int) -> tuple[str | None, str]:
    """A wrong visible output's mistake (a known one, else a structural one) and the note its
    case's message gets, tallied for the diagnosis."""
    name = spec.cases[index].name
    mistake = _diagnose(oracle, spec, seed, index, got, args)
    if mistake is not None:
        tally.mistakes.setdefault(mistake, []).append(name)
        return mistake, "\n" + say(Msg.MATCHES_MISTAKE, code=mistake)
    shape_of = diagnose(got, want, args, spec.compare)
    if shape_of is None:
        return None, ""
    tally.structural.setdefault(shape_of.code, (shape_of.message, []))[1].append(name)
    return shape_of.code, "\n" + shape_of.message


def precision_finding(kind: np.dtype, cases: list[str]) -> Finding:
    """That the output was computed in a float shorter than float64, and what it costs."""
    eps = float(np.finfo(kind).eps)
    digits = round(-math.log10(eps))
    message = say(Msg.FLOAT32, digits=digits, eps=eps) if kind == np.float32 \
        else say(Msg.LOW_PRECISION, dtype=kind.name, digits=digits, eps=eps)
    return Finding(code=f"computed_in_{kind.name}", message=message, cases=cases,
                   severity="info")


def mistake_hint(spec: ExerciseSpec, code: str) -> str:
    hints = {m.code: m.hint for m in spec.mistakes}
    parts = code.split("+")
    if len(parts) == 1:
        return hints[code]
    return say(Msg.COMBINED_MISTAKES, first=hints[parts[0]], second=hints[parts[1]])


def _diagnose(oracle: Oracle, spec: ExerciseSpec, seed: int, index: int, got: np.ndarray,
              args: tuple[np.ndarray, ...]) -> str | None:
    for code, candidate in oracle.mistakes(seed, index, args):
        if matches(got, candidate, spec.compare):
            return code
    return None
