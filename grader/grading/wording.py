"""An explanation in words: each part's sentence (templates in ``grader.grading.messages``), a
known mistake's hint from its spec, and two parts joined into one sentence."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grader.catalog.spec import ExerciseSpec
from grader.grading.explain import Fit
from grader.grading.messages import Msg, join, say
from grader.grading.numbers import index as show_index
from grader.grading.numbers import shape as show_shape
from grader.grading.parts import Part

ORDINAL = {1: "st", 2: "nd", 3: "rd"}  # every 2nd, 3rd ... row (up to 20th)


def mistake_hint(spec: ExerciseSpec, code: str) -> str:
    """A known mistake's hint, or a pair's two hints in one sentence."""
    hints = {m.code: m.hint for m in spec.mistakes}
    parts = code.split("+")
    if len(parts) == 1:
        return hints[code]
    return say(Msg.COMBINED_MISTAKES, first=hints[parts[0]], second=hints[parts[1]])


def fit_message(fit: Fit, spec: ExerciseSpec | None, inputs: Sequence[np.ndarray]) -> str:
    """The whole explanation in one sentence."""
    pieces = [mistake_hint(spec, fit.model)] if fit.model and spec is not None else []
    changed = fit.model or any("transform" in part.fields for part in fit.parts)
    values = say(Msg.MISTAKE_VALUES if changed else Msg.RIGHT_VALUES)
    names = [argument.name for argument in spec.arguments] if spec is not None else []
    pieces += [part_message(part, inputs, values, names) for part in fit.parts]
    if len(pieces) == 1:
        return pieces[0]
    return say(Msg.COMPOSED, first=pieces[0], second="; and ".join(pieces[1:]))


def axis_word(axis: int, ndim: int, count: int = 1) -> str:
    """"row", "column" (the last two axes), or a step along another axis; with a count."""
    spatial = axis - max(0, ndim - 2) if ndim >= 2 else -1
    word = say(Msg.AXIS_ROWS if spatial == 0 else Msg.AXIS_COLUMNS if spatial == 1
               else Msg.AXIS_PLACE if ndim == 1 else Msg.AXIS_N, axis=axis)
    return word if count == 1 else f"{count} {word}s"


def _shapes(fields: dict[str, object]) -> dict[str, str]:
    return {"got_shape": show_shape(fields["got_shape"]),  # type: ignore[arg-type]
            "expected_shape": show_shape(fields["expected_shape"])}  # type: ignore[arg-type]


def part_message(part: Part, inputs: Sequence[np.ndarray], values: str = "",
                 names: Sequence[str] = ()) -> str:
    """One generic part's sentence; ``values`` says whose values it places (the right ones,
    by default, or a known mistake's)."""
    fields = part.fields
    name = part.name
    values = values or say(Msg.RIGHT_VALUES)
    right = values == say(Msg.RIGHT_VALUES)  # the candidate is the expected output
    if name in ("valid_in_zero_ring", "valid_in_corner", "valid_inside", "cropped"):
        return _placed(part, values)
    if name == "missing_edge":
        short: tuple[int, ...] = fields["short"]  # type: ignore[assignment]
        words = [axis_word(axis, len(short), n) for axis, n in enumerate(short) if n]
        outer = all(axis < len(short) - 2 for axis, n in enumerate(short) if n)
        # a known mistake's values cut short: its size is not the output's to aim for
        words_for = Msg.MISSING_OUTER if outer else Msg.MISSING_EDGE if right \
            else Msg.MISSING_EDGE_OF
        return say(words_for, what=" and ".join(words), values=values, **_shapes(fields))
    if name == "repeated":
        axis, ndim = fields["axis"], fields["ndim"]
        assert isinstance(axis, int) and isinstance(ndim, int)
        what = axis_word(axis, ndim) if ndim > 1 else say(Msg.AXIS_VALUE)
        return say(Msg.REPEATED, what=what, count=fields["count"], values=values,
                   **_shapes(fields))
    if name == "blocks":
        counts: tuple[int, int] = fields["counts"]  # type: ignore[assignment]
        tail = say(Msg.BLOCKS_TAIL) if fields["tail"] else ""
        return say(Msg.BLOCKS, block=f"{counts[0]} x {counts[1]}", values=values, tail=tail,
                   **_shapes(fields))
    if name == "corner_short":
        short = fields["short"]  # type: ignore[assignment]
        words = [axis_word(axis, len(short), n) for axis, n in enumerate(short) if n]
        return say(Msg.CORNER_SHORT, what=" and ".join(words), values=values, **_shapes(fields))
    if name == "edges_zero":
        return say(Msg.EDGES_ZERO, what=_bands(part), values=values,
                   shape=say(Msg.RIGHT_SHAPE_AND) if right else "")
    if name in ("shifted_by_one", "shifted", "rolled"):
        return _moved(part, values, right)
    if name == "not_reduced":
        return _not_reduced(part, values)
    if name in ("not_summed", "summed"):
        return say(Msg.NOT_SUMMED if name == "not_summed" else Msg.SUMMED, axis=fields["axis"],
                   values=values, **_shapes(fields))
    if name == "stacked":
        return say(Msg.STACKED, index=fields["index"], count=fields["count"], values=values,
                   **_shapes(fields))
    if name == "axes_moved":
        order: tuple[int, ...] = fields["order"]  # type: ignore[assignment]
        back = tuple(int(i) for i in np.argsort(order))
        return say(Msg.AXES_MOVED, values=values, back=back, **_shapes(fields))
    if name in ("extra_axes", "missing_axes"):
        count = int(fields["count"])  # type: ignore[call-overload]
        return say(Msg.EXTRA_AXES if name == "extra_axes" else Msg.MISSING_AXES,
                   axes="an axis" if count == 1 else f"{count} axes", values=values,
                   **_shapes(fields))
    if "transform" in fields:
        return _changed_input(part)
    if name == "offset_output":
        shift = float(fields["offset"])  # type: ignore[arg-type]
        return say(Msg.OFFSET, values=values, offset=f"{shift:.6g}")
    if name == "rescaled_output":
        return _rescaled(part, values)
    if name == "negatives_zeroed":
        return say(Msg.NEGATIVES_ZEROED, values=values)
    if name == "scaled_output":
        return _scaled(float(fields["factor"]), inputs, names)  # type: ignore[arg-type]
    simple = {"transposed": Msg.TRANSPOSED, "spread": Msg.SPREAD, "spread_cut": Msg.SPREAD_CUT,
              "truncated": Msg.TRUNCATED,
              "integer_truncated": Msg.INTEGER_TRUNCATED, "integer_rounded": Msg.INTEGER_ROUNDED,
              "integer_wrapped": Msg.INTEGER_WRAPPED, "integer_clipped": Msg.INTEGER_CLIPPED}
    if name in simple:
        if "stride" in fields:  # every 2nd, 3rd ... row; the number itself in an index
            stride = int(fields["stride"])  # type: ignore[call-overload]
            fields = {**fields, "nth": f"{stride}{ORDINAL.get(stride, 'th')}"}
        return say(simple[name], values=values, **fields)
    if name == "rounded":
        return say(Msg.ROUNDED, **fields) if part.decimals else say(Msg.ROUNDED_WHOLE)
    return name


# An input part's words, and the code that makes the change: on a matrix, then on the last two
# axes of an array of more dimensions.
HOW = {"transposed": (Msg.HOW_TRANSPOSED, "{a}.T", "np.swapaxes({a}, -1, -2)"),
       "flipped": (Msg.HOW_FLIPPED, "np.flip({a}) or {a}[::-1, ::-1]", "{a}[..., ::-1, ::-1]"),
       "flipped_rows": (Msg.HOW_FLIPPED_ROWS, "{a}[::-1] or np.flipud", "{a}[..., ::-1, :]"),
       "flipped_columns": (Msg.HOW_FLIPPED_COLUMNS, "{a}[:, ::-1] or np.fliplr",
                           "{a}[..., ::-1]")}


def _not_reduced(part: Part, values: str) -> str:
    """Windows kept whole: the reduction that gives ``values``, over which axes."""
    axes: tuple[int, ...] = part.fields["axes"]  # type: ignore[assignment]
    return say(Msg.NOT_REDUCED, how=str(part.fields["how"]), values=values, count=len(axes),
               axes=axes[0] if len(axes) == 1 else axes, **_shapes(part.fields))


def _changed_input(part: Part) -> str:
    """An input part: the argument it changed, and code that does that to it."""
    argument = str(part.fields["argument"])
    words, matrix, array = HOW[str(part.fields["transform"])]
    code = (matrix if part.fields.get("ndim", 2) == 2 else array).format(a=argument)
    return say(Msg.INPUT_CHANGED, argument=argument, how=say(words, code=code))


def _placed(part: Part, values: str) -> str:
    fields = part.fields
    offset: tuple[int, ...] = fields["offset"]  # type: ignore[assignment]
    if part.name == "valid_in_zero_ring":
        return say(Msg.VALID_IN_ZERO_RING, border=fields["border"], values=values,
                   **_shapes(fields))
    # a known mistake's values placed so: returning that part would return the mistake's
    # output (that an output of the right size holds a smaller one, its loops too short)
    right = values == say(Msg.RIGHT_VALUES)
    if part.name == "valid_in_corner":
        advice = say(Msg.RETURN_THAT_PART) if right else ""
        rest = say(Msg.REST_IS_ZEROS) if fields["zeros"] else ""
        expected: tuple[int, ...] = fields["expected_shape"]  # type: ignore[assignment]
        if len(expected) == 1:  # a vector has no corner: its first places
            return say(Msg.VALID_AT_START, rest=rest, values=values, advice=advice,
                       count=expected[0], **_shapes(fields))
        return say(Msg.VALID_IN_CORNER, rest=rest, values=values, advice=advice,
                   **_shapes(fields))
    if part.name == "cropped":
        return say(Msg.CROPPED, offset=show_index(offset), **_shapes(fields))
    if fields.get("centred"):  # the fix of the padding holds whoever's values are inside
        return say(Msg.VALID_CENTRED, offset=show_index(offset), values=values,
                   **_shapes(fields))
    advice = say(Msg.RETURN_THAT_SHAPE, **_shapes(fields)) if right else ""
    return say(Msg.VALID_INSIDE, offset=show_index(offset), values=values, advice=advice,
               **_shapes(fields))


def _bands(part: Part) -> str:
    bands: dict[tuple[int, int], int] = part.fields["bands"]  # type: ignore[assignment]
    ndim = int(part.fields["ndim"])  # type: ignore[call-overload]
    words = []
    for (axis, side), count in sorted(bands.items(), key=lambda item: (item[0][1], item[0][0])):
        if count:
            where = "last" if side else "first"
            words.append(f"{where} {axis_word(axis, ndim, count)}")
    return join(words, Msg.AND)


def _moved(part: Part, values: str, right: bool) -> str:
    shift: dict[int, int] = part.fields["shift"]  # type: ignore[assignment]
    ndim = max(shift) + 1
    got_index = [0] * ndim
    expected_index = [0] * ndim
    for axis, move in shift.items():
        got_index[axis], expected_index[axis] = (move, 0) if move > 0 else (0, -move)
    places = {"got_index": show_index(got_index), "expected_index": show_index(expected_index),
              "values": values,
              "whose": say(Msg.EXPECTED_VALUE if right else Msg.MISTAKE_VALUE)}
    moves = {a: m for a, m in shift.items() if m}
    if part.name == "shifted_by_one" and len(moves) == 1:
        axis, move = next(iter(moves.items()))
        return say(Msg.SHIFTED, axis=axis_word(axis, ndim),
                   direction=say(Msg.DIRECTION_DOWN if move > 0 else Msg.DIRECTION_UP),
                   **places)
    what = join((say(Msg.MOVE, count=abs(m), axis=axis_word(a, ndim),
                     direction=say(Msg.DIRECTION_DOWN if m > 0 else Msg.DIRECTION_UP))
                 for a, m in moves.items()), Msg.AND)
    return say(Msg.ROLLED if part.name == "rolled" else Msg.SHIFTED_BY, what=what, **places)


def _rescaled(part: Part, values: str) -> str:
    """A factor and a term: said as a min-max normalisation when the output runs over [0, 1]
    or [0, 255], as the factor and the term otherwise."""
    low, high = float(part.fields["low"]), float(part.fields["high"])  # type: ignore[arg-type]
    for bounds in ((0.0, 1.0), (0.0, 255.0)):
        if abs(low - bounds[0]) < 1e-6 and abs(high - bounds[1]) < 1e-6 * bounds[1]:
            return say(Msg.RESCALED_RANGE, values=values, low=f"{low:g}", high=f"{high:g}")
    factor, shift = float(part.fields["factor"]), float(part.fields["offset"])  # type: ignore[arg-type]
    return say(Msg.RESCALED, values=values, factor=f"{factor:.6g}", offset=f"{shift:.6g}")


def _scaled(factor: float, inputs: Sequence[np.ndarray], names: Sequence[str]) -> str:
    """A factor, said as 1/n of an input's size (a mean) or as one over its sum (normalised by
    it, named as the spec names it) when it is one."""
    shown = f"{factor:.6g}"
    for number, argument in enumerate(inputs, start=1):
        n = argument.size
        if n > 1 and abs(factor * n - 1) < 1e-6:
            return say(Msg.SCALED_MEAN, factor=shown, n=n)
        with np.errstate(all="ignore"):
            total = float(np.sum(argument))
        if total != 0 and abs(factor * total - 1) < 1e-6:
            name = names[number - 1] if number <= len(names) else f"argument {number}"
            return say(Msg.SCALED_SUM, factor=shown, name=name)
    return say(Msg.SCALED, factor=shown)
