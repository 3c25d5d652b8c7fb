"""What the API takes and gives: request bodies, stored views, and the public exercise view."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    UrlConstraints,
    field_validator,
)

from grader.catalog.bundle import FILE_NAME, MAX_FILES
from grader.catalog.scaffold import bundle_files
from grader.catalog.spec import IDENT, Argument, Case, ExerciseSpec
from grader.sandbox.modules import importable, numpy_parts
from grader.service.views import SubmissionView

# Bounds on what a platform may store with a submission: deep or wide JSON costs every reader.
MAX_METADATA_BYTES = 8 * 1024  # compact UTF-8 JSON
MAX_METADATA_DEPTH = 8  # {"a": 1} is 1 deep
MAX_METADATA_MEMBERS = 64  # keys of one object, items of one array


def _metadata_problem(value: Any, depth: int = 1) -> str | None:
    """Why ``value`` is out of bounds, or None. Walks no deeper than the bound."""
    if isinstance(value, float) and not math.isfinite(value):
        return "numbers must be finite"
    if not isinstance(value, dict | list):
        return None
    if depth > MAX_METADATA_DEPTH:
        return f"must be nested at most {MAX_METADATA_DEPTH} deep"
    if len(value) > MAX_METADATA_MEMBERS:
        return f"objects and arrays must have at most {MAX_METADATA_MEMBERS} members"
    for member in value.values() if isinstance(value, dict) else value:
        problem = _metadata_problem(member, depth + 1)
        if problem is not None:
            return problem
    return None


# What the validators below refuse, said in the schema too (the validators say it in words).
NO_NUL: dict[str, Any] = {"pattern": "^[^\\u0000]*$"}


# The documented examples of request bodies: each one is accepted as it is (a test sends them).
EXAMPLE_EXERCISE = "scale"  # the id the example bundle is published under
SUBMISSION_EXAMPLE: dict[str, Any] = {
    "exercise_id": "conv2d",
    "source": "import numpy as np\n\n\ndef conv(image, kernel):\n"
              "    kh, kw = kernel.shape\n"
              "    h, w = image.shape[0] - kh + 1, image.shape[1] - kw + 1\n"
              "    out = np.zeros((h, w))\n"
              "    for a in range(kh):\n        for b in range(kw):\n"
              "            out += kernel[a, b] * image[a : a + h, b : b + w]\n"
              "    return out\n",
    "learner_id": "ada", "metadata": {"course": "dl-101"}}
BUNDLE_EXAMPLE: dict[str, Any] = {"files": bundle_files(EXAMPLE_EXERCISE),
                                  "message": "the first version"}


class SubmissionCreate(BaseModel):
    """What a platform sends."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [SUBMISSION_EXAMPLE]})

    exercise_id: str = Field(max_length=64, examples=["conv2d"])
    source: str = Field(description="The learner's Python source, without NUL characters",
                        json_schema_extra=NO_NUL)
    learner_id: Annotated[str, Field(min_length=1, max_length=256,
                                     json_schema_extra=NO_NUL)] | None = None
    callback_url: Annotated[AnyHttpUrl, UrlConstraints(max_length=2000),
                            Field(json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"})
                            ] | None = Field(
        default=None, description="Where the report is POSTed when grading is done (http or "
        "https, at a public address or one in the server's GRADER_CALLBACK_NETWORKS); needs "
        "GRADER_CALLBACK_SECRET on the server")
    metadata: dict[str, Any] | None = Field(
        default=None, max_length=MAX_METADATA_MEMBERS,
        description=f"Anything the platform wants back: JSON nested at most "
        f"{MAX_METADATA_DEPTH} deep, at most {MAX_METADATA_MEMBERS} members in an object or "
        f"array, at most {MAX_METADATA_BYTES} bytes as compact UTF-8 JSON")

    @field_validator("source", "learner_id")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode (no lone surrogates)") from None
        return value

    @field_validator("metadata")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return value
        problem = _metadata_problem(value)
        if problem is not None:
            raise ValueError(f"metadata {problem}")
        try:
            size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
        except UnicodeEncodeError:
            raise ValueError("metadata must be valid Unicode (no lone surrogates)") from None
        if size > MAX_METADATA_BYTES:
            raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON; "
                             f"it is {size}")
        return value

    @field_validator("callback_url")
    @classmethod
    def _short_url(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        # as stored, in a column of 2048: normalising may have lengthened it
        if value is not None and len(str(value)) > 2048:
            raise ValueError("callback_url must be at most 2048 characters")
        return value


class SubmissionPage(BaseModel):
    items: list[SubmissionView]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class ArgumentView(BaseModel):
    name: str
    kind: Literal["array", "int", "float"] = Field(
        description="An array, or a scalar given per case")
    dtype: str = Field(description="The dtype the function is given: a scalar int is an "
                       "int64, a scalar float a float64", examples=["float64", "int64"])

    @classmethod
    def of(cls, argument: Argument) -> ArgumentView:
        dtype = {"int": "int64", "float": "float64"}.get(argument.kind, argument.dtype)
        return cls(name=argument.name, kind=argument.kind, dtype=dtype)


class CaseView(BaseModel):
    name: str
    points: float
    shapes: dict[str, list[int]]
    values: dict[str, Any] = Field(
        default_factory=dict, description="The arguments this visible case fixes, by name: a "
        "number for a scalar, nested lists for an array; the others are drawn from the seed")

    @classmethod
    def of(cls, spec: ExerciseSpec, case: Case) -> CaseView:
        """A visible case (a hidden one's values are never shown)."""
        assert case.visible
        fixed = {a.name: spec.fixed_value(case, a) for a in spec.arguments}
        return cls(name=case.name, points=case.points,
                   shapes={a.name: list(spec.shape_of(case, a)) for a in spec.arguments},
                   values={name: value.tolist() for name, value in fixed.items()
                           if value is not None})


class ExerciseView(BaseModel):
    """The public view of a spec: nothing of the hidden cases but how many and their points."""

    id: str
    title: str
    statement: str
    # what learner code may import: top-level modules, then numpy's submodules that are loaded
    importable: list[str] = Field(default_factory=list)
    entry_point: str
    arguments: list[ArgumentView]
    visible_cases: list[CaseView]
    hidden_cases: int
    hidden_points: float
    max_score: float

    @classmethod
    def of(cls, spec: ExerciseSpec) -> ExerciseView:
        visible = [c for c in spec.cases if c.visible]
        hidden = [c for c in spec.cases if not c.visible]
        return cls(
            id=spec.id, title=spec.title, statement=spec.statement,
            importable=importable() + numpy_parts(),
            entry_point=spec.entry_point,
            arguments=[ArgumentView.of(a) for a in spec.arguments],
            visible_cases=[CaseView.of(spec, c) for c in visible],
            hidden_cases=len(hidden),
            hidden_points=sum(c.points for c in hidden),
            max_score=spec.max_score,
        )


class ExerciseList(BaseModel):
    items: list[ExerciseView]


BundleFileText = Annotated[str, Field(json_schema_extra=NO_NUL)]
BundleFileName = Annotated[str, Field(pattern=FILE_NAME, max_length=256)]


class BundleUpload(BaseModel):
    """An exercise bundle, as ``grader exercises push`` sends it: its files by path."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [BUNDLE_EXAMPLE]})

    files: dict[BundleFileName, BundleFileText] = Field(
        min_length=2, max_length=MAX_FILES,
        description="exercise.toml, reference.py and samples/<name>.py, each as text (no NUL), "
        f"by path in the bundle; at most {MAX_FILES} files. reference.py runs only in the "
        "sandbox",
        examples=[BUNDLE_EXAMPLE["files"]])
    message: str | None = Field(
        default=None, max_length=500,
        description="What changed in this version, kept with it and listed with the versions")

    @field_validator("files")
    @classmethod
    def _texts(cls, files: dict[str, str]) -> dict[str, str]:
        for name, text in files.items():
            if "\x00" in text:
                raise ValueError(f"{name} must not contain NUL characters")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{name} must be valid Unicode (no lone surrogates)") from None
        return files


class BundleView(BaseModel):
    """A version's files, as ``grader exercises pull`` writes them."""

    exercise_id: str
    version: int
    files: dict[str, str]


class PublishedExercise(ExerciseView):
    """The public view of the exercise as just published, and its new version."""

    version: int


class ExerciseVersionView(BaseModel):
    version: int = Field(description="1 for the first published spec; 0 is the built-in one")
    created_at: AwareDatetime
    bundle: bool = Field(description="Pushed as a bundle (its reference runs in the sandbox); "
                         "false: a spec naming a built-in bundle's functions")
    restored_from: int | None = Field(default=None,
                                      description="The version this one is a copy of")
    message: str | None = Field(default=None,
                                description="What its instructor said of it when pushing")
    published_by: str | None = Field(
        default=None, description="The name of the instructor token that published or "
        "restored it (GRADER_INSTRUCTOR_TOKENS=name:token); null for an unnamed token")


class ExerciseVersions(BaseModel):
    exercise_id: str
    items: list[ExerciseVersionView]


class RegradeAccepted(BaseModel):
    exercise_id: str
    queued: int


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    database: str
    sandbox: dict[str, Any]
    self_test: str
    reasons: list[str] = Field(default_factory=list)


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


EXERCISE_ID_PATTERN = IDENT
