"""Structural diagnoses on plain arrays: no exercise, only output, expected and inputs."""

from __future__ import annotations

import dataclasses

import numpy as np

from grader.grading.diagnose import (
    CaseOutcome,
    diagnose,
    even_sizes_only,
    fixed_shape,
    odd_kernels_only,
    one_value_only,
    raises_only,
    square_only,
)

RNG = np.random.default_rng(5)
EXPECTED = RNG.normal(size=(6, 8))
KERNEL = RNG.normal(size=(3, 3))
INPUTS = (RNG.normal(size=(8, 10)), KERNEL)


def code_of(got: np.ndarray, expected: np.ndarray = EXPECTED) -> str | None:
    found = diagnose(got, expected, INPUTS)
    return None if found is None else found.code


def test_the_right_values_in_a_ring_of_zeros() -> None:
    got = np.pad(EXPECTED, 1)
    found = diagnose(got, EXPECTED, INPUTS)
    assert found is not None and found.code == "valid_in_zero_ring"
    assert "1 wide" in found.message and "(8, 10)" in found.message


def test_the_right_values_in_the_top_left_corner() -> None:
    got = np.zeros((8, 10))
    got[:6, :8] = EXPECTED
    assert code_of(got) == "valid_in_corner"


def test_the_right_values_elsewhere_inside() -> None:
    got = np.ones((8, 10))
    got[2:, 1:9] = EXPECTED
    assert code_of(got) == "valid_inside"


def test_the_right_values_elsewhere_inside_are_to_be_returned_alone() -> None:
    got = np.ones((8, 10))
    got[2:, 1:9] = EXPECTED
    found = diagnose(got, EXPECTED, INPUTS)
    assert found is not None and "from [2, 1] on" in found.message
    assert "return only that (6, 8) part" in found.message and "padded" not in found.message


def test_the_right_values_in_the_middle_of_other_values_are_padding_s() -> None:
    """Padded on every side with other values than zeros (the image's edge repeated, a
    reflection): as far from each edge as from the opposite one, whatever the mode."""
    got = np.pad(EXPECTED, ((1, 1), (2, 2)), mode="edge")
    found = diagnose(got, EXPECTED, INPUTS)
    assert found is not None and found.code == "valid_inside"
    assert "from [1, 2] on, in the middle of an array of shape (8, 12)" in found.message
    assert "(as an input padded on every side gives); the output is only the part where " \
        "the kernel fits, of shape (6, 8): use no padding" in found.message


def test_a_zero_ring_is_one_along_the_axes_it_pads_only() -> None:
    """Channels of the same length, a border of zeros on the rows and columns: a ring."""
    expected = np.stack([EXPECTED, EXPECTED * 2 + 1])
    found = diagnose(np.pad(expected, ((0, 0), (1, 1), (1, 1))), expected, INPUTS)
    assert found is not None and found.code == "valid_in_zero_ring"
    assert "border of zeros 1 wide" in found.message


def test_values_padded_along_one_axis_only_are_not_said_to_be_padded_all_round() -> None:
    got = np.pad(EXPECTED, ((0, 0), (1, 1)), mode="edge")
    found = diagnose(got, EXPECTED, INPUTS)
    assert found is not None and found.code == "valid_inside"
    assert "from [0, 1] on" in found.message and "padded" not in found.message


def test_a_larger_array_without_the_right_values_is_not_diagnosed() -> None:
    assert code_of(np.pad(EXPECTED + 1, 1)) is None


def test_a_missing_last_row() -> None:
    found = diagnose(EXPECTED[:-1], EXPECTED, INPUTS)
    assert found is not None and found.code == "missing_edge"
    assert "last row" in found.message and "column" not in found.message.split(":")[0]


def test_values_moved_by_one_column() -> None:
    got = np.zeros_like(EXPECTED)
    got[:, :-1] = EXPECTED[:, 1:]
    found = diagnose(got, EXPECTED, INPUTS)
    assert found is not None and found.code == "shifted_by_one"
    assert "column" in found.message and "[0, 0] is the expected value at [0, 1]" in \
        found.message


def test_a_constant_factor_is_reported() -> None:
    found = diagnose(EXPECTED * 2.5, EXPECTED, INPUTS)
    assert found is not None and found.code == "scaled_output" and "2.5" in found.message


def test_a_factor_of_one_over_an_input_s_size_is_a_mean() -> None:
    found = diagnose(EXPECTED / 9, EXPECTED, INPUTS)
    assert found is not None and "1/9" in found.message and "mean" in found.message


def test_a_factor_of_one_over_an_input_s_sum_is_a_normalisation() -> None:
    found = diagnose(EXPECTED / KERNEL.sum(), EXPECTED, INPUTS)
    assert found is not None and "divided by the sum of the argument 2" in found.message


def test_an_integer_array_of_truncated_values() -> None:
    found = diagnose(np.trunc(EXPECTED).astype(int), EXPECTED, INPUTS)
    assert found is not None and found.code == "integer_truncated"
    assert code_of(np.round(EXPECTED).astype(int)) == "integer_rounded"
    assert code_of(np.zeros((6, 8), dtype=int)) == "integer_output"


def test_one_value_repeated_is_told_as_it_is_not_explained_by_what_wipes_values_out() -> None:
    small = EXPECTED / (2 * np.max(np.abs(EXPECTED)))  # every value strictly between -1 and 1
    found = diagnose(np.zeros((6, 8)), small, INPUTS)  # truncation "explains" zeros
    assert found is not None and found.code == "constant_output"
    assert "every value of your output is 0," in found.message
    assert code_of(np.full((6, 8), -0.695665)) == "constant_output"  # a scale near 0 fits
    assert code_of(np.full((6, 8), -3.0), np.minimum(EXPECTED, 0) - 3) == "constant_output"
    assert code_of(np.full((6, 8), 4.0), np.full((6, 8), 2.0)) == "scaled_output"  # it is
    assert code_of(np.full((1, 1), 4.0), EXPECTED[:1, :1] * 3) != "constant_output"


def test_an_integer_array_of_one_value_that_its_dtype_explains_is_not_a_constant() -> None:
    small = EXPECTED / (2 * np.max(np.abs(EXPECTED)))  # every value strictly between -1 and 1
    assert code_of(np.zeros((6, 8), dtype=np.int64), small) == "integer_truncated"
    assert code_of(np.zeros((6, 8), dtype=np.int8), small) == "integer_wrapped"
    assert code_of(np.zeros((6, 8)), small) == "constant_output"  # floats: no dtype to say


def test_values_stored_in_a_narrow_integer_array_wrap_round_its_range() -> None:
    large = EXPECTED * 100  # from about -250 to 250
    found = diagnose(np.trunc(large).astype(np.int64).astype(np.uint8), large, INPUTS)
    assert found is not None and found.code == "integer_wrapped"
    assert "uint8" in found.message and "wrapped round" in found.message
    assert code_of(np.trunc(large).astype(np.int16), large) == "integer_wrapped"  # all fit
    assert code_of(np.trunc(large).astype(np.int64), large) == "integer_truncated"


def test_values_stored_at_their_window_s_start_instead_of_their_index() -> None:
    got = np.zeros((6, 8))
    got[::2, ::2] = EXPECTED[:3, :4]  # out[x, y] for x, y the input's positions, stride 2
    found = diagnose(got, EXPECTED, INPUTS)
    assert found is not None and found.code == "spread_cut"
    assert "every 2nd row and column" in found.message and "(i // stride" in found.message
    other = np.zeros((6, 8))
    other[::2, ::2] = RNG.normal(size=(3, 4))
    assert code_of(other) is None
    spread = np.zeros((12, 16))
    spread[::2, ::2] = EXPECTED
    found = diagnose(spread, EXPECTED, INPUTS)
    assert found is not None and found.code == "spread"
    # the ordinal in the words, the number in the index
    assert "every 2nd row and column" in found.message and "image[i * 2 + a]" in found.message


def test_axes_of_length_one_kept_or_left_out() -> None:
    found = diagnose(EXPECTED[None, None], EXPECTED, INPUTS)  # a batch and a channel kept
    assert found is not None and found.code == "extra_axes"
    assert "(1, 1, 6, 8)" in found.message and "2 axes of length 1 more" in found.message
    assert "out.reshape((6, 8))" in found.message
    assert code_of(EXPECTED[:, None, :]) == "extra_axes"
    found = diagnose(EXPECTED, EXPECTED[None], INPUTS)
    assert found is not None and found.code == "missing_axes" and "an axis" in found.message
    assert code_of(EXPECTED.T[None]) is None  # the values in another order: no reshape fits


def test_an_unrelated_wrong_output_has_no_diagnosis() -> None:
    assert code_of(RNG.normal(size=(6, 8))) is None
    assert code_of(np.full((6, 8), np.nan)) is None


def outcome(name: str, shape: tuple[int, int], got: tuple[int, int] | None,
            passed: bool) -> CaseOutcome:
    return CaseOutcome(name, shape, (shape[0] - 2, shape[1] - 2), got, passed)


def test_right_on_square_inputs_only() -> None:
    found = square_only([outcome("a", (8, 8), (6, 6), True),
                         outcome("b", (12, 10), (8, 10), False)])
    assert found is not None and "height and width swapped" in found.message


def test_not_square_only_when_a_square_case_fails_or_a_shape_is_unexplained() -> None:
    assert square_only([outcome("a", (8, 8), (6, 6), False),
                        outcome("b", (12, 10), (8, 10), False)]) is None
    assert square_only([outcome("a", (8, 8), (6, 6), True),
                        outcome("b", (12, 10), (6, 6), False)]) is None
    assert square_only([outcome("a", (8, 8), (6, 6), True)]) is None


def test_square_only_with_channels_first_inputs() -> None:
    """(C, H, W) inputs are square when H == W, whatever C is."""
    found = square_only([
        CaseOutcome("1 -> 2, 6x6", (1, 6, 6), (2, 4, 4), (2, 4, 4), True),
        CaseOutcome("3 -> 3, 7x7", (3, 7, 7), (3, 5, 5), (3, 5, 5), True),
        CaseOutcome("2 -> 4, 8x6", (2, 8, 6), (4, 6, 4), (4, 6, 6), False)])
    assert found is not None and found.code == "square_inputs_only"
    assert "in 2 -> 4, 8x6, your output has shape (4, 6, 6) where (4, 6, 4) was expected: " \
        "one dimension used for both" in found.message


def test_hidden_cases_count_by_status_but_are_not_named() -> None:
    found = square_only([
        CaseOutcome("a", (8, 8), (6, 6), (6, 6), True),
        CaseOutcome("b", (12, 10), (10, 8), None, False),
        CaseOutcome("secret", (12, 8), (10, 6), None, False, visible=False)])
    assert found is not None and "(b, 1 hidden case)" in found.message
    assert "secret" not in found.message


def kernels(name: str, kernel: tuple[int, ...], passed: bool,
            visible: bool = True) -> CaseOutcome:
    return CaseOutcome(name, (3, 9, 9), (2, 7, 7), None, passed, ((3, 9, 9), kernel, (2,)),
                       visible)


def test_right_with_odd_kernels_only() -> None:
    found = odd_kernels_only([kernels("3x3", (2, 3, 3, 3), True),
                              kernels("5x5", (2, 3, 5, 5), True),
                              kernels("2x2", (2, 3, 2, 2), False, visible=False)])
    assert found is not None and found.code == "odd_kernels_only"
    assert "(3x3, 5x5)" in found.message and "(1 hidden case)" in found.message


def test_not_odd_kernels_only_when_an_odd_case_fails_or_no_case_has_an_even_kernel() -> None:
    assert odd_kernels_only([kernels("3x3", (2, 3, 3, 3), False),
                             kernels("2x2", (2, 3, 2, 2), False)]) is None
    assert odd_kernels_only([kernels("3x3", (2, 3, 3, 3), True),
                             kernels("5x5", (2, 3, 5, 5), False)]) is None


def test_right_on_even_sizes_only() -> None:
    found = even_sizes_only([outcome("a", (6, 6), (3, 3), True),
                             outcome("b", (8, 12), (4, 6), True),
                             outcome("c", (7, 5), None, False)])
    assert found is not None and found.code == "even_sizes_only"
    assert "even (a, b)" in found.message and "odd (c)" in found.message
    assert even_sizes_only([outcome("a", (6, 6), (3, 3), True),
                            outcome("c", (7, 5), (3, 2), True)]) is None  # odd ones pass
    assert even_sizes_only([outcome("a", (6, 6), (3, 3), False),
                            outcome("c", (7, 5), None, False)]) is None  # even ones fail
    assert even_sizes_only([outcome("a", (6, 6), (3, 3), True)]) is None  # no odd case


def strided(name: str, stride: int, padding: int, passed: bool,
             visible: bool = True) -> CaseOutcome:
    return CaseOutcome(name, (7, 7), (5, 5), None, passed, ((7, 7), (3, 3)), visible,
                       (("image.shape", (7, 7)), ("kernel.shape", (3, 3)),
                        ("stride", stride), ("padding", padding)))


def test_right_with_one_value_of_a_scalar_argument_only() -> None:
    found = one_value_only([strided("7x7, stride 1", 1, 0, True),
                            strided("7x7, stride 2, pad 1", 2, 1, False),
                            strided("6x6, pad 2", 1, 2, True),
                            strided("9x9, stride 2", 2, 0, False, visible=False)])
    assert found is not None and found.code == "one_value_only"
    assert found.message == (
        "your function is right when `stride` is 1 (7x7, stride 1; 6x6, pad 2) but not "
        "otherwise (7x7, stride 2, pad 1; 1 hidden case): look at how your code uses `stride`")


def test_two_arguments_that_change_together_are_both_named() -> None:
    found = one_value_only([strided("a", 1, 0, True), strided("b", 2, 1, False)])
    assert found is not None
    assert "when `stride` is 1 and `padding` is 0 (a)" in found.message
    assert "uses `stride` and `padding`" in found.message


def test_not_one_value_only_unless_the_value_splits_the_statuses() -> None:
    assert one_value_only([strided("a", 1, 0, True), strided("b", 1, 1, False),
                           strided("c", 2, 0, False)]) is None  # a stride of 1 fails too
    assert one_value_only([strided("a", 1, 0, True), strided("b", 2, 0, True),
                           strided("c", 2, 1, False)]) is not None  # padding 0 only
    assert one_value_only([strided("a", 1, 0, True), strided("b", 2, 0, True)]) is None
    assert one_value_only([outcome("a", (8, 8), (6, 6), True),
                           outcome("b", (9, 9), None, False)]) is None  # no scalar argument


def test_a_value_only_a_hidden_case_shows_is_not_named() -> None:
    assert one_value_only([strided("a", 1, 0, True, visible=False),
                           strided("b", 2, 1, False)]) is None


def raised(case: CaseOutcome) -> CaseOutcome:
    return dataclasses.replace(case, raised=True)


def test_an_error_on_every_case_with_an_even_kernel_and_no_other() -> None:
    """Wrong values where it runs (another mistake's), an error on the even kernel only."""
    found = raises_only([kernels("3x3", (2, 3, 3, 3), False),
                         kernels("5x5", (2, 3, 5, 5), False),
                         raised(kernels("2x2", (2, 3, 2, 2), False, visible=False))])
    assert found is not None and found.code == "raises_on_even_kernels"
    assert found.message.startswith(
        "your code raises an error in every case with an even kernel dimension (1 hidden "
        "case) and in no other (3x3, 5x5)")


def test_an_error_on_every_case_where_a_scalar_has_another_value() -> None:
    found = raises_only([strided("7x7, stride 1", 1, 0, False),
                         raised(strided("7x7, stride 2, pad 1", 2, 1, False)),
                         strided("6x6, pad 2", 1, 2, True),
                         raised(strided("9x9, stride 2", 2, 0, False, visible=False))])
    assert found is not None and found.code == "raises_on_other_values"
    assert found.message.startswith(
        "your code runs without an error only when `stride` is 1 (7x7, stride 1; 6x6, pad 2) "
        "and raises one otherwise (7x7, stride 2, pad 1; 1 hidden case): look at how your "
        "code uses `stride`")


def test_an_error_on_every_case_whose_input_is_not_square_and_no_other() -> None:
    """Wrong values everywhere it runs (no bias, say), an error on the tall inputs only."""
    found = raises_only([outcome("8x8", (8, 8), (6, 6), False),
                         raised(outcome("12x10", (12, 10), None, False)),
                         outcome("10x10", (10, 10), (8, 8), False),
                         raised(outcome("12x8", (12, 8), None, False))])
    assert found is not None and found.code == "raises_on_non_square"
    assert found.message.startswith(
        "your code raises an error in every case whose input is not square (12x10, 12x8) "
        "and in no square one (8x8, 10x10)")
    assert raises_only([raised(outcome("8x8", (8, 8), None, False)),
                        raised(outcome("12x10", (12, 10), None, False)),
                        outcome("10x10", (10, 10), (8, 8), False)]) is None  # a square raises


def test_no_pattern_in_the_errors_unless_they_split_the_cases() -> None:
    assert raises_only([strided("a", 1, 0, False), strided("b", 2, 1, False)]) is None
    assert raises_only([raised(strided("a", 1, 0, False)),
                        raised(strided("b", 2, 1, False))]) is None  # errors everywhere
    assert raises_only([strided("a", 1, 0, False), raised(strided("b", 1, 1, False)),
                        raised(strided("c", 2, 0, False))]) is None  # a stride of 1 raises
    assert raises_only([strided("a", 1, 0, False, visible=False),
                        raised(strided("b", 2, 1, False))]) is None  # shown by no visible
    assert raises_only([kernels("3x3", (2, 3, 3, 3), False),
                        raised(kernels("5x5", (2, 3, 5, 5), False)),
                        raised(kernels("2x2", (2, 3, 2, 2), False))]) is None  # odd raises


def shaped(name: str, image: tuple[int, int], got: tuple[int, ...] | None,
           passed: bool = False, visible: bool = True) -> CaseOutcome:
    return CaseOutcome(name, image, (image[0] - 2, image[1] - 2), got, passed,
                       (image, (3, 3)), visible, (("signal.shape", image),))


def test_the_same_output_shape_in_every_case_is_a_size_fixed_in_the_code() -> None:
    found = fixed_shape([shaped("a", (8, 8), (3, 4)), shaped("b", (12, 10), (3, 4)),
                         shaped("c", (10, 10), None, visible=False)])
    assert found is not None and found.code == "fixed_shape"
    assert found.message.startswith(
        "your output has shape (3, 4) in every case (a, b), where the expected shapes differ "
        "((6, 6), (10, 8))")
    assert "(e.g. signal.shape), not from numbers" in found.message
    three = [shaped("a", (8, 8), (6, 6), True), shaped("b", (12, 10), (6, 6)),
             shaped("c", (10, 10), (6, 6))]
    assert fixed_shape(three) is not None  # three cases: though one of them is right
    assert fixed_shape(three[:2]) is None  # two: one right, the other may share its height
    strides = [CaseOutcome(f"stride {s}", (8, 8), want, (6, 6), s == 1, ((8, 8), (3, 3)), True,
                           (("image.shape", (8, 8)), ("stride", s)))
               for s, want in ((1, (6, 6)), (2, (3, 3)), (3, (2, 2)))]
    assert fixed_shape(strides) is None  # the same image: a stride the code ignores sets it
    found = one_value_only(strides)
    assert found is not None and "right when `stride` is 1" in found.message


def test_no_fixed_shape_unless_two_outputs_share_it_where_the_expected_ones_differ() -> None:
    assert fixed_shape([shaped("a", (8, 8), (3, 4)), shaped("b", (12, 10), (3, 5))]) is None
    assert fixed_shape([shaped("a", (8, 8), (3, 4)), shaped("b", (12, 10), None)]) is None
    assert fixed_shape([shaped("a", (8, 8), (3, 4)), shaped("b", (8, 8), (3, 4))]) is None
    assert fixed_shape([shaped("a", (8, 8), ()), shaped("b", (12, 10), ())]) is None  # numbers


def test_right_with_one_shape_of_an_array_only_when_two_cases_pass_with_it() -> None:
    kernel3 = [CaseOutcome(n, (10,), (8,), None, True, (), v, (("w.shape", (3,)),))
               for n, v in (("k3", True), ("k3 again", False))]
    kernel5 = CaseOutcome("k5", (10,), (6,), None, False, (), True, (("w.shape", (5,)),))
    found = one_value_only([*kernel3, kernel5])
    assert found is not None
    assert "right when `w`'s shape is (3,) (k3, 1 hidden case)" in found.message
    assert "how your code uses `w`'s shape" in found.message
    assert one_value_only([kernel3[0], kernel5]) is None  # one case: every shape its own


def test_axes_in_another_order_channels_last() -> None:
    maps = RNG.normal(size=(2, 4, 5))  # channels first
    found = diagnose(np.moveaxis(maps, 0, -1), maps, INPUTS)
    assert found is not None and found.code == "axes_moved"
    assert "(4, 5, 2) where (2, 4, 5)" in found.message
    assert "np.transpose(out, (2, 0, 1))" in found.message
    assert np.array_equal(np.transpose(np.moveaxis(maps, 0, -1), (2, 0, 1)), maps)
    assert code_of(np.swapaxes(maps, -1, -2), maps) == "transposed"  # the last two: that


def test_the_right_values_stacked_with_others_along_a_new_first_axis() -> None:
    indices = RNG.integers(0, 4, size=EXPECTED.shape).astype(float)
    found = diagnose(np.stack([EXPECTED, indices]), EXPECTED, INPUTS)  # return out, idx
    assert found is not None and found.code == "stacked"
    assert "its item [0] of 2" in found.message
    assert code_of(np.stack([indices, EXPECTED, indices])) == "stacked"
    assert code_of(np.stack([indices, indices])) is None


def test_every_channel_holding_one_map_each_with_its_own_shift_is_named() -> None:
    """out[:, i, j] = ... inside the loop over the output channels: each holds the last one's
    map, plus its own bias when the bias is added afterwards."""
    rng = np.random.default_rng(8)
    expected = rng.normal(size=(3, 5, 4))
    bias = np.array([0.5, -1.0, 2.0])
    got = np.broadcast_to(expected[-1] - 2.0, expected.shape) + bias[:, None, None]
    found = diagnose(got, expected, INPUTS)
    assert found is not None and found.code == "channels_alike"
    assert "all 3 channels of your output hold one map (the expected last channel's)" in \
        found.message and "out[o, i, j]" in found.message
    found = diagnose(np.broadcast_to(rng.normal(size=(5, 4)), (3, 5, 4)).copy(), expected,
                     INPUTS)
    assert found is not None and found.code == "channels_alike"
    assert "(the expected" not in found.message  # a map of none of them


def test_channels_that_differ_or_are_meant_alike_are_not_named_alike() -> None:
    rng = np.random.default_rng(9)
    expected = rng.normal(size=(3, 5, 4))
    assert code_of(expected + rng.normal(size=expected.shape), expected) != "channels_alike"
    alike = np.broadcast_to(expected[0], expected.shape) + np.arange(3)[:, None, None]
    assert code_of(alike * 2.5 + rng.normal(size=expected.shape), alike) != "channels_alike"
    assert code_of(np.broadcast_to(EXPECTED[0], EXPECTED.shape).copy()) != "channels_alike"
