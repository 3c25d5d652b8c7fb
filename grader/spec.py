"""Exercise specs: the TOML files instructors write in ``exercises/``.

A spec is data only. It names trusted functions in ``reference/`` by ``module:function`` and
never carries code. Loading validates it with pydantic; every error names the file and the
field that is wrong.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

IDENT = r"^[a-z][a-z0-9_]{0,63}$"
FUNCTION_REF = r"^[a-z_][a-z0-9_]*:[A-Za-z_][A-Za-z0-9_]*$"
PYTHON_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

Shape = Annotated[list[Annotated[int, Field(ge=1, le=4096)]], Field(min_length=1, max_length=4)]


class SpecError(Exception):
    """A spec file that cannot be used. The message names the file and each bad field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Argument(_Strict):
    """How one argument of the entry point is generated for every case."""

    name: str = Field(pattern=PYTHON_NAME)
    dtype: Literal["float64", "float32", "int64"] = "float64"
    distribution: Literal["normal", "uniform"] = "normal"
    mean: float = 0.0
    std: float = Field(default=1.0, gt=0)
    low: float = -1.0
    high: float = 1.0
    shape: Shape | None = Field(default=None, description="Default shape; a case may override it.")

    @model_validator(mode="after")
    def _range(self) -> Argument:
        if self.distribution == "uniform" and not self.low < self.high:
            raise ValueError("uniform needs low < high")
        return self


class Case(_Strict):
    name: str = Field(min_length=1, max_length=80)
    shapes: dict[str, Shape] = Field(default_factory=dict)
    points: float = Field(default=1.0, ge=0)
    visible: bool = True


class Comparison(_Strict):
    rtol: float = Field(default=1e-6, ge=0, le=1)
    atol: float = Field(default=1e-9, ge=0)
    accept: list[Literal["ndarray", "list"]] = Field(default=["ndarray", "list"], min_length=1)


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
                      description="A file under exercises/samples/")
    expect: list[str] = Field(min_length=1)
    mistake: str | None = Field(default=None, pattern=IDENT)


    @field_validator("file")
    @classmethod
    def _inside_samples(cls, value: str) -> str:
        if ".." in value.split("/"):
            raise ValueError("a sample file must stay inside exercises/samples/")
        return value


class ExerciseSpec(_Strict):
    id: str = Field(pattern=IDENT)
    title: str = Field(min_length=1, max_length=200)
    statement: str = Field(min_length=1)
    entry_point: str = Field(pattern=PYTHON_NAME)
    reference: str = Field(pattern=FUNCTION_REF)
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

    @model_validator(mode="after")
    def _cases_fit_arguments(self) -> ExerciseSpec:
        known = {a.name: a for a in self.arguments}
        for i, case in enumerate(self.cases):
            unknown = set(case.shapes) - set(known)
            if unknown:
                raise ValueError(f"cases[{i}] gives shapes for unknown arguments {sorted(unknown)}")
            for arg in self.arguments:
                shape = case.shapes.get(arg.name, arg.shape)
                if shape is None:
                    raise ValueError(f"cases[{i}] has no shape for argument {arg.name!r}")
                if math.prod(shape) > 1 << 22:
                    raise ValueError(f"cases[{i}] argument {arg.name!r} is too large: {shape}")
        names = [c.name for c in self.cases]
        if len(set(names)) != len(names):
            raise ValueError("case names must be unique")
        codes = [m.code for m in self.mistakes]
        if len(set(codes)) != len(codes):
            raise ValueError("mistake codes must be unique")
        for i, sample in enumerate(self.samples):
            if len(sample.expect) != len(self.cases):
                raise ValueError(
                    f"samples[{i}].expect has {len(sample.expect)} verdicts "
                    f"for {len(self.cases)} cases"
                )
            if sample.mistake is not None and sample.mistake not in codes:
                raise ValueError(f"samples[{i}].mistake {sample.mistake!r} is not a mistake code")
        return self

    def shape_of(self, case: Case, argument: Argument) -> tuple[int, ...]:
        shape = case.shapes.get(argument.name, argument.shape)
        assert shape is not None  # guaranteed by validation
        return tuple(shape)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cases)


def _format_errors(source: str, error: ValidationError) -> str:
    lines = [f"{source}: invalid exercise spec"]
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def parse_spec(data: object, source: str) -> ExerciseSpec:
    """Validate already-decoded spec data; ``source`` names it in error messages."""
    try:
        return ExerciseSpec.model_validate(data)
    except ValidationError as error:
        raise SpecError(_format_errors(source, error)) from None


def load_spec(path: Path) -> ExerciseSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{path}: not valid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: cannot read: {error}") from None
    spec = parse_spec(data, str(path))
    if spec.id != path.stem:
        raise SpecError(f"{path}: id: {spec.id!r} must match the file name {path.stem!r}")
    return spec


_ID_RE = re.compile(IDENT)


def is_exercise_id(text: str) -> bool:
    return bool(_ID_RE.match(text))
