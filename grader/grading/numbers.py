"""How numbers, shapes, positions and element kinds are written in feedback."""

from __future__ import annotations

from collections.abc import Iterable

# What an array holds, by numpy's dtype kind, for "an array of ..."; any other, its dtype
ELEMENT_KINDS: dict[str, str] = {
    "b": "booleans", "c": "complex numbers", "O": "Python objects", "U": "strings", "S": "bytes",
}


def elements(kind: str, dtype: str) -> str:
    return ELEMENT_KINDS.get(kind) or f"dtype {dtype}"


def shape(dims: Iterable[int]) -> str:
    dims = list(dims)
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


def index(position: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(i)) for i in position) + "]"


def pair(expected: float, got: float, digits: int = 4) -> tuple[str, str]:
    """Two numbers printed with ``digits`` significant digits, or more until they read
    differently; at the end, Python's shortest round-trip form (repr), which always differs
    for different floats."""
    for places in range(digits, 18):
        a, b = f"{expected:.{places}g}", f"{got:.{places}g}"
        if a != b or expected == got:
            return a, b
    return repr(float(expected)), repr(float(got))


def shown(value: object) -> str:
    """A number as a learner would write it: 0, 3, 0.5, 1.25e-07."""
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else f"{number:.6g}"
