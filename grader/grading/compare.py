"""The trusted comparison of one case's output with the reference, step by step.

Each step has its own message, in the form "expected ... got ...": accepted type, numeric
kind, shape, finiteness, then values within the spec's tolerances, with how far off, where,
and how much of the output is wrong.

Tolerances are the case's, never the output's: they follow the spec and the expected output,
whatever dtype the learner returns. A value is right when
``|got - expected| <= atol + rtol * |expected| + floor``, with the spec's ``atol`` and
``rtol``, and a ``floor`` of ``PRECISION_ULPS * eps * max|expected|`` for the spec's
``compare.precision``, the shortest float an output may be computed in (float32 by default:
eps = 1.2e-7; 0 for float64). A sum of products in float32 is off by a few eps times the size
of its terms, not of its result: a value near zero that came from large terms is as far off as
the largest values, hence the floor relative to the largest expected value rather than to each
one. An output in a float shorter than that precision (float16, by default) is refused, with the
dtypes expected, before its values are looked at; integer outputs are exact, and compared as
they are.

A hidden case's verdict says only its status, in a fixed sentence: learner code that has seen a
hidden input could encode it in anything else (an exception's message or type name, an exit
status, the output's shape or values, where and how far they are off).
"""

from __future__ import annotations

import builtins
import math
import re
from dataclasses import dataclass

import numpy as np

from grader.catalog.spec import Comparison
from grader.grading.faults import frame_fault, signal_name
from grader.grading.messages import Msg, join, say
from grader.grading.numbers import elements, pair
from grader.grading.numbers import index as show_index
from grader.grading.numbers import shape as show_shape
from grader.grading.report import Status, TimeLimit
from grader.sandbox.base import CaseRun, Cause, Invalid, LearnerError, Limit


@dataclass(frozen=True)
class Verdict:
    status: Status
    message: str
    output_shape: list[int] | None = None
    max_abs_error: float | None = None


# How many units of the spec's precision, relative to the largest expected value, an output
# may be off (on top of the spec's own tolerances).
PRECISION_ULPS = 64
FLOATS = ("float64", "float32", "float16")  # longest first


def precision(got: np.ndarray, expected: np.ndarray | None = None) -> np.dtype:
    """The float type ``got`` was computed in, as far as the evidence goes: its own dtype, or
    float32 for float64 values that carry float32's rounding: every value is one float32
    holds exactly, while the right values (``expected``) are not all such, and the values
    are not whole numbers or short decimals (float32 holds 171 and 0.5 exactly, and so does
    any rounding, which is no sign of float32). Without ``expected``, its own dtype. What a
    report says of an output; never what it is compared with."""
    if got.dtype.kind != "f" or got.dtype.itemsize < 8 or expected is None or not got.size \
            or expected.shape != got.shape:
        return got.dtype
    with np.errstate(over="ignore", invalid="ignore"):
        values = got.astype(np.float64)
        if not np.isfinite(values).all() or not _held_by_float32(values) \
                or _held_by_float32(np.asarray(expected, dtype=np.float64)):
            return got.dtype
        if np.array_equal(values, np.round(values, SHORT_DECIMALS)):
            return got.dtype
    return np.dtype(np.float32)


SHORT_DECIMALS = 6  # values with no more decimals than this are no sign of float32


def _held_by_float32(values: np.ndarray) -> bool:
    return bool(np.array_equal(values.astype(np.float32).astype(np.float64), values))


def tolerance_precision(expected: np.ndarray, rules: Comparison) -> np.dtype:
    """The float whose rounding the tolerance allows: the spec's precision, or the expected
    output's own float when that is shorter."""
    kind = np.dtype(rules.precision)
    if expected.dtype.kind == "f" and expected.dtype.itemsize < kind.itemsize:
        return expected.dtype
    return kind


def too_coarse(got: np.ndarray, rules: Comparison) -> bool:
    """Whether ``got`` is a float shorter than the spec's precision (refused: a float16 output
    would otherwise be compared as if float16 were the exercise's precision)."""
    return got.dtype.kind == "f" and got.dtype.itemsize < np.dtype(rules.precision).itemsize


def accepted_floats(rules: Comparison) -> str:
    """The float dtypes an output may have, in words: "float64 (or float32)"."""
    kinds = FLOATS[:FLOATS.index(rules.precision) + 1]
    return kinds[0] + (f" (or {', '.join(kinds[1:])})" if len(kinds) > 1 else "")


def allowed_error(expected: np.ndarray, rules: Comparison) -> np.ndarray:
    """How far off each value may be: of ``expected`` and the spec's rules only (see the
    module's docstring)."""
    with np.errstate(over="ignore", invalid="ignore"):  # an infinite expected value: no bound
        allowed = rules.atol + rules.rtol * np.abs(expected)
    kind = tolerance_precision(expected, rules)
    if kind.itemsize < 8:
        finite = np.abs(expected[np.isfinite(expected)])
        scale = float(finite.max()) if finite.size else 0.0
        allowed = allowed + PRECISION_ULPS * float(np.finfo(kind).eps) * scale
    return allowed


def describe_error(error: LearnerError) -> str:
    text = say(Msg.ERROR_TEXT, type=error.type, message=error.message) if error.message \
        else error.type
    if error.line is None:
        return text
    if error.text:
        return say(Msg.ERROR_LINE_TEXT, error=text, line=error.line, text=error.text)
    return say(Msg.ERROR_LINE, error=text, line=error.line)


HIDDEN_MESSAGES: dict[Status, Msg] = {
    "passed": Msg.HIDDEN_PASSED,
    "wrong_shape": Msg.HIDDEN_WRONG_SHAPE,
    "wrong_values": Msg.HIDDEN_WRONG_VALUES,
    "invalid_output": Msg.HIDDEN_INVALID_OUTPUT,
    "error": Msg.HIDDEN_ERROR,
    "timeout": Msg.HIDDEN_TIMEOUT,
    "memory_limit": Msg.HIDDEN_MEMORY_LIMIT,
    "crashed": Msg.HIDDEN_CRASHED,
}


def builtin_exception(name: str) -> bool:
    """Whether ``name`` is one of Python's own exception classes (a closed list)."""
    candidate = getattr(builtins, name, None)
    return isinstance(candidate, type) and issubclass(candidate, BaseException)


def hidden_verdict(status: Status, error: LearnerError | None) -> Verdict:
    """A hidden case's verdict: its status, and a fixed sentence that names at most a builtin
    exception class."""
    if status == "error" and error is not None and builtin_exception(error.type):
        return Verdict(status, say(Msg.HIDDEN_RAISED, type=error.type))
    return Verdict(status, say(HIDDEN_MESSAGES[status]))


def compare(run: CaseRun, expected: np.ndarray, rules: Comparison, visible: bool,
            entry_point: str = "") -> Verdict:
    verdict = _compare(run, expected, rules, entry_point, excerpt=visible)
    if visible or run.cause is Cause.SYNTAX_ERROR:  # the grader's own parse: no input seen
        return verdict
    return hidden_verdict(verdict.status, run.error)


# What each time limit's verdict says; the number in it is the limit's own (see ``time_limit``).
_TIME_MESSAGES = {Limit.CASE_CPU: Msg.CASE_CPU, Limit.CASE_TIME: Msg.CASE_TIME,
                  Limit.TOTAL_TIME: Msg.TOTAL_TIME, Limit.CPU: Msg.CPU_TIME}


def time_limit(run: CaseRun) -> TimeLimit | None:
    """The time limit that stopped a case, as the report carries it; None for other ends."""
    if run.limit is None or run.limit is Limit.MEMORY or run.limit_value is None:
        return None
    cpu = run.limit in (Limit.CASE_CPU, Limit.CPU)
    case = run.limit in (Limit.CASE_CPU, Limit.CASE_TIME)
    return TimeLimit(kind="cpu" if cpu else "wall", seconds=run.limit_value,
                     scope="case" if case else "submission")


def stopped(run: CaseRun, entry_point: str = "") -> str:
    """Why a case gave no output, in words, from the run's facts."""
    if run.error is not None:
        error = describe_error(run.error)
        return say(Msg.MEMORY_ERROR if run.kind == "memory_limit" else Msg.RAISED, error=error)
    if run.cause is Cause.MISSING_ENTRY:
        return say(Msg.MISSING_ENTRY_CASE, entry=entry_point)
    if run.cause is Cause.SYNTAX_ERROR:
        return say(Msg.SYNTAX_ERROR_CASE)
    if run.cause is Cause.PROTOCOL:
        return say(Msg.PROTOCOL)
    if run.cause is Cause.SILENT:
        return say(Msg.SILENT)
    if run.cause is Cause.NOT_RUN:
        return say(Msg.NOT_RUN, limit=run.limit_value or 0.0)
    if run.limit in _TIME_MESSAGES:
        text = say(_TIME_MESSAGES[run.limit], limit=run.limit_value or 0.0)
        if run.waited >= 0.05:  # so that a limit of 10 s met after 25 s reads as it was
            text += say(Msg.NOT_COUNTED, seconds=round(run.waited, 1))
    elif run.limit is Limit.MEMORY:
        text = say(Msg.KILLED_FOR_MEMORY)
    elif run.signal is not None:
        text = say(Msg.SIGNAL, signal=signal_name(run.signal))
    elif run.exit_status is not None:
        text = say(Msg.EXITED, status=run.exit_status)
    else:
        text = say({"error": Msg.RAISED_UNKNOWN, "timeout": Msg.TOOK_TOO_LONG,
                    "memory_limit": Msg.OUT_OF_MEMORY}.get(run.kind, Msg.DIED))
    return say(Msg.WHILE_LOADING, what=text) if run.loading else text


def unusable(run: CaseRun) -> str:
    """What an invalid output was, in words, from the reason code and its parameters."""
    params = run.params
    if run.invalid is Invalid.TYPE and params["type"] == "NoneType":
        what = say(Msg.INVALID_NONE)
    elif run.invalid is Invalid.TYPE:
        what = say(Msg.INVALID_TYPE, type=params["type"])
    elif run.invalid is Invalid.NOT_AN_ARRAY:
        what = say(Msg.INVALID_NOT_AN_ARRAY, error=params["error"])
    elif run.invalid is Invalid.TUPLE:
        what = say(Msg.INVALID_TUPLE, count=params["count"], first=params["first"])
    elif run.invalid is Invalid.ELEMENTS:
        what = say(Msg.INVALID_ELEMENTS,
                   elements=elements(str(params["kind"]), str(params["dtype"])))
    elif run.invalid is Invalid.TOO_LARGE:
        stated = stated_shape(run)
        what = say(Msg.INVALID_TOO_LARGE_SHAPE if stated else Msg.INVALID_TOO_LARGE,
                   count=params["count"], limit=params["limit"],
                   shape=show_shape(stated) if stated else "")
    elif run.invalid is Invalid.UNREADABLE:
        what = say(Msg.INVALID_UNREADABLE, fault=frame_fault(params))
    else:
        what = say(Msg.INVALID_UNUSABLE)
    return say(Msg.INVALID, what=what)


_SHAPE = re.compile(r"\((\d{1,12}, )*\d{1,12},?\)")


def stated_shape(run: CaseRun) -> tuple[int, ...] | None:
    """The shape of an output refused as too large, when the child's word for it reads as a
    shape of as many elements as it counted, over the limit: the learner's own output, whose
    size alone may tell a mistake (a size written in the code); None for any other run."""
    if run.invalid is not Invalid.TOO_LARGE:
        return None
    shape, count, limit = (run.params.get(key) for key in ("shape", "count", "limit"))
    if not isinstance(shape, str) or not _SHAPE.fullmatch(shape):
        return None
    stated = tuple(int(n) for n in shape.strip("(),").split(", ") if n)
    if type(count) is not int or type(limit) is not int \
            or math.prod(stated) != count or count <= limit:
        return None
    return stated


_OUTPUT_KINDS = {"ndarray": Msg.A_NUMPY_ARRAY, "list": Msg.NESTED_LISTS, "number": Msg.A_NUMBER}


def _compare(run: CaseRun, expected: np.ndarray, rules: Comparison, entry_point: str,
             excerpt: bool = True) -> Verdict:
    """``excerpt``: wrong values show a window of them (a hidden case's words are replaced:
    drawing it would be wasted)."""
    if run.kind in ("error", "timeout", "memory_limit", "crashed"):
        return Verdict(run.kind, stopped(run, entry_point))
    if run.kind == "invalid":
        return Verdict("invalid_output", unusable(run))
    assert run.array is not None
    got = run.array
    shape = list(got.shape)
    if run.output_type not in rules.accept:
        wanted = join((say(_OUTPUT_KINDS[a]) for a in rules.accept), Msg.OR)
        given = say(_OUTPUT_KINDS.get(run.output_type or "", Msg.A_NUMPY_ARRAY))
        return Verdict("invalid_output", say(Msg.NOT_ACCEPTED, wanted=wanted, given=given), shape)
    if got.dtype.kind not in "iuf":
        return Verdict("invalid_output", say(Msg.NOT_NUMBERS, dtype=got.dtype), shape)
    if too_coarse(got, rules):
        return Verdict("invalid_output", say(Msg.TOO_COARSE, wanted=accepted_floats(rules),
                                             dtype=got.dtype), shape)
    if got.shape != expected.shape:
        if expected.ndim == 0:  # one number: an array of shape () is no way to say it
            message = say(Msg.WRONG_SHAPE_IN_ARRAY if got.size == 1
                          else Msg.WRONG_SHAPE_NOT_NUMBER, got=show_shape(got.shape),
                          count=got.size)
        elif got.ndim == 0:
            message = say(Msg.WRONG_SHAPE_NUMBER, expected=show_shape(expected.shape))
        else:
            message = say(Msg.WRONG_SHAPE, expected=show_shape(expected.shape),
                          got=show_shape(got.shape))
            if got.ndim != expected.ndim:
                message += say(Msg.WRONG_NDIM, got=got.ndim, expected=expected.ndim)
            elif got.size == 0:  # a slice that took nothing (x[n:-n] with n = 0), a range
                message += say(Msg.EMPTY_OUTPUT)
        return Verdict("wrong_shape", message, shape)
    allowed = allowed_error(expected, rules)
    got = got.astype(np.float64)
    finite = np.isfinite(got)
    if not finite.all():
        nan = int(np.isnan(got).sum())
        inf = int((~finite).sum()) - nan
        first = np.argwhere(~finite)[0]
        counts = join(([say(Msg.NAN_COUNT, count=nan)] if nan else [])
                      + ([say(Msg.INF_COUNT, count=inf)] if inf else []), Msg.AND)
        return Verdict(
            "invalid_output",
            say(Msg.NOT_FINITE_MANY if nan + inf > 1 else Msg.NOT_FINITE_ONE,
                counts=counts, index=show_index(first))
            + say(Msg.NOT_FINITE_CAUSE if nan else Msg.INFINITE_CAUSE),
            shape,
        )
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN are what they mean here
        error = np.abs(got - expected)
        # np.isclose's rule, for a finite ``got``: an infinite or NaN expected value is never met
        wrong = ~((error <= allowed) & np.isfinite(expected))
    max_error = float(error.max()) if error.size else 0.0
    if not wrong.any():
        return Verdict("passed", say(Msg.PASSED, count=got.size), shape, max_error)
    flat = int(np.argmax(np.where(wrong, error, -1.0)))
    worst = tuple(int(i) for i in np.unravel_index(flat, got.shape))
    count = int(wrong.sum())
    want_text, got_text = pair(float(expected[worst]), float(got[worst]))
    if got.ndim == 0:  # one number: no index, no excerpt
        return Verdict("wrong_values", say(Msg.WRONG_VALUE, expected=want_text, got=got_text),
                       shape, max_error)
    message = say(Msg.WRONG_VALUES, count=count, size=got.size, percent=100 * count / got.size,
                  max_error=max_error, index=show_index(worst), expected=want_text, got=got_text)
    if excerpt:
        message += "\n" + values_around(expected, got, worst)
    return Verdict("wrong_values", message, shape, max_error)


def values_around(expected: np.ndarray, got: np.ndarray, center: tuple[int, ...],
                  radius: int = 1) -> str:
    """A small window of expected and got values around ``center``."""
    window = tuple(
        slice(max(0, int(c) - radius), min(n, int(c) + radius + 1))
        for c, n in zip(center, expected.shape, strict=True)
    )
    start = show_index(s.start for s in window)

    def show(a: np.ndarray) -> str:
        return np.array2string(a[window], precision=3, suppress_small=True, floatmode="fixed")

    return say(Msg.EXCERPT, start=start, expected=show(expected), got=show(got))


def matches(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> bool:
    """Whether an output equals a mistake model's output within tolerance."""
    if got.shape != candidate.shape or got.dtype.kind not in "iuf" or too_coarse(got, rules):
        return False
    allowed = allowed_error(candidate, rules)
    got = got.astype(np.float64)
    if not np.isfinite(got).all():
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.all((np.abs(got - candidate) <= allowed) & np.isfinite(candidate)))
