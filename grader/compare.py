"""The trusted comparison of one case's output with the reference, step by step.

Each step has its own message, in the form "expected ... got ...": accepted type, numeric
kind, shape, finiteness, then values within the spec's tolerances, with how far off, where,
and how much of the output is wrong.

A hidden case's verdict says only its status, in a fixed sentence: learner code that has seen a
hidden input could encode it in anything else (an exception's message or type name, an exit
status, the output's shape or values, where and how far they are off).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from grader.report import Status
from grader.sandbox.base import CaseRun, LearnerError
from grader.spec import Comparison


@dataclass(frozen=True)
class Verdict:
    status: Status
    message: str
    output_shape: list[int] | None = None
    max_abs_error: float | None = None


def _shape(shape: Iterable[int]) -> str:
    dims = list(shape)
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


def _index(index: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def describe_error(error: LearnerError) -> str:
    text = f"{error.type}: {error.message}" if error.message else error.type
    if error.line is not None:
        text += f" (line {error.line}"
        text += f": {error.text})" if error.text else ")"
    return text


HIDDEN_MESSAGES: dict[Status, str] = {
    "passed": "hidden case: passed",
    "wrong_shape": "hidden case: your output does not have the expected shape",
    "wrong_values": "hidden case: some values of your output differ from the expected ones",
    "invalid_output": "hidden case: your output is not an accepted array of finite numbers",
    "error": "hidden case: your code raised an exception",
    "timeout": "hidden case: your code took too long",
    "memory_limit": "hidden case: your code ran out of memory",
    "crashed": "hidden case: the process running your code died",
}


def builtin_exception(name: str) -> bool:
    """Whether ``name`` is one of Python's own exception classes (a closed list)."""
    candidate = getattr(builtins, name, None)
    return isinstance(candidate, type) and issubclass(candidate, BaseException)


def hidden_verdict(status: Status, error: LearnerError | None) -> Verdict:
    """A hidden case's verdict: its status, and a fixed sentence that names at most a builtin
    exception class."""
    if status == "error" and error is not None and builtin_exception(error.type):
        return Verdict(status, f"hidden case: your code raised {error.type}")
    return Verdict(status, HIDDEN_MESSAGES[status])


def compare(run: CaseRun, expected: np.ndarray, rules: Comparison, visible: bool) -> Verdict:
    verdict = _compare(run, expected, rules)
    return verdict if visible else hidden_verdict(verdict.status, run.error)


def _compare(run: CaseRun, expected: np.ndarray, rules: Comparison) -> Verdict:
    if run.kind == "error":
        if run.error is None:
            return Verdict("error", run.detail or "the code raised an exception")
        return Verdict("error", f"your code raised {describe_error(run.error)}")
    if run.kind == "timeout":
        return Verdict("timeout", run.detail or "the case took too long")
    if run.kind == "memory_limit":
        if run.error is not None:
            return Verdict("memory_limit", f"ran out of memory: {describe_error(run.error)}")
        return Verdict("memory_limit", run.detail or "ran out of memory")
    if run.kind == "crashed":
        return Verdict("crashed", run.detail or "the process died")
    if run.kind == "invalid":
        return Verdict("invalid_output",
                       f"expected a numpy array of numbers, got {run.detail or 'something else'}")
    assert run.array is not None
    got = run.array
    shape = list(got.shape)
    if run.output_type not in rules.accept:
        wanted = " or ".join("a numpy array" if a == "ndarray" else "nested lists"
                             for a in rules.accept)
        given = "nested lists" if run.output_type == "list" else "a numpy array"
        return Verdict("invalid_output", f"expected {wanted}, got {given}", shape)
    if got.dtype.kind not in "iuf":
        return Verdict("invalid_output", f"expected numbers, got an array of dtype {got.dtype}",
                       shape)
    if got.shape != expected.shape:
        message = f"expected an array of shape {_shape(expected.shape)}, got {_shape(got.shape)}"
        if got.ndim != expected.ndim:
            message += f" ({got.ndim}-D instead of {expected.ndim}-D)"
        return Verdict("wrong_shape", message, shape)
    got = got.astype(np.float64)
    finite = np.isfinite(got)
    if not finite.all():
        nan = int(np.isnan(got).sum())
        inf = int((~finite).sum()) - nan
        first = np.argwhere(~finite)[0]
        parts = [f"{nan} NaN" if nan else "", f"{inf} infinite" if inf else ""]
        return Verdict(
            "invalid_output",
            f"expected finite numbers, got {' and '.join(p for p in parts if p)} "
            f"value{'s' if nan + inf > 1 else ''}, the first at {_index(first)}",
            shape,
        )
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN are what they mean here
        error = np.abs(got - expected)
        # np.isclose's rule, for a finite ``got``: an infinite or NaN expected value is never met
        wrong = ~((error <= rules.atol + rules.rtol * np.abs(expected)) & np.isfinite(expected))
    max_error = float(error.max()) if error.size else 0.0
    if not wrong.any():
        return Verdict("passed", f"all {got.size} values match", shape, max_error)
    flat = int(np.argmax(np.where(wrong, error, -1.0)))
    worst = tuple(int(i) for i in np.unravel_index(flat, got.shape))
    count = int(wrong.sum())
    message = (
        f"{count} of {got.size} values ({100 * count / got.size:.0f}%) differ from the expected "
        f"ones; the largest error is {max_error:.4g}, at {_index(worst)}: "
        f"expected {float(expected[worst]):.4g}, got {float(got[worst]):.4g}\n"
        + excerpt(expected, got, worst)
    )
    return Verdict("wrong_values", message, shape, max_error)


def excerpt(expected: np.ndarray, got: np.ndarray, center: tuple[int, ...], radius: int = 1) -> str:
    """A small window of expected and got values around ``center``."""
    window = tuple(
        slice(max(0, int(c) - radius), min(n, int(c) + radius + 1))
        for c, n in zip(center, expected.shape, strict=True)
    )
    start = _index(s.start for s in window)

    def show(a: np.ndarray) -> str:
        return np.array2string(a[window], precision=3, suppress_small=True, floatmode="fixed")

    return f"expected, from {start}:\n{show(expected)}\ngot:\n{show(got)}"


def matches(got: np.ndarray, candidate: np.ndarray, rules: Comparison) -> bool:
    """Whether an output equals a mistake model's output within tolerance."""
    if got.shape != candidate.shape or got.dtype.kind not in "iuf":
        return False
    got = got.astype(np.float64)
    return bool(
        np.isfinite(got).all()
        and np.allclose(got, candidate, rtol=rules.rtol, atol=rules.atol)
    )
