"""What the cases showed, gathered case by case, and the diagnosis drawn from all of them.

A visible case gives its output (to explain it, or to contradict an explanation when it
passed), its crash (a removed idiom), whether it changed its inputs, and the float it was
computed in. Every case, hidden ones too, gives its status and input shapes, which the learner
sees anyway, for the checks across cases. Nothing here runs learner code: the known mistakes'
outputs come from the oracle, and the search works on arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from grader.catalog.spec import ExerciseSpec
from grader.grading.breakage import breakages
from grader.grading.compare import precision, stated_shape
from grader.grading.diagnose import (
    SHAPE,
    CaseOutcome,
    Diagnosis,
    channels_alike,
    even_sizes_only,
    fit_name,
    fixed_shape,
    odd_kernels_only,
    one_value_only,
    raises_only,
    square_only,
)
from grader.grading.explain import Case, Fit, constant, explain, fit_confidence
from grader.grading.inputs import Arguments
from grader.grading.messages import Msg, say
from grader.grading.numbers import shown
from grader.grading.parts import Part
from grader.grading.report import CaseReport, Explanation, Finding
from grader.grading.signature import argument_order
from grader.grading.wording import fit_message
from grader.sandbox.base import CaseRun, LearnerError

Candidates = Callable[[int, Arguments], Mapping[str, np.ndarray]]
Transformed = Callable[[int, Arguments], Sequence[tuple[Part, np.ndarray]]]


def _unchanged(index: int, args: Arguments) -> Sequence[tuple[Part, np.ndarray]]:
    """No changed arguments to try."""
    return []


@dataclass
class Tally:
    """One grading's cases, added as they are compared, then concluded on together: an
    explanation must hold on every visible case, so none is named before all are in."""

    spec: ExerciseSpec
    candidates: Candidates  # (case index, arguments) -> the known mistakes' outputs
    # (case index, arguments) -> the reference's outputs on changed arguments, by input part
    transformed: Transformed = _unchanged
    cases: list[Case] = field(default_factory=list)
    inputs: dict[str, Arguments] = field(default_factory=dict)
    outcomes: list[CaseOutcome] = field(default_factory=list)
    errors: list[tuple[str, LearnerError]] = field(default_factory=list)
    mutated: list[str] = field(default_factory=list)
    low_precision: dict[str, list[str]] = field(default_factory=dict)  # dtype -> cases

    def add(self, index: int, args: Arguments, want: np.ndarray, run: CaseRun,
            passed: bool) -> None:
        """Case ``index``'s run, and whether it passed."""
        case = self.spec.cases[index]
        got = run.array
        self.outcomes.append(CaseOutcome(
            case.name, tuple(args[0].shape), tuple(want.shape),
            tuple(got.shape) if got is not None and case.visible else None, passed,
            tuple(tuple(a.shape) for a in args), case.visible,
            tuple((arg.name, a.item()) if arg.kind != "array" else
                  (arg.name + SHAPE, tuple(a.shape))
                  for arg, a in zip(self.spec.arguments, args, strict=False)),
            run.kind == "error", stated_shape(run) if case.visible else None))
        if not case.visible:
            return  # its status only: the rest of the run is the learner's
        self.cases.append(Case(case.name, want, got, passed,
                               cache(lambda: self.candidates(index, args)),
                               cache(lambda: self.transformed(index, args))))
        self.inputs[case.name] = args
        if run.error is not None:
            self.errors.append((case.name, run.error))
        if run.mutated:
            self.mutated.append(case.name)
        if got is not None and passed:
            kind = precision(got, want)
            if kind.kind == "f" and kind.itemsize < 8:
                self.low_precision.setdefault(kind.name, []).append(case.name)

    def conclude(self, reports: list[CaseReport], load_error: LearnerError | None = None,
                 source: str = "") -> Concluded:
        """Each case's report with its explanation, the report's findings, and its one
        explanation to show first. ``source``, the submission's text, is read as text only
        (the line a crash's cause was set on)."""
        found, own = explain(self.cases, self.spec.compare)
        reports = [self._noted(report, own.get(report.name)) for report in reports]
        findings = self._mistakes(own, found.any_fit.key if found else None)
        failed = any(not outcome.passed for outcome in self.outcomes)
        # parameters in another order account for what the search found: told before it
        first = argument_order(source, self.spec) if failed else None
        errors = self.errors + ([("", load_error)] if load_error is not None else [])
        shapes = {name: {tuple(a.shape) for a in args} for name, args in self.inputs.items()}
        broken = breakages(errors, source, shapes)
        after = [fixed_shape(self.outcomes), square_only(self.outcomes),
                 odd_kernels_only(self.outcomes), even_sizes_only(self.outcomes)]
        if found is None and not broken and not any(after):  # the vaguest: when nothing else
            after.append(one_value_only(self.outcomes))
        # the errors' pattern, where nothing else explains them
        raising = None if broken or any(after) else raises_only(self.outcomes)
        of_statuses = [d for d in (first, *after) if d is not None]
        across = of_statuses + ([raising] if raising is not None else [])
        visible = [c.name for c in self.outcomes if c.visible]
        told = [Finding(code=d.code, message=d.message, cases=visible, severity="mistake")
                for d in across]
        findings = told[:1] + findings + told[1:] if first else findings + told
        findings += [Finding(code=code, message=words, cases=[c for c in cases if c],
                             severity="warning") for code, (words, cases) in broken.items()]
        if self.mutated:
            findings.append(Finding(code="modifies_input", message=say(Msg.MODIFIES_INPUT),
                                    cases=self.mutated, severity="warning"))
        findings += [precision_finding(np.dtype(name), names)
                     for name, names in self.low_precision.items()]
        searched = None if found is None else \
            self._explanation(found.fits, found.confidence)
        return Concluded(reports, findings, _first(of_statuses, searched, broken, raising))

    def _explanation(self, fits: Mapping[str, Fit], confidence: float) -> Explanation:
        """One explanation of the cases of ``fits`` (case name -> its fit), in words."""
        name = fit_name(*fits.values())
        cases = list(fits)
        return Explanation(name=name, parts=name.split("+"), confidence=confidence,
                           message=fit_message(fits[cases[0]], self.spec,
                                               self.inputs[cases[0]]),
                           cases=cases)

    def _noted(self, report: CaseReport, fit: Fit | None) -> CaseReport:
        if fit is None:
            return report
        explanation = self._explanation({report.name: fit}, fit_confidence(fit))
        note = say(Msg.MATCHES_MISTAKE, code=explanation.name) if not fit.parts \
            else explanation.message
        return report.model_copy(update={"mistake": explanation.name,
                                         "explanation": explanation,
                                         "message": f"{report.message}\n{note}"})

    def _mistakes(self, own: dict[str, Fit], best: tuple[str, ...] | None) -> list[Finding]:
        """One finding per explanation the failing cases got, the chosen one first."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for name, fit in own.items():
            groups.setdefault(fit.key, []).append(name)
        order = sorted(groups, key=lambda key: key != best)
        found = [self._explanation({name: own[name] for name in groups[key]}, 1.0)
                 for key in order]
        findings = [Finding(code=e.name, message=e.message, cases=e.cases, severity="mistake")
                    for e in found]
        flat = [c for c in self.cases if not c.passed and c.got is not None
                and c.got.dtype.kind in "iuf" and constant(c.got, c.expected)
                and not _cut_off(c, own.values())]
        if flat:
            findings.append(Finding(code="constant_output", message=say(
                Msg.CONSTANT_OUTPUT, value=shown(flat[0].got.flat[0])),  # type: ignore[union-attr]
                cases=[c.name for c in flat], severity="mistake"))
        alike = [(c.name, told) for c in self.cases if not c.passed and c.name not in own
                 and c.got is not None and not constant(c.got, c.expected)
                 and (told := channels_alike(c.got, c.expected, self.spec.compare))]
        if alike:
            findings.append(Finding(code="channels_alike", message=alike[0][1].message,
                                    cases=[name for name, _ in alike], severity="mistake"))
        integer = [c for c in self.cases if not c.passed and c.name not in own
                   and c.got is not None and c.got.dtype.kind in "iu"
                   and not np.array_equal(c.expected, np.round(c.expected))]
        if integer:  # unexplained, but an integer array cannot hold the right values
            findings.append(Finding(code="integer_output", message=say(
                Msg.INTEGER_OUTPUT, dtype=integer[0].got.dtype),  # type: ignore[union-attr]
                cases=[c.name for c in integer], severity="mistake"))
        return findings


def _cut_off(case: Case, fits: Iterable[Fit]) -> bool:
    """Whether ``case``'s constant output is what a cut that ``fits`` (other cases'
    explanations) found does to its expected output or to a known mistake's: every value
    beyond one bound of a clip (below 0, for negatives set to zero), so each is that bound.
    Not an output left unfilled, as a constant one is told."""
    assert case.got is not None
    value = float(case.got.flat[0])
    bounds: list[tuple[float, float]] = []
    for fit in fits:
        for part in fit.parts:
            if part.name == "integer_clipped":
                bounds.append((float(part.fields["low"]),  # type: ignore[arg-type]
                               float(part.fields["high"])))  # type: ignore[arg-type]
            elif part.name == "negatives_zeroed":
                bounds.append((0.0, math.inf))
    if not bounds:
        return False
    for values in (case.expected, *case.candidates().values()):
        if np.shape(values) != case.got.shape:
            continue
        for low, high in bounds:
            if value == low and np.all(values <= low) or value == high and np.all(values >= high):
                return True
    return False


@dataclass(frozen=True)
class Concluded:
    reports: list[CaseReport]
    findings: list[Finding]
    explanation: Explanation | None


def _first(across: list[Diagnosis], found: Explanation | None,
           broken: dict[str, tuple[str, list[str]]],
           raising: Diagnosis | None = None) -> Explanation | None:
    """The one explanation to show first: a pattern across cases' statuses (it accounts for
    every one), else the search's, else a pattern in where the code raises (what it computes
    where it runs is the search's), else a removed idiom behind a crash."""
    if across:
        return _across(across[0])
    if found is not None:
        return found
    if raising is not None:
        return _across(raising)
    for code, (words, cases) in broken.items():
        return Explanation(name=code, parts=[code], confidence=0.9, message=words,
                           kind="environment", cases=[c for c in cases if c])
    return None


def _across(told: Diagnosis) -> Explanation:
    return Explanation(name=told.code, parts=[told.code], confidence=0.8, message=told.message,
                       kind="across_cases")


def precision_finding(kind: np.dtype, cases: list[str]) -> Finding:
    """That the output was computed in a float shorter than float64, and what it costs."""
    eps = float(np.finfo(kind).eps)
    digits = round(-math.log10(eps))
    message = say(Msg.FLOAT32, digits=digits, eps=eps) if kind == np.float32 \
        else say(Msg.LOW_PRECISION, dtype=kind.name, digits=digits, eps=eps)
    return Finding(code=f"computed_in_{kind.name}", message=message, cases=cases,
                   severity="info")
