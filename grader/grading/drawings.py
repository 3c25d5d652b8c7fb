"""The visible cases' arrays as a grading saw them, kept with its report so that the report
page draws them without running anything: each visible case's expected output, the learner's
output (as float64, when it was an array of real numbers, and not much larger than the
expected one) and what the learner's code raised.

Hidden cases have none: only what a learner may see is kept. The text is JSON, the arrays'
bytes in base64 (float64, little-endian). It is read back as data that may be damaged, and
never raises: an entry that does not parse is left out (that case gets no picture), and a
text that is not such a record at all reads as None.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.sandbox.base import LearnerError

# An expected output larger than this (elements) is not kept: its case has no picture.
MOST_ELEMENTS = 1 << 16
# The learner's output is kept up to this many times the expected one's elements (and at
# least FEW elements): a learner cannot make the record much larger than an honest one.
GOT_FACTOR = 4
FEW = 1 << 12
_FORMAT = 1


@dataclass(frozen=True)
class Drawing:
    expected: np.ndarray
    got: np.ndarray | None  # None: no array of real numbers (an error, an invalid output)
    error: LearnerError | None = None  # what the learner's code raised in this case
    too_large: bool = False  # the learner's output was an array too large to keep


@dataclass
class Drawings:
    """By visible case name, its drawing; filled by ``grade``."""

    cases: dict[str, Drawing] = field(default_factory=dict)

    def keep(self, name: str, expected: np.ndarray, got: np.ndarray | None,
             error: LearnerError | None) -> None:
        """Keep a case's arrays; none when its expected output is too large to draw."""
        kept = as_drawn(expected, MOST_ELEMENTS)
        if kept is None:
            return
        most = max(GOT_FACTOR * kept.size, FEW)
        drawn = as_drawn(got, most)
        self.cases[name] = Drawing(kept, drawn, error,
                                   too_large=drawn is None and as_drawn(got) is not None)

    def encode(self) -> str:
        return json.dumps({"format": _FORMAT, "cases": {
            name: {"expected": _array(d.expected), "got": _array(d.got),
                   "too_large": d.too_large, "error": None if d.error is None else {
                       "type": d.error.type, "message": d.error.message,
                       "line": d.error.line, "text": d.error.text}}
            for name, d in self.cases.items()}}, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> Drawings | None:
        """The drawings of ``text``; None when it is not a record of drawings."""
        try:
            data = json.loads(text or "null")
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or data.get("format") != _FORMAT \
                or not isinstance(data.get("cases"), dict):
            return None
        drawings = cls()
        for name, entry in data["cases"].items():
            drawing = _drawing(entry)
            if drawing is not None:
                drawings.cases[str(name)] = drawing
        return drawings


def as_drawn(array: np.ndarray | None, most: int | None = None) -> np.ndarray | None:
    """``array`` as float64, as a picture draws it; None when it holds no real numbers, or
    more than ``most`` elements."""
    if array is None or array.dtype.kind not in "biuf" \
            or (most is not None and array.size > most):
        return None
    return np.asarray(array, dtype=np.float64)


def _array(array: np.ndarray | None) -> dict[str, Any] | None:
    if array is None:
        return None
    data = np.ascontiguousarray(array, dtype="<f8").tobytes()
    return {"shape": list(array.shape), "data": base64.b64encode(data).decode("ascii")}


def _read_array(entry: object) -> np.ndarray | None:
    """An array written by ``_array``; raises ValueError when it is not one."""
    if entry is None:
        return None
    if not isinstance(entry, Mapping):
        raise ValueError("not an array")
    shape, data = entry.get("shape"), entry.get("data")
    if not isinstance(shape, list) or len(shape) > 32 or not isinstance(data, str) \
            or not all(type(n) is int and 0 <= n <= MOST_ELEMENTS for n in shape):
        raise ValueError("not an array")
    try:
        raw = base64.b64decode(data, validate=True)
    except binascii.Error as error:
        raise ValueError("not base64") from error
    if len(raw) != 8 * int(np.prod(shape, dtype=np.int64)) or len(raw) > 8 * MOST_ELEMENTS:
        raise ValueError("not of its shape")
    return np.frombuffer(raw, dtype="<f8").astype(np.float64).reshape(shape)


def _drawing(entry: object) -> Drawing | None:
    if not isinstance(entry, Mapping):
        return None
    try:
        expected = _read_array(entry.get("expected"))
        got = _read_array(entry.get("got"))
    except ValueError:
        return None
    if expected is None:
        return None
    error = entry.get("error")
    return Drawing(expected, got, LearnerError.from_header(error) if error is not None else None,
                   too_large=entry.get("too_large") is True)
