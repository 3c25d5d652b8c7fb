"""The search for an explanation, on plain arrays: candidates, generic parts, and every visible
case (passed ones too) as evidence for or against."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from grader.catalog.spec import INPUT_CHANGES, Comparison
from grader.grading.diagnose import fit_name
from grader.grading.explain import Case, explain, search
from grader.grading.parts import TRANSFORMS, keeps, transformed_arguments, variants
from grader.grading.wording import part_message

RULES = Comparison()
RNG = np.random.default_rng(11)


def xcorr(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return np.einsum("ijkl,kl->ij", sliding_window_view(image, kernel.shape), kernel)


IMAGE = RNG.normal(size=(9, 11))
KERNEL = RNG.normal(size=(3, 3))
EXPECTED = xcorr(IMAGE, KERNEL)
FLIPPED = xcorr(IMAGE, KERNEL[::-1, ::-1])


def best(got: np.ndarray, expected: np.ndarray = EXPECTED,
         candidates: dict[str, np.ndarray] | None = None) -> str | None:
    found, _ = explain([Case("a", expected, got, False, lambda: candidates or {})], RULES)
    return None if found is None else fit_name(found.any_fit)


def test_the_last_row_and_column_left_at_zero() -> None:
    got = EXPECTED.copy()
    got[-1, :] = 0
    got[:, -1] = 0
    assert best(got) == "edges_zero"


def in_image_shaped_zeros(short: int) -> np.ndarray:
    """An output as large as the image, the right values in its top-left corner, and loops
    ``short`` windows short of the output's edge (``range(h - 2 - short)``)."""
    got = np.zeros(IMAGE.shape)
    rows, cols = EXPECTED.shape[0] - short, EXPECTED.shape[1] - short
    got[:rows, :cols] = EXPECTED[:rows, :cols]
    return got


@pytest.mark.parametrize("short", [1, 2])
def test_the_right_values_in_a_corner_with_loops_that_stop_short(short: int) -> None:
    found, _ = explain([Case("a", EXPECTED, in_image_shaped_zeros(short), False, dict)], RULES)
    assert found is not None and fit_name(found.any_fit) == "corner_short"
    [part] = found.any_fit.parts
    assert part.fields["short"] == (short, short)
    message = part_message(part, [IMAGE, KERNEL])
    assert "top-left corner of an array of shape (9, 11)" in message
    assert f"miss their last {'row and column' if short == 1 else '2 rows and 2 columns'}:" \
        in message
    assert best(in_image_shaped_zeros(0)) == "valid_in_corner"  # none short: a corner alone


def test_a_known_mistake_whose_changed_values_the_zero_edges_hide_is_not_named() -> None:
    """Windows that wrap round past the last row and column (a circular correlation, of the
    image's shape) differ from the right values only there: with those rows and columns left
    at zero, the mistake explains nothing the right values do not."""
    wrapped = np.pad(IMAGE, [(0, 2), (0, 2)], mode="wrap")
    circular = xcorr(wrapped, KERNEL)
    got = in_image_shaped_zeros(1)
    assert best(got, candidates={"circular": circular}) == "corner_short"
    fits = search(got, EXPECTED, {"circular": circular}, RULES)
    assert "circular+edges_zero" not in [fit_name(f) for f in fits]
    shown = circular.copy()  # some of its wrapped values in view: then it explains them
    shown[-1, :] = 0
    shown[:, -1] = 0
    fits = search(shown, EXPECTED, {"circular": circular}, RULES)
    assert "circular+edges_zero" in [fit_name(f) for f in fits]


def test_zero_edges_on_a_known_mistake_s_output_do_not_claim_the_right_shape() -> None:
    got = EXPECTED.copy()
    got[-1, :] = 0
    found, _ = explain([Case("a", EXPECTED, got, False, dict)], RULES)
    assert found is not None
    [part] = found.any_fit.parts
    assert part_message(part, [IMAGE, KERNEL]).startswith(
        "your output has the right shape and the right values, except its last row")
    assert part_message(part, [IMAGE, KERNEL], values="that mistake's values").startswith(
        "your output has that mistake's values, except its last row")


def test_a_known_mistake_s_values_in_a_corner_are_not_told_to_be_returned_alone() -> None:
    """Returning the part that holds a known mistake's output would return that mistake (an
    output made the right size, filled by loops over the unpadded image's range)."""
    got = in_image_shaped_zeros(0)
    found, _ = explain([Case("a", EXPECTED, got, False, dict)], RULES)
    assert found is not None
    [part] = found.any_fit.parts
    assert part_message(part, [IMAGE, KERNEL]).endswith(
        "corner of an array of shape (9, 11) (the rest is zeros); return only that part")
    assert part_message(part, [IMAGE, KERNEL], values="that mistake's values").endswith(
        "corner of an array of shape (9, 11) (the rest is zeros)")


def test_values_moved_by_two_rows_and_columns_with_anything_at_the_edge() -> None:
    got = RNG.normal(size=EXPECTED.shape)
    got[2:, 2:] = EXPECTED[:-2, :-2]
    assert best(got) == "shifted"


def test_a_circular_shift_is_a_roll() -> None:
    assert best(np.roll(EXPECTED, (1, -2), axis=(0, 1))) == "rolled"


def test_values_at_every_other_index_of_a_zero_array() -> None:
    got = np.zeros((2 * EXPECTED.shape[0], 2 * EXPECTED.shape[1]))
    got[::2, ::2] = EXPECTED
    assert best(got) == "spread"


@pytest.mark.parametrize(("change", "name"), [
    (lambda e: np.round(e, 2), "rounded"),
    (np.trunc, "truncated"),
    (lambda e: e / 9, "scaled_output"),
    (lambda e: e.T, "transposed"),
    (lambda e: np.round(e, 1).T, "transposed+rounded"),
    (lambda e: np.maximum(e, 0), "negatives_zeroed"),
    (lambda e: e - 0.25, "offset_output"),
    (lambda e: (e - e.min()) / (e.max() - e.min()), "rescaled_output"),
    (lambda e: 2 * e + 1, "rescaled_output"),
    (lambda e: np.pad(np.maximum(e, 0), 1), "valid_in_zero_ring+negatives_zeroed"),
])
def test_what_was_done_to_the_values(change, name) -> None:
    assert best(change(EXPECTED)) == name


def test_a_known_mistake_composed_with_a_placement() -> None:
    """A flipped kernel (the exercise's mistake) in a same-size output with a zero border."""
    got = np.pad(FLIPPED, 1)
    assert best(got, candidates={"flipped_kernel": FLIPPED}) == "flipped_kernel+valid_in_zero_ring"


def test_three_parts_are_past_the_search() -> None:
    """A flipped kernel, shifted, and rounded: no explanation of at most two parts fits."""
    got = RNG.normal(size=EXPECTED.shape)
    got[1:, :] = np.round(FLIPPED[:-1, :], 1)
    assert best(got, candidates={"flipped_kernel": FLIPPED}) is None


def test_nothing_fits_random_values() -> None:
    assert best(RNG.normal(size=EXPECTED.shape), candidates={"flipped_kernel": FLIPPED}) is None


def cases(failing: dict[str, tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]],
          passed: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]) -> list[Case]:
    made = [Case(name, want, got, False, lambda c=c: c) for name, (want, got, c)
            in failing.items()]
    made += [Case(name, want, want.copy(), True, lambda c=c: c) for name, (want, c)
             in passed.items()]
    return made


def test_a_passed_case_that_a_known_mistake_would_change_contradicts_it() -> None:
    """An output one row and column short on the failing case matches the mistake model
    'short' too; but 'short' would also have changed the passed case, so the generic
    explanation (the last row and column missing) is named instead."""
    other = RNG.normal(size=(6, 6))
    failing = {"fails": (EXPECTED, EXPECTED[:-1, :-1], {"short": EXPECTED[:-1, :-1]})}
    contradicted = {"passes": (other, {"short": other[:-1, :-1]})}
    found, _ = explain(cases(failing, contradicted), RULES)
    assert found is not None and fit_name(found.any_fit) == "missing_edge"
    # where the model leaves the passed case as it is, the model is named
    allowed = {"passes": (other, {"short": other})}
    found, _ = explain(cases(failing, allowed), RULES)
    assert found is not None and fit_name(found.any_fit) == "short"


def test_a_passed_case_contradicts_a_shift_but_not_a_short_loop() -> None:
    """A shift changes every case; a loop that stops short changes only cases where the
    bound is wrong (a padding of 0 leaves it right)."""
    shifted = np.roll(EXPECTED, 1, axis=0)
    other = RNG.normal(size=(6, 6))
    found, _ = explain(cases({"fails": (EXPECTED, shifted, {})}, {"passes": (other, {})}), RULES)
    assert found is None
    edge = EXPECTED.copy()
    edge[-1] = 0
    found, _ = explain(cases({"fails": (EXPECTED, edge, {})}, {"passes": (other, {})}), RULES)
    assert found is not None and fit_name(found.any_fit) == "edges_zero"


def test_the_explanation_of_most_cases_wins_and_says_how_sure_it_is() -> None:
    other = xcorr(IMAGE[:7, :8], KERNEL)
    other_flipped = xcorr(IMAGE[:7, :8], KERNEL[::-1, ::-1])
    failing = {"a": (EXPECTED, FLIPPED, {"flipped_kernel": FLIPPED}),
               "b": (other, other_flipped, {"flipped_kernel": other_flipped})}
    found, own = explain(cases(failing, {}), RULES)
    assert found is not None and fit_name(found.any_fit) == "flipped_kernel"
    assert set(found.fits) == {"a", "b"} and found.confidence == 1.0
    assert set(own) == {"a", "b"}
    # one case left unexplained halves the confidence
    failing["b"] = (other, RNG.normal(size=other.shape), {"flipped_kernel": other_flipped})
    found, own = explain(cases(failing, {}), RULES)
    assert found is not None and found.confidence == 0.5 and set(own) == {"a"}


def test_values_left_loose_lower_the_confidence() -> None:
    got = RNG.normal(size=EXPECTED.shape)
    got[2:, 2:] = EXPECTED[:-2, :-2]
    found, _ = explain([Case("a", EXPECTED, got, False)], RULES)
    assert found is not None and 0.3 < found.confidence < 0.8


def test_known_mistakes_come_before_generic_parts_of_the_same_size() -> None:
    fits = search(EXPECTED.T, EXPECTED, {"transposed_output": EXPECTED.T}, RULES)
    names = [fit_name(f) for f in fits]
    assert names.index("transposed_output") < names.index("transposed")
    assert best(EXPECTED.T, candidates={"transposed_output": EXPECTED.T}) == "transposed_output"


def test_channels_first_outputs_move_along_their_last_two_axes() -> None:
    expected = RNG.normal(size=(3, 6, 7))
    got = expected.copy()
    got[:, -1, :] = 0
    got[:, :, -1] = 0
    assert best(got, expected) == "edges_zero"
    assert best(np.roll(expected, 1, axis=2), expected) == "rolled"
    assert best(np.roll(expected, 1, axis=0), expected) is None  # channels are not moved


def test_any_output_is_searched_without_error() -> None:
    """Fixed-seed fuzzing: outputs of every rank, shape and kind (zeros, repeated values,
    integers, huge and tiny numbers) against any expected array."""
    rng = np.random.default_rng(2024)
    makers = [
        lambda s: np.zeros(s), lambda s: np.ones(s), lambda s: rng.normal(size=s),
        lambda s: rng.integers(-3, 4, size=s), lambda s: rng.normal(size=s) * 1e300,
        lambda s: rng.normal(size=s) * 1e-300,
    ]
    for _ in range(300):
        ndim = int(rng.integers(0, 4))
        want_shape = tuple(int(n) for n in rng.integers(1, 7, size=ndim))
        got_shape = tuple(max(1, n + int(rng.integers(-2, 3))) for n in want_shape)
        expected = makers[int(rng.integers(0, 6))](want_shape).astype(np.float64)
        got = makers[int(rng.integers(0, 6))](got_shape)
        found, own = explain([Case("a", expected, got, False,
                                   lambda e=expected: {"m": e * 2})], RULES)
        assert (found is None) == (own == {})


def test_maps_kept_apart_or_added_up_along_an_axis() -> None:
    maps = RNG.normal(size=(3, 4, 5))
    assert best(maps, maps.sum(axis=0)) == "not_summed"
    assert best(maps.sum(axis=2), maps) == "summed"
    assert best(maps, maps.mean(axis=0)) is None  # a mean is no sum


@pytest.mark.parametrize("shape", [(0,), (0, 9), (9, 0), (0, 0, 3)])
def test_an_output_with_no_values_has_no_explanation(shape: tuple[int, ...]) -> None:
    # ``return []`` is an ordinary mistake: nothing to explain, and no error of the grader's
    assert best(np.zeros(shape)) is None


def changed(image: np.ndarray = IMAGE, kernel: np.ndarray = KERNEL):
    """The reference's outputs on the arguments with one changed, as an oracle gives them."""
    return [(part, xcorr(*args))
            for part, args in transformed_arguments((image, kernel), ("image", "kernel"))]


@pytest.mark.parametrize(("change", "name"), [
    (lambda k: k.T, "kernel_transposed"),
    (lambda k: k[::-1], "kernel_flipped_rows"),
    (lambda k: k[:, ::-1], "kernel_flipped_columns"),
    (lambda k: k[::-1, ::-1], "kernel_flipped"),
])
def test_an_argument_changed_before_the_right_computation(change, name) -> None:
    got = xcorr(IMAGE, change(KERNEL))
    found, _ = explain([Case("a", EXPECTED, got, False, dict, changed)], RULES)
    assert found is not None and fit_name(found.any_fit) == name


def test_an_argument_changed_composes_with_a_placement() -> None:
    """kernel.T in a 'same' output, zero-padded: two parts."""
    got = np.pad(xcorr(IMAGE, KERNEL.T), 1)
    found, _ = explain([Case("a", EXPECTED, got, False, dict, changed)], RULES)
    assert found is not None and fit_name(found.any_fit) == "kernel_transposed+valid_in_zero_ring"


def test_a_known_mistake_is_named_before_the_same_argument_change() -> None:
    """The exercise's flipped kernel and the generic flip of the kernel say the same: the
    known mistake, with its own hint, wins, and the generic one is no rival."""
    found, _ = explain([Case("a", EXPECTED, FLIPPED, False,
                             lambda: {"flipped_kernel": FLIPPED}, changed)], RULES)
    assert found is not None and fit_name(found.any_fit) == "flipped_kernel"
    assert found.rivals == []


def test_a_passed_case_contradicts_an_argument_change() -> None:
    other_image, other_kernel = RNG.normal(size=(7, 7)), RNG.normal(size=(3, 3))
    other = xcorr(other_image, other_kernel)
    made = [Case("fails", EXPECTED, xcorr(IMAGE, KERNEL.T), False, dict, changed),
            Case("passes", other, other.copy(), True, dict,
                 lambda: changed(other_image, other_kernel))]
    assert explain(made, RULES)[0] is None


def test_arguments_are_changed_only_where_the_change_keeps_their_shape_and_changes_them() -> None:
    symmetric = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]])
    names = [part.name for part, _ in transformed_arguments(
        (RNG.normal(size=(4, 6)), symmetric, np.arange(3.0)), ("image", "kernel", "bias"))]
    assert names == ["image_flipped", "image_flipped_rows", "image_flipped_columns"]
    assert set(TRANSFORMS) == set(INPUT_CHANGES)


def test_negatives_set_to_zero_are_allowed_only_by_outputs_without_negatives() -> None:
    part = next(p for p, _ in variants(EXPECTED, EXPECTED.dtype) if p is not None)
    assert part.name == "negatives_zeroed"
    assert not keeps(part, EXPECTED) and keeps(part, np.abs(EXPECTED))


def test_an_argument_change_is_said_with_code_that_makes_it() -> None:
    """kernel.T on a matrix; on the last two axes of a stack of kernels, what .T would not do."""
    words = {}
    for args in ((IMAGE, KERNEL), (IMAGE, RNG.normal(size=(2, 3, 3, 3)))):
        for part, _ in transformed_arguments(args, ("image", "kernel")):
            words[(part.name, args[1].ndim)] = part_message(part, args)
    assert "as kernel.T does" in words[("kernel_transposed", 2)]
    assert "np.swapaxes(kernel, -1, -2)" in words[("kernel_transposed", 4)]
    assert "kernel[::-1] or np.flipud" in words[("kernel_flipped_rows", 2)]
    assert "kernel[..., ::-1, :]" in words[("kernel_flipped_rows", 4)]
    assert "np.convolve on each row" in words[("kernel_flipped_columns", 2)]


def test_a_case_s_own_explanation_names_no_mistake_that_leaves_that_case_as_it_is() -> None:
    """A known mistake that changes one case's output and not another's (the odd last row
    kept, on an image with no odd row): the submission's explanation names it, the case it
    leaves as it is gets the rest of the explanation alone."""
    other = RNG.normal(size=EXPECTED.shape)
    mistaken = EXPECTED.copy()
    mistaken[-1] += 1.0  # the mistake changes this case's last row
    cases = [Case("untouched", other, other * 2, False, lambda: {"odd_row_kept": other}),
             Case("changed", EXPECTED, mistaken * 2, False,
                  lambda: {"odd_row_kept": mistaken})]
    found, own = explain(cases, RULES)
    assert found is not None and fit_name(found.any_fit) == "odd_row_kept+scaled_output"
    assert set(found.fits) == {"untouched", "changed"}
    assert fit_name(own["changed"]) == "odd_row_kept+scaled_output"
    assert fit_name(own["untouched"]) == "scaled_output"


def test_a_known_mistake_s_values_moved_are_said_to_be_that_mistake_s() -> None:
    """The textbook image[i - a, j - b]: the flipped kernel's values moved by two rows and two
    columns; the output's value at [2, 2] is the flipped kernel's at [0, 0], not the expected
    one there."""
    from grader.grading.wording import fit_message

    got = RNG.normal(size=FLIPPED.shape)
    got[2:, 2:] = FLIPPED[:-2, :-2]
    found, _ = explain([Case("a", EXPECTED, got, False, lambda: {"flipped_kernel": FLIPPED})],
                       RULES)
    assert found is not None and fit_name(found.any_fit) == "flipped_kernel+shifted"
    message = fit_message(found.any_fit, None, [IMAGE, KERNEL])
    assert "your output at [2, 2] is that mistake's value at [0, 0]" in message
    assert "expected value" not in message


@pytest.mark.parametrize(("store", "rounding"), [
    (lambda e: np.clip(np.rint(e), 0, 255).astype(np.uint8), "rounded"),
    (lambda e: np.clip(e, 0, 255).astype(np.uint8), "truncated"),  # astype truncates
])
def test_values_clipped_to_a_narrow_integer_range(store, rounding) -> None:
    """An image tutorial's np.clip(out, 0, 255).astype(np.uint8): negatives cut off at 0, the
    rest rounded or truncated; not a wrap round the range, as a store alone would do."""
    found, _ = explain([Case("a", EXPECTED, store(EXPECTED), False, dict)], RULES)
    assert found is not None and fit_name(found.any_fit) == "integer_clipped"
    [part] = found.any_fit.parts
    assert part.fields["rounding"] == rounding
    assert "cut off at 0 and 255" in part_message(part, [IMAGE, KERNEL])
    wrapped = np.trunc(EXPECTED).astype(np.int64).astype(np.uint8)
    assert best(wrapped) == "integer_wrapped"


def test_a_missing_channel_is_not_told_to_check_the_window_s_loop_bounds() -> None:
    maps = RNG.normal(size=(3, *EXPECTED.shape))
    found, _ = explain([Case("a", maps, maps[:2], False, dict)], RULES)
    assert found is not None and fit_name(found.any_fit) == "missing_edge"
    [part] = found.any_fit.parts
    message = part_message(part, [IMAGE])
    assert "misses its last step along axis 0: shape (2, 7, 9) instead of (3, 7, 9)" in message
    assert "comes before the rows and columns" in message and "loops reach" not in message
    rows = part_message(explain([Case("a", maps, maps[:, :-1], False, dict)], RULES)[0]
                        .any_fit.parts[0], [IMAGE])  # type: ignore[union-attr]
    assert "your loops reach its last index" in rows
    assert "n - k + 1" not in rows  # no formula of one exercise's: a pooling's size is n // 2


@pytest.mark.parametrize("tail", [0, 1])
def test_each_value_over_a_block(tail: int) -> None:
    """A pooling that writes each window's result over the window, in a copy of the input:
    each value repeated along rows and columns; an odd size's last row and column, short of a
    block, left as they were."""
    got = np.repeat(np.repeat(EXPECTED, 2, axis=0), 3, axis=1)
    got = np.pad(got, [(0, tail), (0, tail)], constant_values=7.5)
    found, _ = explain([Case("a", EXPECTED, got, False, dict)], RULES)
    assert found is not None and fit_name(found.any_fit) == "blocks"
    [part] = found.any_fit.parts
    assert part.fields["counts"] == (2, 3) and part.fields["tail"] == bool(tail)
    message = part_message(part, [IMAGE])
    assert message.startswith("your output holds the right values, each over a 2 x 3 block")
    assert ("short of a block" in message) == bool(tail)
    assert best(got + 1.0) != "blocks"
    assert best(np.pad(got, [(0, 2), (0, 0)])) != "blocks"  # two rows more: a block's worth


@pytest.mark.parametrize("axis", [0, 1])
def test_each_row_or_column_repeated(axis: int) -> None:
    """The same row list appended once per column, inside the loop that fills it."""
    got = np.repeat(EXPECTED, 3, axis=axis)
    found, _ = explain([Case("a", EXPECTED, got, False, dict)], RULES)
    assert found is not None and fit_name(found.any_fit) == "repeated"
    [part] = found.any_fit.parts
    assert part.fields["count"] == 3
    word = "row" if axis == 0 else "column"
    assert f"each {word} of the right values 3 times over" in part_message(part, [IMAGE])
    assert best(np.repeat(EXPECTED, 3, axis=axis) + 1.0) != "repeated"


def test_a_corner_is_not_short_of_rows_that_are_zero_anyway() -> None:
    """The right output's last row is all zero (the image's last rows are): an output that
    holds every right value in its corner misses nothing there."""
    image = IMAGE.copy()
    image[-3:] = 0
    expected = xcorr(image, KERNEL)
    assert not expected[-1].any()
    got = np.zeros(image.shape)
    got[:expected.shape[0], :expected.shape[1]] = expected
    found, _ = explain([Case("a", expected, got, False, dict)], RULES)
    assert found is not None and fit_name(found.any_fit) == "valid_in_corner"
    assert found.confidence == 1.0 and not found.rivals


def test_a_vector_s_right_values_are_told_in_its_first_places_not_a_corner() -> None:
    expected = RNG.normal(size=6)
    got = np.append(expected, 0.0)
    found, _ = explain([Case("a", expected, got, False, dict)], RULES)
    assert found is not None and fit_name(found.any_fit) == "valid_in_corner"
    message = part_message(found.any_fit.parts[0], [expected])
    assert "are all there, in the first 6 places of an array of shape (7,) (the rest is " \
        "zeros); return only that part" in message
    assert "corner" not in message


def test_a_case_s_own_explanation_is_no_worse_for_leaving_a_mistake_out() -> None:
    """Only an explanation that fits the case as well replaces one that names a mistake the
    case does not show: not another mistake's, moved, with values left loose."""
    untouched, changed = RNG.normal(size=EXPECTED.shape), EXPECTED.copy()
    changed[-1] += 1.0  # "m" leaves A as it is, and changes B's last row

    def moved_up(got: np.ndarray) -> np.ndarray:  # "n": the output moved up a row
        return np.vstack([got[1:], RNG.normal(size=(1, got.shape[1]))])

    on_a, on_b = moved_up(2 * untouched), moved_up(2 * changed)
    cases = [Case("A", untouched, 2 * untouched, False, lambda: {"m": untouched, "n": on_a}),
             Case("B", EXPECTED, 2 * changed, False, lambda: {"m": changed, "n": on_b})]
    found, own = explain(cases, RULES)
    assert found is not None and fit_name(found.any_fit) == "m+scaled_output"
    assert own["A"].loose == 0.0 and fit_name(own["A"]) == "scaled_output"


def clipped_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 0, 255).astype(np.uint8)


def test_a_case_s_own_explanation_names_the_known_mistake_that_fits_it_as_well() -> None:
    """Same padding, then np.clip(...).astype(np.uint8): on an odd kernel the known mistake
    (same_padding, clipped) and a generic placement (the values inside a larger array,
    clipped) both fit. The generic one also fits an even kernel's case, padded otherwise,
    which the known mistake does not: it explains more cases and is chosen for the
    submission, but the odd kernel's case is told the known mistake, the more precise."""
    rng = np.random.default_rng(0)
    odd_image = rng.integers(0, 90, size=(7, 7)).astype(float)
    odd_kernel = rng.integers(-3, 4, size=(3, 3)).astype(float)
    even_image = rng.integers(0, 90, size=(8, 8)).astype(float)
    even_kernel = rng.integers(-3, 4, size=(2, 2)).astype(float)
    same = xcorr(np.pad(odd_image, 1), odd_kernel)  # the known mistake, on the odd kernel
    even_padded = xcorr(np.pad(even_image, 1), even_kernel)[:8, :8]  # 1 on every side
    cases = [
        Case("odd", xcorr(odd_image, odd_kernel), clipped_uint8(same), False,
             lambda: {"same_padding": same}),
        Case("even", xcorr(even_image, even_kernel), clipped_uint8(even_padded), False,
             lambda: {"same_padding": xcorr(np.pad(even_image, ((0, 1), (0, 1))),
                                            even_kernel)}),
    ]
    found, own = explain(cases, RULES)
    assert found is not None and fit_name(found.any_fit) == "valid_inside+integer_clipped"
    assert fit_name(own["odd"]) == "same_padding+integer_clipped"
    assert fit_name(own["even"]) == "valid_inside+integer_clipped"


def test_a_constant_output_that_a_clip_found_elsewhere_gives_is_that_clip() -> None:
    """An output all 0 (or all 255) where the clip that other cases show cuts every value of
    the expected output, or of a known mistake's, is that cut: not an output left unfilled,
    the words a constant output gets. A constant that no bound accounts for still is."""
    from grader.grading.explain import Fit
    from grader.grading.parts import Part
    from grader.grading.tally import _cut_off

    clip = Fit("", (Part("integer_clipped", {"dtype": "uint8", "rounding": "truncated",
                                             "low": 0, "high": 255}),), 0.0, 9, 0)
    relu = Fit("", (Part("negatives_zeroed"),), 0.0, 9, 0)
    negative = -np.abs(EXPECTED) - 1
    zeros = np.zeros(EXPECTED.shape, dtype=np.uint8)

    def case(expected: np.ndarray, got: np.ndarray, **candidates: np.ndarray) -> Case:
        return Case("a", expected, got, False, lambda: candidates)

    assert _cut_off(case(negative, zeros), [clip])
    assert _cut_off(case(negative, zeros.astype(float)), [relu])
    assert _cut_off(case(EXPECTED, zeros, same_padding=negative), [clip])  # a mistake's
    assert _cut_off(case(np.abs(EXPECTED) + 300, zeros + 255), [clip])
    assert not _cut_off(case(negative, zeros), [])  # no clip found
    assert not _cut_off(case(EXPECTED, zeros), [clip])  # some values are above 0
    assert not _cut_off(case(negative, zeros + 7), [clip])  # 7 is no bound


@pytest.mark.parametrize("how", ["max", "mean"])
def test_windows_returned_whole_are_told_to_be_reduced(how: str) -> None:
    """A pooling's 2 x 2 windows, (3, 3, 2, 2), never reduced to one value each."""
    image = RNG.normal(size=(6, 6))
    windows = image.reshape(3, 2, 3, 2).transpose(0, 2, 1, 3)
    expected = getattr(windows, how)(axis=(2, 3))
    found, _ = explain([Case("a", expected, windows, False, dict)], RULES)
    assert found is not None and fit_name(found.any_fit) == "not_reduced"
    [part] = found.any_fit.parts
    assert part.fields["how"] == how and part.fields["axes"] == (2, 3)
    assert f"take the {how} of each window" in part_message(part, [image])


def test_windows_whose_reduction_is_not_the_expected_output_are_not_told_so() -> None:
    windows = RNG.normal(size=(3, 3, 2, 2))
    assert best(windows, windows.sum(axis=(2, 3)) + 1.0) is None


def test_a_placement_on_values_all_cut_to_one_is_no_explanation() -> None:
    """Expected values all between -1 and 1, truncated to whole numbers, are all 0: any run
    of zeros in a larger output fits them, wherever it sits, so the place tells nothing."""
    expected = np.array([0.4, -0.7, 0.2, 0.9, -0.3, 0.5])
    got = np.array([-1, 0, 0, 0, 0, 0, 0, 0])
    assert best(got, expected) is None
