"""Exercise specs: the ``exercise.toml`` of each bundle in ``exercises/<id>/``.

A spec is data only. It names trusted functions of its bundle's reference module (``conv``),
or of another bundle's (``conv2d:conv``), and never carries code. The reference module is the
bundle's ``reference.py``, or the file its ``reference_file`` names, relative to the bundle's
folder: the built-in bundles take theirs from the project's ``reference/`` folder
(``reference_file = "../../reference/conv2d.py"``), and a push sends that file as the pushed
bundle's ``reference.py`` (``grader.catalog.bundle``). Loading validates it with
pydantic; every error names the file, the line where it can be found, and the field.

An argument is an array drawn at random (``kind = "array"``, the default), or a scalar
(``kind = "int"`` or ``"float"``) given per case. A visible case may give an array argument
fixed values, as nested lists; a hidden case's arrays are always drawn (``grader.grading.inputs``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from grader.catalog.toml_text import SpecError, format_errors, read_toml, toml_lines

IDENT = r"^[a-z][a-z0-9_]{0,63}$"
# A function of the bundle's own reference.py, or ``bundle:function`` for another bundle's.
FUNCTION_REF = r"^([a-z][a-z0-9_]{0,63}:)?[A-Za-z_][A-Za-z0-9_]*$"
PYTHON_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
MISTAKE_CODES = r"^[a-z][a-z0-9_]{0,63}(\+[a-z][a-z0-9_]{0,63})?$"  # a code, or a pair
# The diagnoses grading names for any exercise (grader.grading: the generic parts of an
# explanation, the checks across cases, the removed idioms); a sample may expect these as well
# as the spec's own mistake codes.
GENERIC_DIAGNOSES = frozenset({
    "valid_in_zero_ring", "valid_in_corner", "valid_inside", "missing_edge", "cropped",
    "corner_short", "repeated", "blocks", "edges_zero", "shifted_by_one", "shifted", "rolled",
    "transposed", "spread", "not_summed", "summed", "not_reduced",
    "scaled_output", "integer_truncated", "integer_rounded", "integer_output", "truncated",
    "rounded", "square_inputs_only", "odd_kernels_only", "one_value_only", "fixed_shape",
    "raises_on_even_kernels", "raises_on_non_square", "raises_on_other_values",
    "numpy2_array_to_scalar",
    "numpy2_array_into_element", "python2_division", "numpy_removed_alias", "python2_name",
    "module_not_available", "threads_not_available", "no_file_system", "shape_unpacked",
    "shape_not_a_tuple", "input_asked", "array_as_index",
    "list_added_to_array", "window_past_edge", "builtin_max_of_array", "shape_indexed",
    "integer_clipped", "numpy2_integer_out_of_bounds", "module_not_imported",
    "negatives_zeroed", "offset_output", "channels_alike",
    "rescaled_output",
})
# The changes to an argument an explanation may name (grader.grading.parts' input parts), each
# as "<argument>_<change>": "kernel_transposed".
INPUT_CHANGES = ("transposed", "flipped", "flipped_rows", "flipped_columns")
SPEC_FILE = "exercise.toml"
REFERENCE_FILE = "reference.py"
SAMPLES_DIR = "samples"
# A Python file, relative to the bundle's folder (``..`` may lead out of it, as to reference/).
REFERENCE_PATH = r"^[A-Za-z0-9_.-][A-Za-z0-9_./-]{0,199}\.py$"

# How large a spec's inputs may be, in elements (of at most 8 bytes), checked when it is read,
# before anything is drawn: an argument, a case (all its arguments), a submission (all its
# cases). A pushed bundle's are drawn so for each submission too, as a built-in one's are.
MAX_ELEMENTS = 1 << 22
MAX_CASE_ELEMENTS = 1 << 22
MAX_SUBMISSION_ELEMENTS = 1 << 23
MAX_SCALAR = 1 << 31
MAX_POINTS = 1_000_000
# The largest magnitude a drawn value's distribution may reach, by dtype: within the dtype,
# with room for a uniform's high - low and a normal's tails (``NORMAL_SIGMAS`` std either side).
DRAW_BOUND = {"float64": 1e300, "float32": 1e37, "int64": float(1 << 53)}
NORMAL_SIGMAS = 64

Shape = Annotated[list[Annotated[int, Field(ge=1, le=4096)]], Field(min_length=1, max_length=4)]
# A fixed value: a number (a scalar argument) or nested lists of numbers (an array argument).
# Nested lists are checked by ``as_array``.
Value = StrictInt | StrictFloat | list[Any]

INTEGER_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "uint16")
DType = Literal["float64", "float32", "int64", "int32", "int16", "int8", "uint8", "uint16"]


class _Strict(BaseModel):
    # allow_inf_nan: TOML has inf and nan, and no number of a spec may be either
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _located(where: str, message: str) -> ValueError:
    """An error of a field that a validator of a larger model finds: ``where`` is its path
    (``cases[2].values.kernel``), which ``_format_errors`` turns into a line of the file."""
    return ValueError(f"{where}: {message}")


def as_array(value: Value, dtype: str, where: str) -> np.ndarray:
    """A fixed value as an array of ``dtype``, refused with the reason when it is not
    rectangular, too large, not finite, or does not fit the dtype."""
    def numbers_only(item: object) -> bool:
        if isinstance(item, list):
            return all(numbers_only(i) for i in item)
        return isinstance(item, int | float) and not isinstance(item, bool)

    if not numbers_only(value):
        raise _located(where, "values must be numbers, or nested lists of numbers")
    depth, probe = 0, value
    while isinstance(probe, list):
        if not probe:
            raise _located(where, "an empty list is not an array")
        depth, probe = depth + 1, probe[0]
    try:
        exact = np.array(value, dtype=np.float64)
    except OverflowError:
        raise _located(where, "a value is too large for a float64") from None
    except ValueError:
        raise _located(where, "the nested lists are not rectangular (rows of different "
                       "lengths, or numbers and lists mixed)") from None
    if exact.ndim != depth:
        raise _located(where, "the nested lists are not rectangular")
    if exact.size > MAX_ELEMENTS:
        raise _located(where, f"too many values: {exact.size}")
    if not np.isfinite(exact).all():
        raise _located(where, "every value must be finite")
    if dtype in INTEGER_DTYPES:
        info = np.iinfo(dtype)
        if not np.array_equal(exact, np.round(exact)):
            raise _located(where, f"{dtype} values must be whole numbers")
        if exact.min() < info.min or exact.max() > info.max:
            raise _located(where, f"{dtype} values must be within {info.min}..{info.max}")
        return np.array(value, dtype=dtype)
    return exact.astype(dtype)


class Argument(_Strict):
    """How one argument of the entry point is made for every case: an array drawn at random,
    or given as fixed values; or a scalar (an ``int`` or a ``float``), given per case."""

    name: str = Field(pattern=PYTHON_NAME)
    kind: Literal["array", "int", "float"] = "array"
    dtype: DType = "float64"
    distribution: Literal["normal", "uniform"] = "normal"
    mean: float = 0.0
    std: float = Field(default=1.0, gt=0)
    low: float = -1.0
    high: float = 1.0
    shape: Shape | None = Field(default=None, description="Default shape; a case may override it.")
    value: Value | None = Field(
        default=None, description="Default fixed value: the number of a scalar, or nested "
        "lists for an array given as is in every visible case that does not set its own")

    @model_validator(mode="after")
    def _range(self) -> Argument:
        if self.kind != "array":
            if self.shape is not None:
                raise ValueError(f"a scalar ({self.kind}) argument has no shape")
            if self.value is not None:
                scalar_value(self, self.value, "value")
            return self
        if self.distribution == "uniform" and not self.low < self.high:
            raise ValueError("uniform needs low < high")
        if self.dtype in INTEGER_DTYPES and self.dtype != "int64":
            if self.distribution != "uniform":
                raise ValueError(f"{self.dtype} arrays are drawn from a uniform distribution "
                                 "of whole numbers: set distribution = \"uniform\", low, high")
            info = np.iinfo(self.dtype)
            if not (self.low == int(self.low) and self.high == int(self.high)
                    and info.min <= self.low and self.high <= info.max):
                raise ValueError(f"{self.dtype} needs whole low and high within "
                                 f"{info.min}..{info.max}, got {self.low:g}..{self.high:g}")
        else:
            self._within_dtype()
        if self.value is not None:
            as_array(self.value, self.dtype, "value")
        return self

    def _within_dtype(self) -> None:
        """A float or int64 distribution whose values all fit the dtype, and whose draw cannot
        overflow: |low|, |high| (and so high - low), or |mean| + NORMAL_SIGMAS std, within
        ``DRAW_BOUND``."""
        bound = DRAW_BOUND[self.dtype]
        if self.distribution == "uniform":
            if max(abs(self.low), abs(self.high)) > bound:
                raise ValueError(f"uniform low and high must be within -{bound:g}..{bound:g} "
                                 f"for {self.dtype}, got {self.low:g}..{self.high:g}")
        elif abs(self.mean) + NORMAL_SIGMAS * self.std > bound:
            raise ValueError(f"normal mean and std must keep |mean| + {NORMAL_SIGMAS} std "
                             f"within {bound:g} for {self.dtype}, got mean {self.mean:g}, "
                             f"std {self.std:g}")

    def elements(self, shape: tuple[int, ...]) -> int:
        return math.prod(shape) if self.kind == "array" else 1


def scalar_value(argument: Argument, value: Value, where: str) -> int | float:
    if isinstance(value, list):
        raise _located(where, f"{argument.name!r} is a scalar ({argument.kind}), not an array")
    if argument.kind == "int" and not isinstance(value, int):
        raise _located(where, f"{argument.name!r} is an int, got {value!r}")
    if not -MAX_SCALAR <= value < MAX_SCALAR or not math.isfinite(value):
        raise _located(where, f"{value!r} is out of range")
    return float(value) if argument.kind == "float" else value


class Case(_Strict):
    name: str = Field(min_length=1, max_length=80)
    shapes: dict[str, Shape] = Field(default_factory=dict)
    values: dict[str, Value] = Field(
        default_factory=dict, description="Fixed values: per scalar argument its number; per "
        "array argument (visible cases only) nested lists")
    points: float = Field(default=1.0, ge=0, le=MAX_POINTS)
    visible: bool = True


class Comparison(_Strict):
    rtol: float = Field(default=1e-6, ge=0, le=1)
    atol: float = Field(default=1e-9, ge=0)
    accept: list[Literal["ndarray", "list", "number"]] = Field(default=["ndarray", "list"],
                                                                min_length=1)
    precision: Literal["float64", "float32", "float16"] = Field(
        default="float32", description="The shortest float an output may be in: a shorter one "
        "is refused, and every output may be off by this float's rounding (64 eps times the "
        "largest expected value)")


class Limits(_Strict):
    case_seconds: float = Field(default=2.0, gt=0, le=60)
    submission_seconds: float = Field(default=10.0, gt=0, le=300)
    memory_mb: int = Field(default=256, ge=16, le=4096)
    # A writable scratch folder, off by default: learner code then has no file system at all.
    scratch_kb: int = Field(default=0, ge=0, le=64 * 1024,
                            description="Bytes (KiB) learner code may write; 0: no file system")
    scratch_files: int = Field(default=0, ge=0, le=10_000,
                               description="Files and folders learner code may make")

    @model_validator(mode="after")
    def _order(self) -> Limits:
        if self.submission_seconds < self.case_seconds:
            raise ValueError("submission_seconds must be at least case_seconds")
        if (self.scratch_kb == 0) != (self.scratch_files == 0):
            raise ValueError("scratch_kb and scratch_files go together: both 0, or both set")
        return self


class Mistake(_Strict):
    """A known mistake, as a trusted model of it. By ``stage``, ``function`` is: a whole wrong
    solution (``model``: the arguments -> an output); a change to the arguments before a
    solution runs (``input``: the arguments -> a tuple of arguments); or a change to a
    solution's output (``output``: an output -> an output). Mistakes of different stages are
    also tried in pairs, input then model then output, with the reference as the model."""

    code: str = Field(pattern=IDENT)
    function: str = Field(pattern=FUNCTION_REF)
    hint: str = Field(min_length=1)
    stage: Literal["input", "model", "output"] = "model"


class Sample(_Strict):
    """A solution shipped with the exercise and the verdict per case it must get."""

    file: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.py$",
                      description="A file under the bundle's samples/")
    expect: list[str] = Field(min_length=1)
    mistake: str | None = Field(default=None, pattern=MISTAKE_CODES,
                                description="The diagnosis it must get: a mistake's code, or "
                                "two joined by + (a pair of different stages)")

    @field_validator("file")
    @classmethod
    def _inside_samples(cls, value: str) -> str:
        if ".." in value.split("/"):
            raise ValueError("a sample file must stay inside the bundle's samples/")
        return value


class ExerciseSpec(_Strict):
    id: str = Field(pattern=IDENT)
    title: str = Field(min_length=1, max_length=200)
    statement: str = Field(min_length=1)
    entry_point: str = Field(pattern=PYTHON_NAME)
    reference: str = Field(pattern=FUNCTION_REF)
    reference_file: str = Field(
        default=REFERENCE_FILE, pattern=REFERENCE_PATH,
        description="The file of the functions this spec names, relative to the bundle's "
        "folder (default: its own reference.py)")
    arguments: list[Argument] = Field(min_length=1, max_length=8)
    cases: list[Case] = Field(min_length=1, max_length=64)
    compare: Comparison = Comparison()
    limits: Limits = Limits()
    mistakes: list[Mistake] = Field(default_factory=list)
    samples: list[Sample] = Field(default_factory=list)

    @field_validator("arguments")
    @classmethod
    def _unique_arguments(cls, arguments: list[Argument]) -> list[Argument]:
        names = [a.name for a in arguments]
        if len(set(names)) != len(names):
            raise ValueError(f"argument names must be unique, got {names}")
        return arguments

    @property
    def generic_diagnoses(self) -> frozenset[str]:
        """The diagnoses grading names for any exercise, with the changes to this one's
        arguments."""
        return GENERIC_DIAGNOSES | {f"{argument.name}_{change}" for argument in self.arguments
                                    for change in INPUT_CHANGES}

    @model_validator(mode="after")
    def _cases_fit_arguments(self) -> ExerciseSpec:
        known = {a.name: a for a in self.arguments}
        for i, case in enumerate(self.cases):
            for field, given in (("shapes", case.shapes), ("values", case.values)):
                unknown = set(given) - set(known)
                if unknown:
                    raise _located(f"cases[{i}].{field}",
                                   f"gives {field} for unknown arguments {sorted(unknown)}")
            for arg in self.arguments:
                self._check_argument(i, case, arg)
        self._check_sizes()
        names = [c.name for c in self.cases]
        if len(set(names)) != len(names):
            raise ValueError("case names must be unique")
        codes = [m.code for m in self.mistakes]
        if len(set(codes)) != len(codes):
            raise ValueError("mistake codes must be unique")
        for i, sample in enumerate(self.samples):
            if len(sample.expect) != len(self.cases):
                raise _located(f"samples[{i}].expect",
                               f"has {len(sample.expect)} verdicts for {len(self.cases)} cases")
            missing = [c for c in (sample.mistake or "").split("+")
                       if c and c not in codes and c not in self.generic_diagnoses]
            if missing:
                raise _located(f"samples[{i}].mistake", f"{missing[0]!r} is not a mistake code")
        return self

    def _check_sizes(self) -> None:
        total = 0
        for i, count in enumerate(self.case_elements()):
            if count > MAX_CASE_ELEMENTS:
                raise _located(f"cases[{i}]", f"its arguments have {count} elements, more than "
                               f"the {MAX_CASE_ELEMENTS} a case may have")
            total += count
            if total > MAX_SUBMISSION_ELEMENTS:
                raise _located(f"cases[{i}]", f"the arguments of the cases up to this one have "
                               f"{total} elements, more than the {MAX_SUBMISSION_ELEMENTS} a "
                               "submission may have")

    def case_elements(self) -> list[int]:
        """How many elements each case's arguments have, all together (a scalar is one)."""
        return [sum(a.elements(self.shape_of(c, a)) for a in self.arguments) for c in self.cases]

    def _check_argument(self, i: int, case: Case, arg: Argument) -> None:
        where = f"cases[{i}]"
        if arg.kind != "array":
            if arg.name in case.shapes:
                raise _located(f"{where}.shapes.{arg.name}",
                               f"{arg.name!r} is a scalar ({arg.kind}): give it in values")
            if arg.name in case.values:
                scalar_value(arg, case.values[arg.name], f"{where}.values.{arg.name}")
            elif arg.value is None:
                raise _located(f"{where}.values",
                               f"has no value for the scalar argument {arg.name!r} (and the "
                               "argument has no default value)")
            return
        fixed = case.values.get(arg.name)
        if fixed is not None:
            if not case.visible:
                raise _located(f"{where}.values.{arg.name}",
                               "a hidden case's arrays are drawn from the server's secret, "
                               "never fixed: give fixed values in visible cases only")
            if arg.name in case.shapes:
                raise _located(f"{where}.shapes.{arg.name}",
                               f"{arg.name!r} has fixed values, whose shape is its shape")
            as_array(fixed, arg.dtype, f"{where}.values.{arg.name}")
            return
        shape = case.shapes.get(arg.name, arg.shape)
        if shape is None:
            if arg.value is not None and case.visible:
                return
            raise _located(f"{where}.shapes", f"has no shape for argument {arg.name!r}")
        if math.prod(shape) > MAX_ELEMENTS:
            raise _located(f"{where}.shapes.{arg.name}",
                           f"argument {arg.name!r} is too large: {shape}")

    def fixed_value(self, case: Case, argument: Argument) -> np.ndarray | None:
        """The case's fixed value of an argument (0-d for a scalar), or None when it is drawn.
        A hidden case's arrays are always drawn."""
        if argument.kind != "array":
            value = case.values.get(argument.name, argument.value)
            assert value is not None  # guaranteed by validation
            return np.array(value, dtype=np.int64 if argument.kind == "int" else np.float64)
        value = case.values.get(argument.name)
        if value is None and argument.name not in case.shapes and case.visible:
            value = argument.value
        return None if value is None else as_array(value, argument.dtype, argument.name)

    def shape_of(self, case: Case, argument: Argument) -> tuple[int, ...]:
        fixed = self.fixed_value(case, argument)
        if fixed is not None:
            return fixed.shape
        shape = case.shapes.get(argument.name, argument.shape)
        assert shape is not None  # guaranteed by validation
        return tuple(shape)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cases)


def parse_spec(data: object, source: str, text: str | None = None) -> ExerciseSpec:
    """Validate already-decoded spec data; ``source`` names it in error messages, and
    ``text``, the TOML it was read from, gives their lines."""
    try:
        return ExerciseSpec.model_validate(data)
    except ValidationError as error:
        raise SpecError(format_errors(source, error, text)) from None
    except RecursionError:  # data nested past what read_toml lets through
        raise SpecError(f"{source}: the spec nests too deeply") from None


def load_spec(path: Path) -> ExerciseSpec:
    """A spec file: a bundle's ``exercise.toml``, whose folder is the id, or ``<id>.toml``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: cannot read: {error}") from None
    expected = path.parent.name if path.name == SPEC_FILE else path.stem
    what = "folder" if path.name == SPEC_FILE else "file"
    return spec_from_toml(text, str(path), expected, what)


def spec_from_toml(text: str, source: str, expected: str, what: str = "folder") -> ExerciseSpec:
    """A spec from its TOML text; ``source`` names the file in errors, and the spec's id must
    be ``expected`` (the name of its ``what``: a bundle's folder, or an upload's URL)."""
    data = read_toml(text, source)
    spec = parse_spec(data, source, text)
    if spec.id != expected:
        line = toml_lines(text).get(("id",))
        where = f"{source}:{line}" if line else source
        raise SpecError(f"{where}: id: {spec.id!r} must match the {what} name {expected!r}")
    return spec


_ID_RE = re.compile(IDENT)


def is_exercise_id(text: str) -> bool:
    return bool(_ID_RE.match(text))
