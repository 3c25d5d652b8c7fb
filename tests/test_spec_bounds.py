"""Hostile specs: every one is a SpecError naming the file and line, never another exception,
and none draws anything it was not checked for: sizes (an argument, a case, a submission, a
pushed bundle's pool), the parameters of every distribution, and TOML's size and nesting."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.catalog.bundle import BundleFiles, parse_bundle
from grader.catalog.spec import (
    MAX_CASE_ELEMENTS,
    MAX_SUBMISSION_ELEMENTS,
    SpecError,
    spec_from_toml,
)
from grader.catalog.toml_text import MAX_SPEC_CHARS, MAX_TOML_DEPTH, nesting
from grader.grading.inputs import case_arguments
from tests.conftest import ROOT

# conv2d's bundle as a push sends it: its spec, and its reference from reference/
CONV2D = BundleFiles.read(ROOT / "exercises" / "conv2d").spec
REFERENCE = BundleFiles.read(ROOT / "exercises" / "conv2d").reference
SECRET = b"s" * 32


def found(examples: int) -> settings:
    """Fixed examples (derandomized), as many as given, however slow the machine."""
    return settings(derandomize=True, deadline=None, database=None, max_examples=examples,
                    suppress_health_check=[HealthCheck.too_slow])


def read(text: str, pushed: bool = False) -> list[tuple[np.ndarray, ...]]:
    """Parse as an upload is parsed, then draw a submission's inputs: what the server does
    with a spec."""
    if pushed:
        samples = {"correct.py": "def conv(image, kernel):\n    return image\n"}
        spec = parse_bundle("conv2d", BundleFiles(text, REFERENCE, samples))
    else:
        spec = spec_from_toml(text, "exercise.toml", "conv2d")
    drawn = case_arguments(spec, 7, SECRET)
    for args in drawn:
        for array, argument in zip(args, spec.arguments, strict=True):
            assert np.isfinite(array).all()
            if argument.kind == "array":
                assert array.dtype == np.dtype(argument.dtype)
    return drawn


def refused(text: str, pushed: bool = False) -> str:
    with pytest.raises(SpecError) as error:
        read(text, pushed)
    return str(error.value)


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def image(replacement: str) -> str:
    """conv2d's spec with the image argument's dtype (float64 unless given) and distribution
    replaced."""
    if "dtype" not in replacement:
        replacement = 'dtype = "float64"\n' + replacement
    return CONV2D.replace('dtype = "float64"\ndistribution = "normal"\nmean = 0.0\nstd = 1.0',
                          replacement, 1)


def case_header(text: str, index: int) -> int:
    return [n for n, line in enumerate(text.splitlines(), 1) if line == "[[cases]]"][index]


@pytest.mark.parametrize("parameters", [
    'distribution = "uniform"\nlow = -1e308\nhigh = 1e308',  # high - low overflows
    'distribution = "uniform"\nlow = 1.0\nhigh = 1.0',
    'distribution = "uniform"\nlow = 0.0\nhigh = inf',
    'distribution = "uniform"\nlow = nan\nhigh = 1.0',
    'distribution = "normal"\nmean = 0.0\nstd = 0.0',
    'distribution = "normal"\nmean = 0.0\nstd = -1.0',
    'distribution = "normal"\nmean = 0.0\nstd = 1e300',
    'distribution = "normal"\nmean = 1e308\nstd = 1.0',
    'distribution = "normal"\nmean = 0.0\nstd = inf',
    'distribution = "normal"\nmean = ' + "9" * 400 + "\nstd = 1.0",  # past any float
    'dtype = "float32"\ndistribution = "uniform"\nlow = -1e38\nhigh = 1e38',
    'dtype = "int64"\ndistribution = "uniform"\nlow = -1e19\nhigh = 1e19',
    'dtype = "uint8"\ndistribution = "uniform"\nlow = 0\nhigh = 256',
    'dtype = "int8"\ndistribution = "uniform"\nlow = -0.5\nhigh = 3',
    'dtype = "int16"\ndistribution = "normal"\nmean = 0.0\nstd = 1.0',
])
def test_a_distribution_that_cannot_be_drawn_is_refused_at_its_line(parameters: str) -> None:
    """The line is the argument's (its [[arguments]] header) or one of its parameters'."""
    text = image(parameters)
    message = refused(text)
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line == "[[arguments]]"][:1] \
        + [line_of(text, p) for p in parameters.splitlines()]
    found = re.search(r"exercise\.toml:(\d+): arguments\.0", message)
    assert found is not None, message
    assert int(found.group(1)) in lines


@pytest.mark.parametrize("parameters", [
    'distribution = "uniform"\nlow = -1e300\nhigh = 1e300',
    'distribution = "normal"\nmean = 0.0\nstd = 1e298',
    'dtype = "float32"\ndistribution = "uniform"\nlow = -1e37\nhigh = 1e37',
    'dtype = "int64"\ndistribution = "uniform"\nlow = -9e15\nhigh = 9e15',
    'dtype = "uint16"\ndistribution = "uniform"\nlow = 0\nhigh = 65535',
])
def test_the_widest_distributions_allowed_draw_finite_values(parameters: str) -> None:
    assert len(read(image(parameters))) == 4


def test_a_case_over_the_size_limit_is_refused_at_its_line() -> None:
    side = int(MAX_CASE_ELEMENTS ** 0.5)  # with the kernel's 9, one case over
    text = CONV2D.replace("shapes = { image = [8, 8] }", f"shapes = {{ image = [{side}, {side}] }}")
    message = refused(text)
    assert f"exercise.toml:{case_header(text, 0)}: cases.0: its arguments " \
        f"have {side * side + 9} elements, more than the {MAX_CASE_ELEMENTS}" in message


def test_cases_that_together_pass_the_submission_limit_are_refused_at_the_one_that_does() -> None:
    side, kernel = 1700, 9  # each case under the per-case limit, three together not
    case = side * side + kernel
    assert case <= MAX_CASE_ELEMENTS and 2 * case <= MAX_SUBMISSION_ELEMENTS < 3 * case
    text = CONV2D
    for old in ("[8, 8]", "[12, 10]", "[10, 10]"):
        text = text.replace(f"shapes = {{ image = {old} }}",
                            f"shapes = {{ image = [{side}, {side}] }}")
    message = refused(text)
    assert f"exercise.toml:{case_header(text, 2)}: cases.2: the arguments of the cases up to " \
        "this one have " \
        f"{3 * case} elements, more than the {MAX_SUBMISSION_ELEMENTS}" in message


def test_points_and_tolerances_are_finite_and_bounded() -> None:
    assert "cases.0.points" in refused(CONV2D.replace("points = 1", "points = 1e300", 1))
    assert "compare.atol" in refused(CONV2D.replace("atol = 1e-9", "atol = inf"))
    assert "compare.rtol" in refused(CONV2D.replace("rtol = 1e-6", "rtol = nan"))


def test_fixed_values_too_large_for_a_float_are_refused() -> None:
    text = CONV2D.replace("shapes = { image = [8, 8] }",
                          "values = { image = [[1" + "0" * 400 + ", 1], [1, 1]] }")
    assert "too large for a float64" in refused(text)


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ("{a = ", "}"), ("[{a = ", "}]")])
def test_deeply_nested_toml_is_refused_before_it_is_decoded(opening: str, closing: str) -> None:
    deep = 'x = ' + opening * 5000 + "1" + closing * 5000  # tomllib alone: RecursionError
    message = refused(CONV2D + "\n" + deep + "\n")
    assert message.startswith(f"exercise.toml:{len(CONV2D.splitlines()) + 2}: arrays and "
                              f"inline tables nest")


def test_brackets_in_strings_and_comments_are_not_nesting() -> None:
    text = 'a = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["  # {{{{{{{{{{{{{{{{{{{{{{{{{{{{{\n' \
        "b = '''\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n'''\nc = \"\\\"[[[[[[[[[[[[[[[[[[[[[[[\"\n" \
        "d = [[1, 2], [3, 4]]\n"
    assert nesting(text) == (2, 6)


def test_a_spec_longer_than_the_limit_is_refused() -> None:
    text = CONV2D + "#" * MAX_SPEC_CHARS
    assert refused(text) == f"exercise.toml: the spec is {len(text)} characters long, more " \
        f"than the {MAX_SPEC_CHARS} allowed"


# -- anything at all: a SpecError, or a spec whose inputs draw ----------------------------------

HOSTILE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
    st.sampled_from([0, -1, 256, 65535, 65536, 2 ** 31, 2 ** 63, -(2 ** 63) - 1, 1e308, -1e308,
                     3.4e38, 1e37, 9e15, 1e-320, 0.5]),
)
NUMBERS = st.one_of(st.integers(-100, 100), st.floats(-100, 100), HOSTILE)
SIDES = st.one_of(st.integers(3, 40), st.integers(-2, 5000))


def toml_number(value: int | float) -> str:
    if isinstance(value, float) and not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return repr(value)


ARGUMENT = st.fixed_dictionaries({}, optional={
    "kind": st.sampled_from(["array", "int", "float"]),
    "dtype": st.sampled_from(["float64", "float32", "int64", "int32", "int16", "int8", "uint8",
                              "uint16", "float16", "bool"]),
    "distribution": st.sampled_from(["normal", "uniform", "poisson"]),
    "mean": NUMBERS, "std": NUMBERS, "low": NUMBERS, "high": NUMBERS,
    "shape": st.lists(SIDES, min_size=0, max_size=5),
    "value": NUMBERS,
})


def spec_with(argument: dict, points: int | float, case_shape: list[int]) -> str:
    """conv2d's spec with an argument ``image`` of these fields, and its first case's
    image shape and points replaced."""
    fields = "".join(f"{key} = {render(value)}\n" for key, value in argument.items())
    head, _, rest = CONV2D.partition("[[arguments]]")
    kernel = "[[arguments]]" + rest.partition("[[arguments]]")[2]
    return (f'{head}[[arguments]]\nname = "image"\n{fields}\n'
            + kernel.replace("shapes = { image = [8, 8] }",
                             f"shapes = {{ image = {render(case_shape)} }}")
            .replace("points = 1", f"points = {toml_number(points)}", 1))


def render(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    assert isinstance(value, int | float)
    return toml_number(value)


@found(400)
@given(argument=ARGUMENT, points=st.one_of(st.just(1), NUMBERS),
       case_shape=st.lists(SIDES, min_size=1, max_size=4), pushed=st.booleans())
def test_random_distribution_parameters_give_a_spec_error_or_inputs(
        argument: dict, points: int | float, case_shape: list[int], pushed: bool) -> None:
    try:
        read(spec_with(argument, points, case_shape), pushed)
    except SpecError as error:
        assert str(error).startswith("exercise.toml")


TOML_PIECES = st.sampled_from(["[", "]", "{", "}", "[[", "]]", "=", "a", "x.y", '"', "'", "'''",
                               '"""', "\\", "#", "\n", ",", " ", "1", "1e999", "-inf", "nan",
                               "0x7f", "1979-05-27", "true", "cases", "[[cases]]", "id"])


@found(400)
@given(st.one_of(
    st.text(max_size=400),
    st.lists(TOML_PIECES, max_size=200).map("".join),
    st.tuples(st.integers(0, 3000), st.sampled_from(["[", "{a=", "[{b=", "x = ["]))
    .map(lambda p: "x = " + p[1] * p[0]),
    st.lists(TOML_PIECES, max_size=60).map(lambda pieces: CONV2D + "".join(pieces)),
))
def test_random_toml_gives_a_spec_error_or_inputs(text: str) -> None:
    try:
        read(text)
    except SpecError as error:
        assert str(error).startswith("exercise.toml")


def test_the_depth_bound_leaves_room_for_every_array_a_spec_may_fix() -> None:
    four_d = "[" * 4 + "1" + "]" * 4
    text = CONV2D.replace("shape = [3, 3]",
                          "shape = [3, 3]\nvalue = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]")
    assert nesting(f"x = {{ y = {four_d} }}")[0] == 5 <= MAX_TOML_DEPTH
    assert len(read(text)) == 4
