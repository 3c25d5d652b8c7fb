"""The screens that rule candidates out before the search tries them in full: each may rule out
only what could never fit, so the search finds with them exactly what it finds without."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grader.catalog.exercises import Catalog, Exercise
from grader.catalog.spec import Comparison
from grader.grading import explain
from grader.grading.compare import allowed_error, matches
from grader.grading.explain import search, usable
from grader.grading.inputs import case_arguments
from grader.grading.oracle import TrustedOracle
from grader.grading.parts import Part, near, variants
from grader.grading.screen import Probe, may_match, may_scale

CATALOG = Catalog(Path(__file__).resolve().parent.parent / "exercises")
SECRET = b"screen tests" * 3


def _noise(base: np.ndarray, share: float, rules: Comparison) -> np.ndarray:
    """``base`` moved by ``share`` of what the comparison allows, each value up or down."""
    signs = np.where(np.arange(base.size).reshape(base.shape) % 3 == 0, -1.0, 1.0)
    return base + share * signs * allowed_error(base, rules)


def _spread(base: np.ndarray) -> np.ndarray:
    out = np.zeros(base.shape[:-2] + (2 * base.shape[-2], 2 * base.shape[-1]))
    out[..., ::2, ::2] = base
    return out


def _edges(base: np.ndarray) -> np.ndarray:
    out = base.copy()
    out[..., -1] = 0
    if base.ndim >= 2:
        out[..., -1, :] = 0
    return out


def _shifted(base: np.ndarray) -> np.ndarray:
    out = np.roll(base, 1, axis=-1)
    out[..., 0] = 7.0
    return out


def _ring(base: np.ndarray) -> np.ndarray:
    return np.pad(base, [(0, 0)] * (base.ndim - 2) + [(1, 1)] * min(base.ndim, 2))


CHANGES: dict[str, Callable[[np.ndarray, Comparison], np.ndarray]] = {
    "as it is": lambda b, r: b,
    "within the tolerance": lambda b, r: _noise(b, 0.95, r),
    "past the tolerance": lambda b, r: _noise(b, 1.5, r),
    "scaled, within the tolerance": lambda b, r: _noise(2.5 * b, 0.9, r),
    "term added": lambda b, r: b + 0.75,
    "min-max": lambda b, r: (b - b.min()) / (np.ptp(b) or 1.0),
    "negatives zeroed": lambda b, r: np.maximum(b, 0),
    "truncated": lambda b, r: np.trunc(b),
    "rounded": lambda b, r: np.round(b, 1),
    "as integers": lambda b, r: b.astype(np.int64),
    "as float32": lambda b, r: b.astype(np.float32),
    "transposed": lambda b, r: np.swapaxes(b, -1, -2) if b.ndim >= 2 else b[::-1],
    "rolled": lambda b, r: np.roll(b, (1, 1), axis=(-1, -2)) if b.ndim >= 2 else np.roll(b, 1),
    "shifted": lambda b, r: _shifted(b),
    "in a zero ring": lambda b, r: _ring(b),
    "short of a column": lambda b, r: b[..., :-1],
    "cut from inside": lambda b, r: b[..., 1:, 1:] if b.ndim >= 2 else b[1:-1],
    "edges zero": lambda b, r: _edges(b),
    "spread": lambda b, r: _spread(b) if b.ndim >= 2 else np.repeat(b, 2),
    "summed": lambda b, r: b.sum(axis=0),
    "kept apart": lambda b, r: np.stack([b, 0 * b]),
    "random": lambda b, r: np.random.default_rng(b.size).normal(size=b.shape),
}
VALUES_ONLY = ("as it is", "within the tolerance", "past the tolerance",
               "scaled, within the tolerance", "term added", "negatives zeroed", "truncated",
               "rounded", "as integers", "as float32", "kept apart", "random")


def _cases(exercise: Exercise, seeds: tuple[int, ...]) -> Iterator[
        tuple[np.ndarray, dict[str, np.ndarray], list]]:
    """(expected, known mistakes' outputs, outputs on changed arguments) of the first
    visible case of each seed."""
    oracle = TrustedOracle(exercise)
    index = next(i for i, case in enumerate(exercise.spec.cases) if case.visible)
    for seed in seeds:
        args = case_arguments(exercise.spec, seed, SECRET)[index]
        expected = oracle.expected(seed, [args])[0]
        yield (expected, dict(oracle.mistakes(seed, index, args)),
               list(oracle.transformed(seed, index, args)))


def _exhaustive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every screen of the search lets every candidate through."""
    def every(probe: Probe, candidates: list[np.ndarray],
              dtype: np.dtype | None = None) -> tuple[list[bool], list[bool]]:
        return [True] * len(candidates), [True] * len(candidates)

    monkeypatch.setattr(explain, "may_match", every)
    for name in ("may_hold", "may_sit", "may_edge", "may_scale"):
        monkeypatch.setattr(explain, name, lambda *args: True)


@pytest.mark.parametrize("exercise_id", CATALOG.ids())
def test_the_screened_search_finds_every_explanation_the_exhaustive_one_finds(
        exercise_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    exercise = CATALOG.get(exercise_id)
    rules = exercise.spec.compare
    tried = found = 0
    for expected, mistakes, changed in _cases(exercise, (3, 8)):
        bases = [expected, *list(mistakes.values())[:4], *[out for _, out in changed[:3]]]
        for base in bases:
            for name, change in CHANGES.items():
                if base.ndim == 0 and name not in VALUES_ONLY:
                    continue  # a change of places, and a number has none
                with np.errstate(all="ignore"):
                    got = change(base, rules)
                if not usable(got, rules):
                    continue
                screened = search(got, expected, mistakes, rules, changed)
                with monkeypatch.context() as patch:
                    _exhaustive(patch)
                    every = search(got, expected, mistakes, rules, changed)
                assert repr(screened) == repr(every), name
                tried += 1
                found += bool(every)
    assert found > tried // 2  # the set holds outputs that are explained, not only noise


def _visible(exercise: Exercise, seed: int) -> list[tuple[str, np.ndarray, dict, list]]:
    """Each visible case's name, expected output, known mistakes' and changed arguments'
    outputs."""
    oracle = TrustedOracle(exercise)
    arguments = case_arguments(exercise.spec, seed, SECRET)
    return [(case.name, oracle.expected(seed, [args])[0], dict(oracle.mistakes(seed, i, args)),
             list(oracle.transformed(seed, i, args)))
            for i, (case, args) in enumerate(zip(exercise.spec.cases, arguments, strict=True))
            if case.visible]


def _outputs(visible: list[tuple[str, np.ndarray, dict, list]]) -> Iterator[list[np.ndarray]]:
    """Wrong outputs for every visible case at once: the expected one, a known mistake's, or
    the one on a changed argument, as it is or changed, on every case or all but the
    first."""
    kinds: list[Callable[[np.ndarray, dict, list], np.ndarray | None]] = [
        lambda e, m, c: e,
        *(lambda e, m, c, code=code: m.get(code) for code in list(visible[0][2])[:6]),
        *(lambda e, m, c, n=n: c[n][1] if n < len(c) else None for n in range(3))]
    for kind in kinds:
        for name in ("as it is", "scaled, within the tolerance", "rounded", "shifted",
                     "transposed", "in a zero ring", "edges zero", "random"):
            for first_right in (False, True):
                outputs = []
                for number, (_, expected, mistakes, changed) in enumerate(visible):
                    base = kind(expected, mistakes, changed)
                    if base is None or base.ndim == 0 and name not in VALUES_ONLY:
                        break
                    with np.errstate(all="ignore"):
                        outputs.append(expected if first_right and number == 0
                                       else CHANGES[name](base, Comparison()))
                else:
                    yield outputs


@pytest.mark.parametrize("exercise_id", CATALOG.ids())
def test_the_explanation_is_the_one_found_with_every_changed_argument_searched(
        exercise_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    exercise = CATALOG.get(exercise_id)
    rules = exercise.spec.compare
    for seed in (5, 6):
        visible = _visible(exercise, seed)
        for outputs in _outputs(visible):
            cases = [explain.Case(name, expected, got, matches(got, expected, rules),
                                  lambda m=mistakes: m, lambda c=changed: c)
                     for (name, expected, mistakes, changed), got in zip(
                         visible, outputs, strict=True)]
            asked = repr(explain.explain(cases, rules))
            with monkeypatch.context() as patch:
                patch.setattr(explain, "_settled", lambda *args: False)
                assert asked == repr(explain.explain(cases, rules))


FLIPPED = Part("kernel_flipped", {"transform": "flipped", "argument": "kernel", "ndim": 2})


def test_a_changed_argument_that_explains_more_cases_than_a_known_mistake_is_found() -> None:
    rng = np.random.default_rng(1)
    first, second, other = (rng.normal(size=(5, 6)) for _ in range(3))
    cases = [explain.Case("a", rng.normal(size=(5, 6)), first, False,
                          lambda: {"mistake": first}, lambda: [(FLIPPED, first)]),
             explain.Case("b", rng.normal(size=(5, 6)), second, False,
                          lambda: {"mistake": other}, lambda: [(FLIPPED, second)])]
    found, _ = explain.explain(cases, Comparison())
    assert found is not None and list(found.fits) == ["a", "b"]
    assert found.any_fit.parts == (FLIPPED,)


def test_a_changed_argument_as_good_as_a_generic_part_is_its_rival() -> None:
    expected = np.random.default_rng(2).normal(size=(5, 6))
    got = 2.5 * expected
    case = explain.Case("a", expected, got, False, dict, lambda: [(FLIPPED, got)])
    found, _ = explain.explain([case], Comparison())
    assert found is not None and found.rivals == [("kernel_flipped:0",)]


RULES = st.builds(Comparison, rtol=st.sampled_from([0.0, 1e-9, 1e-6, 1e-3, 0.1]),
                  atol=st.sampled_from([0.0, 1e-12, 1e-9, 1e-3]),
                  precision=st.sampled_from(["float64", "float32", "float16"]))
VALUES = arrays(np.float64, st.integers(3, 40),
                elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False))
SHARES = st.floats(-1.0, 1.0)


@settings(max_examples=300)
@given(VALUES, RULES, SHARES, st.data())
def test_reach_bounds_every_distance_near_allows(
        candidate: np.ndarray, rules: Comparison, share: float, data: st.DataObject) -> None:
    with np.errstate(all="ignore"):
        got = candidate + share * allowed_error(candidate, rules)
    place = data.draw(st.integers(0, candidate.size - 1))
    got[place] = candidate[place] + allowed_error(candidate, rules)[place]  # at the bound
    if not np.isfinite(got).all() or not near(got, candidate, rules):
        return
    assert np.all(np.abs(got - candidate) <= Probe(got, rules).reach(candidate))


@settings(max_examples=300)
@given(VALUES, RULES, SHARES, st.floats(-1e4, 1e4), st.floats(-1e6, 1e6))
def test_no_factor_and_term_near_the_output_is_ruled_out(
        candidate: np.ndarray, rules: Comparison, share: float, factor: float,
        term: float) -> None:
    fitted = factor * candidate + term
    with np.errstate(all="ignore"):
        got = fitted + share * allowed_error(fitted, rules)
    if not np.isfinite(got).all() or not near(got, fitted, rules):
        return
    assert may_scale(Probe(got, rules), candidate)


@settings(max_examples=300)
@given(VALUES, RULES, SHARES, st.integers(0, 5))
def test_no_rounding_near_the_output_is_ruled_out(
        candidate: np.ndarray, rules: Comparison, share: float, which: int) -> None:
    shown = list(variants(candidate, np.dtype(np.float64)))
    changed = shown[which % len(shown)][1]
    with np.errstate(all="ignore"):
        got = changed + share * allowed_error(changed, rules)
    if not np.isfinite(got).all() or not near(got, changed, rules):
        return
    as_is, rounded = may_match(Probe(got, rules), [candidate])
    assert rounded[0] or which % len(shown) == 0 and as_is[0]


@settings(max_examples=200)
@given(VALUES, st.sampled_from(["uint8", "int8", "int16", "uint16", "int64"]))
def test_no_value_stored_in_a_narrow_integer_array_is_ruled_out(
        candidate: np.ndarray, name: str) -> None:
    dtype = np.dtype(name)
    for _, changed in list(variants(candidate, dtype))[1:]:
        if not np.isfinite(changed).all():
            continue
        as_is, stored = may_match(Probe(changed, Comparison()), [candidate], dtype)
        assert stored[0]


def test_a_far_output_is_ruled_out_by_the_screens() -> None:
    rules = Comparison()
    candidate = np.arange(12.0).reshape(3, 4)
    got = candidate[::-1] * 10 + 5
    probe = Probe(got, rules)
    assert may_match(probe, [candidate]) == ([False], [False])
    assert not may_scale(probe, np.sin(candidate))
