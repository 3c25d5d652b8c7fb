"""The visible cases' arrays for the report page: inputs, expected and the learner's output.

A grading keeps the visible cases' expected and learner's arrays beside its report
(``grader.grading.drawings``): ``kept_outputs`` gives them back with the inputs, drawn from the
seed again, and nothing runs. A submission graded before they were kept has none, and its page
draws them again: the seed gives a visible case's inputs, the reference the expected output, and
the learner's source runs again in the sandbox on the visible cases only (hidden inputs are never
sent, and never kept here). The learner's code may not give the same output twice (it may use
randomness or the clock): each case then says what this run's verdict is, and the page says
that the pictures come from a new run.

Given the stored report, a redraw is bounded by what its grading took: only the visible cases
that gave an output or raised then run again (a timeout, a crash, running out of memory has
nothing to draw; no run at all when every one did), within the spec's limits cut to
``REDRAW_FACTOR`` times the grading's whole time as the grader measured it (never the
child's own timings, which are its word), at least ``REDRAW_FLOOR`` and at most
``REDRAW_CEILING`` seconds. So code that was quick when graded and slow when drawn, or that
ran long when graded, holds a drawing's place for a few seconds at most, not its whole time
limit. A case that this shorter limit stops, where grading's did not, is ``cut``: the page
says so, and is not kept, so that a reload tries again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from grader.catalog.exercises import Exercise
from grader.catalog.spec import ExerciseSpec
from grader.grading.compare import compare
from grader.grading.drawings import Drawings, as_drawn
from grader.grading.grade import job_for, syntax_finding
from grader.grading.inputs import Arguments, case_arguments
from grader.grading.oracle import oracle_for
from grader.grading.report import Report, Status
from grader.sandbox.base import CaseInput, LearnerError, RunLimits, Runner

Inputs = tuple[tuple[str, np.ndarray], ...]  # a case's arguments by name, in the call's order
REDRAW_FACTOR = 4.0
REDRAW_FLOOR = 1.0  # seconds
REDRAW_CEILING = 3.0  # seconds
# The statuses of a case run again for its page: an array to draw, or an error to point at.
RUN_AGAIN = frozenset({"passed", "wrong_shape", "wrong_values", "invalid_output", "error"})


@dataclass(frozen=True)
class CaseOutputs:
    expected: np.ndarray
    got: np.ndarray | None  # None: the run gave no array (an error, a timeout, a crash)
    status: Status  # this run's verdict, to be checked against the stored one
    inputs: Inputs = ()
    error: LearnerError | None = None  # what the learner's code raised in this run
    cut: bool = False  # the page's own time limit stopped this run, where grading's did not
    too_large: bool = False  # the learner's array was too large for its grading to keep


def _named(spec: ExerciseSpec, args: Arguments) -> Inputs:
    return tuple((a.name, value) for a, value in zip(spec.arguments, args, strict=True))


def visible_inputs(spec: ExerciseSpec, seed: int, hidden_secret: bytes) -> dict[str, Inputs]:
    """Per visible case, by name, its arguments: drawn from the seed alone, or the spec's fixed
    values. No hidden case's inputs are returned."""
    arguments = case_arguments(spec, seed, hidden_secret)
    return {case.name: _named(spec, arguments[i]) for i, case in enumerate(spec.cases)
            if case.visible}


def kept_outputs(graded: Report, drawings: Drawings, inputs: Mapping[str, Inputs],
                 ) -> dict[str, CaseOutputs]:
    """Per visible case, by name: its ``inputs`` (``visible_inputs``) and the arrays its
    grading kept, with the stored status. Nothing runs. A case whose arrays were not kept
    (too large to draw) has none."""
    statuses = {case.name: case.status for case in graded.cases}
    return {name: CaseOutputs(drawing.expected, drawing.got, statuses.get(name, "error"),
                              inputs.get(name, ()), drawing.error,
                              too_large=drawing.too_large)
            for name, drawing in drawings.cases.items() if name in inputs}


def redraw_limits(limits: RunLimits, graded: Report) -> RunLimits:
    """The limits of a redraw of ``graded`` (the module's docstring): ``REDRAW_FACTOR`` times
    the grading's whole time (``Report.duration_ms``, the grader's own clock), within
    ``REDRAW_FLOOR`` and ``REDRAW_CEILING`` seconds, never past ``limits``."""
    seconds = min(max(REDRAW_FACTOR * graded.duration_ms / 1000, REDRAW_FLOOR), REDRAW_CEILING)
    total = min(limits.submission_seconds, seconds)
    return replace(limits, case_seconds=min(limits.case_seconds, total), submission_seconds=total)


def visible_outputs(exercise: Exercise, source: str, seed: int, runner: Runner, *,
                    hidden_secret: bytes, graded: Report | None = None,
                    ) -> dict[str, CaseOutputs]:
    """Per visible case, by name: its inputs, the expected output and what the learner's code
    gives now. ``graded``: the stored report; then only the visible cases that gave an
    output when graded run again, within ``redraw_limits``, and the others keep their stored
    status, with no output."""
    spec = exercise.spec
    oracle = oracle_for(exercise, runner, hidden_secret)
    arguments = case_arguments(spec, seed, hidden_secret)
    visible = [i for i, case in enumerate(spec.cases) if case.visible]
    every = oracle.expected(seed, arguments)
    expected = {i: every[i] for i in visible}
    if not visible:
        return {}
    if syntax_finding(source) is not None:
        return {spec.cases[i].name: CaseOutputs(expected[i], None, "error",
                                                _named(spec, arguments[i])) for i in visible}
    stored = {} if graded is None else {case.name: case.status for case in graded.cases}
    again = [i for i in visible if graded is None or stored.get(spec.cases[i].name) in RUN_AGAIN]
    outputs = {spec.cases[i].name: CaseOutputs(  # not run again: its stored status, no output
        expected[i], None, stored.get(spec.cases[i].name, "error"), _named(spec, arguments[i]))
        for i in visible if i not in again}
    if again:
        job = job_for(spec, source, [CaseInput(arguments[i], hidden=False) for i in again],
                      [expected[i] for i in again])
        if graded is not None:
            job.limits = redraw_limits(job.limits, graded)
        result = runner.run(job)
        for i, run in zip(again, result.cases, strict=True):
            name = spec.cases[i].name
            verdict = compare(run, expected[i], spec.compare, True)
            # (a case that timed out when graded is not run again: this limit is the page's)
            cut = graded is not None and verdict.status == "timeout"
            outputs[name] = CaseOutputs(
                expected[i], as_drawn(run.array), stored[name] if cut else verdict.status,
                _named(spec, arguments[i]), run.error or result.load_error, cut)
    return {spec.cases[i].name: outputs[spec.cases[i].name] for i in visible}
