"""The search for an explanation of a submission's wrong outputs.

For each failing visible case, every explanation of at most ``MAX_PARTS`` parts is tried: a
candidate (the reference's output, or a known mistake's, whose pairs count two parts, or the
reference's output on an argument transposed or flipped, an input part) turned into the
learner's output by a placement and a value part (``grader.grading.parts``). An
explanation is kept only when it is consistent with every visible case: a passed case
contradicts it when one of its known mistakes would have changed that case's output, or one of
its generic parts cannot leave a case untouched (a shift, a factor). Of the rest, the one that
explains the most failing cases wins, then the one with the fewest parts, then the one that
leaves the fewest output values unexplained, then a known mistake of the exercise before a
generic part. How sure it is (``confidence``, 0 to 1) falls with the failing cases it leaves
unexplained, the values it leaves loose, its parts, and its rivals: other explanations as good.

Everything here works on arrays the grader computed or parsed: no learner code runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from grader.catalog.spec import Comparison
from grader.grading.compare import matches, too_coarse
from grader.grading.parts import (
    Part,
    View,
    axes_of_one,
    keeps,
    near,
    offset,
    reduced,
    rescaled,
    scaled,
    stacked,
    stored_as,
    summed,
    variants,
)
from grader.grading.placements import (
    Bands,
    inside_bands,
    offsets_of,
    placements,
    rolled,
    window,
    zero_bands,
)
from grader.grading.screen import Probe, may_edge, may_hold, may_match, may_scale, may_sit

MAX_PARTS = 2
# A case's explanation less sure than this is none (a few values that happen to sit inside a
# larger output of anything: ``fit_confidence``)
MIN_CONFIDENCE = 0.1
REFERENCE = ""  # the candidate code of the reference's own output
# Parts that are one explanation under two names: a shift by one is a shift.
FAMILIES = {"shifted_by_one": "shifted"}


@dataclass
class Case:
    """What the search needs of one visible case. ``candidates`` gives the known mistakes'
    outputs on this case, by code, and ``transformed`` the reference's outputs on changed
    arguments, by input part, when first asked (a failing submission only)."""

    name: str
    expected: np.ndarray
    got: np.ndarray | None
    passed: bool
    candidates: Callable[[], Mapping[str, np.ndarray]] = dict
    transformed: Callable[[], Sequence[tuple[Part, np.ndarray]]] = list


@dataclass(frozen=True)
class Fit:
    """One explanation of one case's output."""

    model: str  # REFERENCE, a known mistake's code, or a pair "a+b"
    parts: tuple[Part, ...]
    loose: float  # the share of the output's values it leaves unexplained
    compared: int  # values compared
    order: int  # the search's order: known mistakes come first

    @property
    def key(self) -> tuple[str, ...]:
        models = tuple(self.model.split("+")) if self.model else ()
        return models + tuple(f"{FAMILIES.get(p.name, p.name)}:{p.decimals}"
                              for p in self.parts)

    @property
    def size(self) -> int:
        return len(self.key)

    @property
    def generic(self) -> int:
        return len(self.parts)


@dataclass
class Found:
    """The explanation chosen for a submission, with what it explains."""

    fits: dict[str, Fit]  # case name -> this explanation's fit on that case
    confidence: float
    rivals: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def any_fit(self) -> Fit:
        return next(iter(self.fits.values()))


def usable(got: np.ndarray | None, rules: Comparison) -> bool:
    """An output whose values can be explained: finite numbers the comparison looked at (an
    empty output has none: no placement or scale of anything fits nothing)."""
    return got is not None and got.size > 0 and got.dtype.kind in "iuf" \
        and not too_coarse(got, rules) and bool(np.isfinite(got).all())


def constant(got: np.ndarray, expected: np.ndarray) -> bool:
    """An output of one value repeated, where the expected values differ: it says nothing of
    how they were computed. A rounding, a scale near zero or a ReLU would each "explain" it
    by what it wipes out, so it is told as it is instead (``Msg.CONSTANT_OUTPUT``). Not an
    integer array whose one value is what it makes of every expected value (all between -1
    and 1, truncated to 0): its dtype says what happened, as on the other cases."""
    if got.size <= 1 or expected.size <= 1 or not bool(np.all(got == got.flat[0])) \
            or bool(np.all(expected == expected.flat[0])):
        return False
    if got.dtype.kind in "iu" and got.shape == expected.shape:
        with np.errstate(all="ignore"):
            return not any(bool(np.all(whole == got.flat[0]))
                           for whole in (stored_as(expected, got.dtype), np.round(expected)))
    return True


Source = tuple[str, tuple[Part, ...], np.ndarray]  # a candidate: code, input part, output


def search(got: np.ndarray, expected: np.ndarray, candidates: Mapping[str, np.ndarray],
           rules: Comparison, transformed: Sequence[tuple[Part, np.ndarray]] = ()
           ) -> list[Fit]:
    """Every explanation of ``got`` of at most MAX_PARTS parts: known mistakes first (in the
    oracle's order), then the reference's output with generic parts, then its outputs on
    changed arguments (``transformed``: input part, output). Values near float64's limits may
    overflow on the way: an overflow is no match, never an error."""
    return _searched(got, [*_known(expected, candidates), *_changed(transformed)], rules)


def _known(expected: np.ndarray, candidates: Mapping[str, np.ndarray]) -> list[Source]:
    """The known mistakes' outputs, then the reference's, as candidates."""
    return [*((model, (), candidate) for model, candidate in candidates.items()),
            (REFERENCE, (), expected)]


def _changed(transformed: Sequence[tuple[Part, np.ndarray]]) -> list[Source]:
    """The reference's outputs on changed arguments, as candidates."""
    return [(REFERENCE, (part,), out) for part, out in transformed]


def _searched(got: np.ndarray, sources: list[Source], rules: Comparison,
              order: int = 0) -> list[Fit]:
    """The explanations of ``got`` by ``sources``, in ``search``'s order, numbered from
    ``order`` (the sources searched before these on the same output gave as many)."""
    with np.errstate(all="ignore"):
        return _search(got, sources, rules, order)


def _search(got: np.ndarray, sources: list[Source], rules: Comparison,
            order: int) -> list[Fit]:
    values = got.astype(np.float64)
    probe = Probe(values, rules)
    bands = zero_bands(values)
    fits: list[Fit] = []
    bases = [(len(model.split("+")) if model else 0) + len(given)
             for model, given, _ in sources]
    # A candidate with all its parts is tried as it is, in place; one a part short, changed
    # in its values in place only, or as it is placed anywhere: the screen rules out those
    # far from the output on a few values.
    as_is, changes = may_match(probe, [candidate for _, _, candidate in sources], got.dtype)
    reference = next((candidate for model, given, candidate in sources
                      if model == REFERENCE and not given), None)
    for index, ((model, given, candidate), base) in enumerate(zip(sources, bases, strict=True)):
        if base < MAX_PARTS and candidate.ndim != values.ndim:
            shaped = [axes_of_one(values, candidate, rules), stacked(values, candidate, rules)]
            fits += [Fit(model, (*given, part), 0.0, values.size, order + len(fits))
                     for part in [p for p in shaped if p is not None]
                     + list(summed(values, candidate, rules))
                     + list(reduced(values, candidate, rules))]
        if base > MAX_PARTS or candidate.ndim != values.ndim \
                or base == MAX_PARTS and not as_is[index]:
            continue
        shown = variants(candidate, got.dtype) if base < MAX_PARTS - 1 \
            or base == MAX_PARTS - 1 and changes[index] else [(None, candidate)]
        finite = bool(np.isfinite(candidate).all())  # so is each variant then
        for value, variant in shown:
            placed = _placed(probe, bands, (model, given, base), value, variant,
                             (finite, as_is[index] or value is not None), order + len(fits))
            fits += [fit for fit in placed if not model or reference is None
                     or not _hidden_by_bands(fit, variant, reference, bands, rules)]
    return fits


def _hidden_by_bands(fit: Fit, variant: np.ndarray, reference: np.ndarray,
                     bands: Bands | None, rules: Comparison) -> bool:
    """Whether a known mistake's fit with edges left at zero compares only values the right
    output has too: the bands hide every value the mistake changes, so it explains nothing
    (its windows wrap, say, past an edge the learner's loops never reach)."""
    if bands is None or not any(part.name == "edges_zero" for part in fit.parts):
        return False
    region = variant[inside_bands(variant.shape, bands)]
    if region.ndim != reference.ndim or region.size == 0:
        return False
    spare = [r - g for r, g in zip(reference.shape, region.shape, strict=True)]
    if min(spare) < 0:
        return False
    return any(near(region, reference[window(offset, region.shape)], rules)
               for offset in offsets_of(region, reference, spare, rules))


def _placed(probe: Probe, bands: Bands | None, source: tuple[str, tuple[Part, ...], int],
            value: Part | None, variant: np.ndarray, screened: tuple[bool, bool],
            order: int) -> list[Fit]:
    """The fits of one candidate's variant (``value``: what was done to its values) in each
    placement left to it. ``source``: the candidate's code, its input part if any, and the
    parts those count for; ``screened``: whether every value of the candidate is finite,
    and whether the variant may be near the output as it is, in place."""
    model, given, base = source
    finite, in_place = screened
    plain = base + (value is not None) >= MAX_PARTS  # no part left for a placement
    # Views of the variant as it is, transposed, shifted or cropped compare got's centre
    # value; views inside got, or spread over it, the variant's first, largest and smallest
    # values; the view inside zero bands, its first value there: with no value near those,
    # they are left out (a screen that cannot tell lets them through).
    smaller = variant.size < probe.got.size
    held = plain or smaller or may_hold(probe, variant, finite)
    sits = plain or not smaller or may_sit(probe, variant, finite)
    if bands is not None and (plain or not smaller if variant.shape != probe.got.shape
                              else plain or not may_edge(probe, variant, bands, finite)):
        bands = None  # kept for a smaller variant: in a corner, short of its edge
    fits: list[Fit] = []
    for view in placements(probe.got, variant, probe.rules, bands, plain, held, sits):
        whole = view.part is None or view.part.name in ("transposed", "axes_moved")
        tried = (held or not whole) and (in_place or view.part is not None)
        fit = _fit(view, model, given, value, probe.got, variant, probe.rules,
                   order + len(fits)) if tried else None
        if fit is not None and fit.size <= MAX_PARTS:
            fits.append(fit)
        if value is None and whole and base + (view.part is not None) < MAX_PARTS:
            fits += _scaled(view, model, given, probe, order + len(fits))
    return fits


def _fit(view: View, model: str, given: tuple[Part, ...], value: Part | None,
         got: np.ndarray, candidate: np.ndarray, rules: Comparison, order: int) -> Fit | None:
    """The explanation a view gives when its regions agree."""
    if view.got.size == 0 or not near(view.got, view.candidate, rules):
        return None
    compared = view.candidate
    if view.part is not None and compared.size > 1 and np.all(compared == compared.flat[0]):
        return None  # placed on one value all over (values cut to 0): it fits anywhere
    placement, loose = view.part, view.loose
    if placement is not None and placement.name.startswith("shift"):
        placement = rolled(placement, got, candidate, rules)
        loose = 0 if placement.name == "rolled" else loose
    parts = given + tuple(p for p in (placement, value) if p is not None)
    if not model and not parts:
        return None  # the reference itself: not an explanation of a wrong output
    return Fit(model, parts, loose / max(got.size, 1), view.got.size, order)


def _scaled(view: View, model: str, given: tuple[Part, ...], probe: Probe,
            order: int) -> list[Fit]:
    """The view's values times a constant, or plus one, or else both (on the plain or the
    transposed placement only: ``view.got`` is ``probe``'s output)."""
    if view.got.size < 2 or view.loose or not may_scale(probe, view.candidate):
        return []
    rules = probe.rules
    found = [part for part in (scaled(view.got, view.candidate, rules),
                               offset(view.got, view.candidate, rules)) if part is not None]
    if not found:
        found = [part for part in [rescaled(view.got, view.candidate, rules)] if part is not None]
    fits = [Fit(model, given + tuple(p for p in (view.part, part) if p is not None), 0.0,
                view.got.size, order + number) for number, part in enumerate(found)]
    return [fit for fit in fits if fit.size <= MAX_PARTS]


def consistent(fit: Fit, case: Case, rules: Comparison) -> bool:
    """Whether a passed ``case`` allows ``fit``'s explanation: its known mistakes would have
    given the same output there, and each generic part can leave that case untouched."""
    assert case.got is not None
    if fit.model:
        candidate = case.candidates().get(fit.model)
        if candidate is None or not matches(case.got, candidate, rules):
            return False
    return all(keeps(part, case.expected) for part in fit.parts)


def explain(cases: Sequence[Case], rules: Comparison) -> tuple[Found | None, dict[str, Fit]]:
    """The explanation of the submission (or None), and each failing case's own best one.

    The reference's outputs on changed arguments are asked for, and searched, only when an
    explanation of theirs could change that: not when one known mistake alone, or no part
    at all, explains every failing case in full (theirs has a generic part, so it ranks
    below, and no case of theirs is any case's own)."""
    failing = [c for c in cases if not c.passed and c.got is not None
               and usable(c.got, rules) and not constant(c.got, c.expected)]
    passed = [c for c in cases if c.passed and c.got is not None]
    if not failing:
        return None, {}
    fits = [(case, _searched(case.got, _known(case.expected, case.candidates()), rules))
            for case in failing if case.got is not None]
    kept = _kept(fits, passed, rules)
    if not _settled(kept, len(failing)):
        for case, more in fits:
            assert case.got is not None
            more += _searched(case.got, _changed(case.transformed()), rules, len(more))
        kept = _kept(fits, passed, rules)
    if not kept:
        return None, {}
    ranked = sorted(kept, key=lambda k: _rank(kept[k]))
    best = ranked[0]
    found = Found(kept[best], 0.0, [k for k in ranked[1:] if _ties(kept[k], kept[best])])
    found.confidence = _confidence(found, len(failing))
    own = {}
    for case in failing:
        mine = [k for k in ranked if case.name in kept[k]]
        if not mine:
            continue
        ranked_fits = [kept[k][case.name] for k in mine]
        best_fit = ranked_fits[0]
        telling = [fit for fit in ranked_fits if _every_mistake_tells(fit, case, rules)
                   and fit.size <= best_fit.size and fit.loose <= best_fit.loose]
        # of those as good on this case, one that names a known mistake for a generic part
        # (same padding, not "inside a larger array"): the more precise, whichever explains
        # more of the other cases
        own[case.name] = min(telling, key=lambda fit: fit.generic) if telling \
            else ranked_fits[0]
    return found, own


def _every_mistake_tells(fit: Fit, case: Case, rules: Comparison) -> bool:
    """Whether each known mistake ``fit`` names changes this case's right output: a case's own
    explanation names none that leaves it as it is (the odd last row kept as a window, on an
    image with no odd row), where an explanation without it fits the case as well (as few
    parts, as few values left loose)."""
    candidates = case.candidates()
    for model in fit.model.split("+") if fit.model else ():
        candidate = candidates.get(model)
        if candidate is not None and matches(candidate, case.expected, rules):
            return False
    return True


def _settled(kept: dict[tuple[str, ...], dict[str, Fit]], failing: int) -> bool:
    """Whether the best of ``kept`` ranks above any explanation with a generic part (an
    argument changed is one) could, on every one of the ``failing`` cases."""
    return bool(kept) and min(_rank(fits) for fits in kept.values())[:4] \
        < (-failing, 1, 0.0, 1)


def _kept(fits: list[tuple[Case, list[Fit]]], passed: Sequence[Case], rules: Comparison
          ) -> dict[tuple[str, ...], dict[str, Fit]]:
    """The explanations of the failing cases (``fits``: each one's, in search order), by
    key, that every passed case allows: case name -> the first fit of that key."""
    by_key: dict[tuple[str, ...], dict[str, Fit]] = {}
    for case, searched in fits:
        for fit in searched:
            if fit_confidence(fit) >= MIN_CONFIDENCE:
                by_key.setdefault(fit.key, {}).setdefault(case.name, fit)
    return {key: fits for key, fits in by_key.items()
            if all(consistent(next(iter(fits.values())), case, rules) for case in passed)}


def _rank(fits: dict[str, Fit]) -> tuple[float, ...]:
    first = next(iter(fits.values()))
    loose = float(np.mean([f.loose for f in fits.values()]))
    return (-len(fits), first.size, round(loose, 2), first.generic,
            min(f.order for f in fits.values()))


def _ties(fits: dict[str, Fit], best: dict[str, Fit]) -> bool:
    """Equally good: as many cases, parts, loose values and generic parts (a known mistake
    and a generic part that say the same are not rivals: the known one is the more precise)."""
    return _rank(fits)[:4] == _rank(best)[:4]


def fit_confidence(fit: Fit) -> float:
    """How sure one case's explanation is, on that case alone."""
    evidence = min(1.0, fit.compared / 9)
    return round(max(0.05, (1 - fit.loose) * evidence * (0.9 if fit.size > 1 else 1.0)), 2)


def _confidence(found: Found, failing: int) -> float:
    fits = list(found.fits.values())
    coverage = len(fits) / failing
    loose = float(np.mean([f.loose for f in fits]))
    evidence = min(1.0, sum(f.compared for f in fits) / 9)
    size = fits[0].size
    value = coverage * (1 - loose) * evidence * (0.9 if size > 1 else 1.0) \
        / (1 + len(found.rivals))
    return round(max(0.05, min(1.0, value)), 2)
