"""Diagnoses for any exercise: one wrong output by generic parts alone, and checks across cases.

``diagnose`` explains one output with nothing of the exercise but its inputs (the search of
``grader.grading.explain``, with no known mistake). ``square_only``, ``odd_kernels_only``,
``even_sizes_only`` and ``one_value_only`` look across cases, at shapes, the spec's scalar
arguments and statuses only: right on square inputs only, with odd kernels only, on even sizes
only, with one value of a scalar argument only (a stride of 1); ``raises_only``, the same
patterns in where the code raises an error. A hidden case's status is shown to the learner
anyway, so these may count it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from grader.catalog.spec import Comparison
from grader.grading.compare import allowed_error
from grader.grading.explain import FAMILIES, Case, Fit, constant, explain, usable
from grader.grading.messages import Msg, say
from grader.grading.numbers import shape as show_shape
from grader.grading.numbers import shown
from grader.grading.wording import fit_message

RULES = Comparison()
SHAPE = ".shape"  # an array argument's shape, among a case's values


@dataclass(frozen=True)
class Diagnosis:
    code: str
    message: str


def close(got: np.ndarray, expected: np.ndarray, rules: Comparison = RULES) -> bool:
    """Same shape and equal within the tolerances the comparison uses (``compare``'s, of
    ``expected`` and the rules, never of got's dtype)."""
    if got.shape != expected.shape or got.size == 0:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        error = np.abs(got.astype(np.float64) - expected)
        return bool(np.all(error <= allowed_error(expected, rules)))


def diagnose(got: np.ndarray, expected: np.ndarray, inputs: Sequence[np.ndarray],
             rules: Comparison = RULES) -> Diagnosis | None:
    """The best explanation of one wrong output by generic parts alone (no known mistake of
    an exercise, no other case), or None. An output the comparison refuses for its dtype
    (``too_coarse``) gets none: its values were not looked at."""
    if not usable(got, rules):
        return None
    case = Case("", expected, got, passed=False)
    found, _ = explain([case], rules)
    if found is not None:
        fit = found.any_fit
        return Diagnosis(fit_name(fit), fit_message(fit, None, inputs))
    if got.dtype.kind in "iu" and not np.array_equal(expected, np.round(expected)):
        return Diagnosis("integer_output", say(Msg.INTEGER_OUTPUT, dtype=got.dtype))
    if constant(got, expected):
        return Diagnosis("constant_output", say(Msg.CONSTANT_OUTPUT, value=shown(got.flat[0])))
    return channels_alike(got, expected, rules)


def channels_alike(got: np.ndarray, expected: np.ndarray,
                   rules: Comparison = RULES) -> Diagnosis | None:
    """Every output channel (the first axis of an output of three or more) holds one map, each
    shifted by a constant of its own (its bias), where the expected channels differ: each
    channel's result written into all of them (``out[:, i, j] = ...``), the last write
    winning. Named with the expected channel they hold, when they hold one's."""
    if got.shape != expected.shape or got.ndim < 3 or got.shape[0] < 2 \
            or got[0].size < 4 or got.dtype.kind not in "iuf":
        return None
    with np.errstate(all="ignore"):
        values = got.astype(np.float64)
        if not np.isfinite(values).all() or not _shifted_alike(values, values[0], rules) \
                or _shifted_alike(expected, expected[0], rules):
            return None
        held = [k for k in range(expected.shape[0])
                if _shifted_alike(values[:1], expected[k], rules)]
    whose = "" if len(held) != 1 else say(
        Msg.CHANNELS_LAST if held[0] == expected.shape[0] - 1 else Msg.CHANNELS_OF,
        channel=held[0])
    return Diagnosis("channels_alike", say(Msg.CHANNELS_ALIKE, count=got.shape[0],
                                           whose=whose))


def _shifted_alike(channels: np.ndarray, one: np.ndarray, rules: Comparison) -> bool:
    """Whether each of ``channels`` is ``one`` plus a constant of its own."""
    differences = channels - one
    spread = differences - differences.reshape(len(channels), -1).mean(axis=1).reshape(
        (-1,) + (1,) * (channels.ndim - 1))
    return bool(np.all(np.abs(spread) <= allowed_error(channels, rules)))


def fit_name(fit: Fit, *others: Fit) -> str:
    """An explanation's code: its known mistakes' codes and its parts' names, joined by "+";
    a part named differently on ``others`` (a shift by one here, by two there) by the name of
    its family."""
    names = [p.name for p in fit.parts]
    for other in others:
        names = [name if name == p.name else FAMILIES.get(name, name)
                 for name, p in zip(names, other.parts, strict=True)]
    return "+".join(([fit.model] if fit.model else []) + names)


@dataclass(frozen=True)
class CaseOutcome:
    """What the checks across cases need of a case: its name, its first input's shape, the
    expected and the got shapes (None for a hidden case, or no array), whether it passed,
    and the shapes of every input. A hidden case's status is already the learner's to see."""

    name: str
    input_shape: tuple[int, ...]
    expected_shape: tuple[int, ...]
    got_shape: tuple[int, ...] | None
    passed: bool
    shapes: tuple[tuple[int, ...], ...] = ()
    visible: bool = True
    # each argument's value by name: a scalar's number, an array's shape (as "<name>.shape")
    values: tuple[tuple[str, object], ...] = ()
    # the learner's code raised an error, out of memory aside (its name is shown, hidden or not)
    raised: bool = False
    # a visible case's output refused as too large: the shape the child stated for it
    too_large: tuple[int, ...] | None = None

    @property
    def sized(self) -> tuple[int, ...] | None:
        """The output's shape, an array's or one refused as too large (``fixed_shape``'s)."""
        return self.got_shape if self.got_shape is not None else self.too_large


def _names(cases: Sequence[CaseOutcome]) -> str:
    """The visible cases by name, the hidden ones counted (apart by semicolons when a name
    has a comma of its own)."""
    names = [c.name for c in cases if c.visible]
    apart = "; " if any("," in name for name in names) else ", "
    hidden = sum(1 for c in cases if not c.visible)
    if hidden:
        names.append(say(Msg.HIDDEN_CASES, count=hidden, s="s" if hidden > 1 else ""))
    return apart.join(names)


def _spatial(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Height and width: the last two dimensions of an image, channels first or not."""
    return shape[-2:] if len(shape) >= 2 else shape


def _sides(case: CaseOutcome) -> int:
    """How many lengths the first input's height and width have: 1 when it is square."""
    return len(set(_spatial(case.input_shape)))


def square_only(cases: Sequence[CaseOutcome]) -> Diagnosis | None:
    """Right on every case whose first input is square (height = width, whatever channels
    come first), wrong on every other one."""
    split = _split(cases, lambda c: _sides(c) == 1 if _sides(c) else None)
    if split is None:
        return None
    square, other = split
    symptoms = []
    for case in other:
        got, want = case.got_shape, case.expected_shape
        if got is None or got == want or len(got) != len(want):
            continue
        shapes = {"case": case.name, "got_shape": show_shape(got),
                  "expected_shape": show_shape(want)}
        if got[:-2] == want[:-2] and _spatial(got) == _spatial(want)[::-1]:
            symptoms.append(say(Msg.SHAPE_SWAPPED, **shapes))
        elif len(set(_spatial(got))) == 1 and _spatial(got)[0] in _spatial(want):
            symptoms.append(say(Msg.SHAPE_ONE_DIMENSION, **shapes))
        else:
            return None  # a shape that neither mix-up explains
    why = "".join(f"; {s}" for s in symptoms)
    return Diagnosis("square_inputs_only", say(
        Msg.SQUARE_ONLY, passed=_names(square), failed=_names(other), why=why))


def _odd_kernel(case: CaseOutcome) -> bool | None:
    """Whether every kernel of a case (an input after the first, of 2 dimensions or more) is
    odd in height and width; None when the case has no kernel."""
    kernels = [s for s in case.shapes[1:] if len(s) >= 2]
    if not kernels:
        return None
    return all(n % 2 == 1 for s in kernels for n in _spatial(s))


def odd_kernels_only(cases: Sequence[CaseOutcome]) -> Diagnosis | None:
    """Right on every case whose kernels are odd, wrong on every case with an even one."""
    split = _split(cases, _odd_kernel)
    if split is None:
        return None
    return Diagnosis("odd_kernels_only", say(
        Msg.ODD_KERNELS_ONLY, passed=_names(split[0]), failed=_names(split[1])))


def even_sizes_only(cases: Sequence[CaseOutcome]) -> Diagnosis | None:
    """Right on every case whose first input is even in height and width, wrong on every
    case where one of them is odd."""
    split = _split(cases, lambda c: all(n % 2 == 0 for n in _spatial(c.input_shape)))
    if split is None:
        return None
    return Diagnosis("even_sizes_only", say(
        Msg.EVEN_SIZES_ONLY, passed=_names(split[0]), failed=_names(split[1])))


def one_value_only(cases: Sequence[CaseOutcome]) -> Diagnosis | None:
    """Right on every case where an argument has one value (a scalar's number, an array's
    shape; shown by a visible case), wrong on every case where it has another: the code
    ignores or misuses that argument (a stride of 1 only, a kernel of 3 only). A shape needs
    two cases that pass with it: one case alone has a shape of its own for every array."""
    return _told("one_value_only", Msg.ONE_VALUE_ONLY, _one_value(cases, lambda c: c.passed))


def raises_only(cases: Sequence[CaseOutcome]) -> Diagnosis | None:
    """The code raises an error on every case where an argument has another value than on
    the cases where it runs (whatever its outputs there), and on no other: an even kernel
    where it indexes around a centre, an input that is not square where it uses one length
    for both sides, a kernel or a stride other than the one written in the code. What it
    computes where it runs is the other diagnoses' to explain."""
    ran: Callable[[CaseOutcome], bool] = lambda c: not c.raised  # noqa: E731
    if all(ran(c) for c in cases) or not any(ran(c) for c in cases):
        return None
    split = _split(cases, _odd_kernel, ran)
    if split is not None:
        return Diagnosis("raises_on_even_kernels", say(
            Msg.ODD_KERNELS_RAISE, passed=_names(split[0]), failed=_names(split[1])))
    split = _split(cases, lambda c: _sides(c) == 1 if _sides(c) else None, ran)
    if split is not None:
        return Diagnosis("raises_on_non_square", say(
            Msg.NON_SQUARE_RAISE, passed=_names(split[0]), failed=_names(split[1])))
    found = [f for f in _one_value(cases, ran) if len(f[2][0]) >= 2]  # one case may be luck
    return _told("raises_on_other_values", Msg.ONE_VALUE_RAISES, found)


Found = list[tuple[str, object, tuple[list[CaseOutcome], list[CaseOutcome]]]]


def _one_value(cases: Sequence[CaseOutcome], works: Callable[[CaseOutcome], bool]) -> Found:
    """Each argument with one value on every case that ``works`` (shown by a visible one) and
    another on every case that does not, with that split of the cases."""
    values = [dict(c.values) for c in cases]
    found: Found = []
    for name in values[0] if values else {}:
        right = [v.get(name) for v, c in zip(values, cases, strict=True) if works(c)]
        shown_by = {v.get(name) for v, c in zip(values, cases, strict=True)
                    if works(c) and c.visible}
        if len(set(right)) != 1 or set(right) != shown_by \
                or (name.endswith(SHAPE) and len(right) < 2):
            continue
        split = _split(cases, _where(name, right[0]), works)
        if split is not None:
            found.append((name, right[0], split))
    return found


def _told(code: str, words: Msg, found: Found) -> Diagnosis | None:
    """The diagnosis of the arguments ``found`` with one value, split as the first one splits
    the cases; None when none was."""
    if not found:
        return None
    passed, failed = found[0][2]
    return Diagnosis(code, say(
        words, passed=_names(passed), failed=_names(failed),
        condition=" and ".join(f"{_label(n)} is {_value(v)}" for n, v, _ in found),
        names=" and ".join(_label(n) for n, _, _ in found)))


def _label(name: str) -> str:
    return f"`{name.removesuffix(SHAPE)}`'s shape" if name.endswith(SHAPE) else f"`{name}`"


def _value(value: object) -> str:
    return show_shape(value) if isinstance(value, tuple) else shown(value)  # type: ignore[arg-type]


def fixed_shape(cases: Sequence[CaseOutcome]) -> Diagnosis | None:
    """The same output shape in every visible case that has one, where the expected shapes
    differ: the output's size does not follow the inputs (numbers written in the code). Three
    such cases, or two where it is no case's expected shape: two cases alone may share a size
    that the code does make from the inputs (the height of both), one of them rightly."""
    shaped = [c for c in cases if c.visible and c.sized is not None]
    shapes = {c.sized for c in shaped}
    expected = list(dict.fromkeys(c.expected_shape for c in shaped))
    got = shaped[0].sized if shaped else None
    if len(shaped) < 2 or len(shapes) != 1 or len(expected) < 2 or not got or not all(got):
        return None  # (a number, or an empty array, is not a size written in the code)
    if len(shaped) == 2 and got in expected:
        return None
    by_inputs: dict[object, set[tuple[int, ...]]] = {}
    for case in shaped:  # the same arrays' shapes, other expected shapes: a scalar sets it
        inputs = tuple(v for name, v in case.values if name.endswith(SHAPE))
        by_inputs.setdefault(inputs or case.shapes, set()).add(case.expected_shape)
    if any(len(shapes) > 1 for shapes in by_inputs.values()):
        return None  # (a stride the code ignores: ``one_value_only``'s)
    arrays = [name for name, _ in shaped[0].values if name.endswith(SHAPE)]
    return Diagnosis("fixed_shape", say(
        Msg.FIXED_SHAPE, got_shape=show_shape(got), cases=_names(shaped),
        expected=", ".join(show_shape(e) for e in expected),
        example=arrays[0] if arrays else "x.shape"))


def _where(name: str, value: object) -> Callable[[CaseOutcome], bool]:
    """Whether a case's argument ``name`` (a scalar's, or an array's shape) is ``value``."""
    return lambda case: dict(case.values).get(name) == value


def _split(cases: Sequence[CaseOutcome], holds: Callable[[CaseOutcome], bool | None],
           works: Callable[[CaseOutcome], bool] = lambda c: c.passed,
           ) -> tuple[list[CaseOutcome], list[CaseOutcome]] | None:
    """The cases where ``holds`` is True and those where it is False (None: neither), when
    every one of the first ``works`` (passed, unless said) and none of the second does: a
    pattern across cases."""
    right = [c for c in cases if holds(c) is True]
    wrong = [c for c in cases if holds(c) is False]
    if not right or not wrong or not all(works(c) for c in right) \
            or any(works(c) for c in wrong):
        return None
    return right, wrong
