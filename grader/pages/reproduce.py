"""A visible case's inputs as Python a learner can copy and run: exact values (floats in
their shortest round-trip form), each array's dtype, and the call of their function.

Only visible cases' inputs ever reach this module (``grader.pages.case_outputs`` keeps no
hidden one); arrays too large to read are named, not listed.
"""

from __future__ import annotations

import numpy as np

from grader.grading.messages import Msg, say

MAX_LISTED = 1024  # values of one argument written out; a larger one is named only


def _number(value: np.generic | np.ndarray) -> str:
    """A value in Python's own spelling: an int, or a float's shortest round-trip form."""
    if value.dtype.kind in "iub":
        return str(int(value))
    return repr(float(value))


def _nested(array: np.ndarray, indent: int) -> str:
    """An array as nested lists, one innermost row a line."""
    if array.ndim == 1:
        return "[" + ", ".join(_number(v) for v in array) + "]"
    pad = " " * (indent + 4)
    rows = (",\n" + pad).join(_nested(row, indent + 4) for row in array)
    return f"[\n{pad}{rows},\n{' ' * indent}]"


def argument_code(name: str, value: np.ndarray) -> str:
    """``name = ...``: a Python number for a scalar, ``np.array(..., dtype=...)`` for an
    array, or a comment when it has too many values to list."""
    if value.ndim == 0:
        return f"{name} = {_number(value)}"
    if value.size > MAX_LISTED:
        return "# " + say(Msg.PAGE_TOO_MANY_VALUES, name=name, count=value.size)
    return f'{name} = np.array({_nested(value, 0)}, dtype="{value.dtype.name}")'


def reproduce(entry_point: str, inputs: tuple[tuple[str, np.ndarray], ...]) -> str:
    """A script that calls ``entry_point`` on one case's inputs and prints the result."""
    lines = ["import numpy as np", "", "# " + say(Msg.PAGE_REPRODUCE_CALL, entry=entry_point),
             ""]
    lines += [argument_code(name, value) for name, value in inputs]
    names = ", ".join(name for name, _ in inputs)
    lines += ["", f"print({entry_point}({names}))"]
    return "\n".join(lines) + "\n"
