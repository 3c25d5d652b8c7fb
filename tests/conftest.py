from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.exercises import Catalog, Exercise
from grader.grade import grade
from grader.report import Report
from grader.sandbox.forkserver import ForkServerRunner
from grader.settings import PROJECT_ROOT
from grader.spec import Limits

SUBMISSIONS = Path(__file__).parent / "submissions"
SAMPLES = PROJECT_ROOT / "exercises" / "samples"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog(PROJECT_ROOT / "exercises", PROJECT_ROOT / "reference")


@pytest.fixture(scope="session")
def conv2d(catalog: Catalog) -> Exercise:
    return catalog.get("conv2d")


@pytest.fixture(scope="session")
def quick_conv2d(conv2d: Exercise) -> Exercise:
    """conv2d with short time limits, for tests of timeouts."""
    limits = Limits(case_seconds=0.5, submission_seconds=3.0, memory_mb=256)
    return dataclasses.replace(conv2d, spec=conv2d.spec.model_copy(update={"limits": limits}))


@pytest.fixture(scope="session")
def runner() -> Iterator[ForkServerRunner]:
    runner = ForkServerRunner(slots=2)
    yield runner
    runner.close()


def source_of(name: str) -> str:
    path = SUBMISSIONS / f"{name}.py"
    if not path.exists():
        path = SAMPLES / f"{name}.py"
    return path.read_text()


@pytest.fixture
def grade_file(conv2d: Exercise, runner: ForkServerRunner) -> Callable[..., Report]:
    def run(name: str, exercise: Exercise | None = None, seed: int = 7) -> Report:
        return grade(exercise or conv2d, source_of(name), runner, seed=seed)

    return run
