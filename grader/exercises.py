"""The catalog: exercise specs from ``exercises/`` bound to trusted functions in ``reference/``."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.sandbox.base import add_private_path
from grader.spec import ExerciseSpec, SpecError, is_exercise_id, load_spec

TrustedFunction = Callable[..., Any]


class UnknownExercise(KeyError):
    """No exercise has that id."""


@dataclass(frozen=True)
class Exercise:
    """A spec with its reference and mistake models resolved to callables."""

    spec: ExerciseSpec
    reference: TrustedFunction
    mistakes: dict[str, TrustedFunction]
    samples_dir: Path
    reference_dir: Path

    @property
    def id(self) -> str:
        return self.spec.id


class ReferenceLibrary:
    """Imports modules from the reference folder by file path, never from ``sys.path``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._modules: dict[str, ModuleType] = {}

    def resolve(self, ref: str, source: str, field: str) -> TrustedFunction:
        module_name, _, function_name = ref.partition(":")
        module = self._module(module_name, source, field)
        function = getattr(module, function_name, None)
        if not callable(function):
            raise SpecError(
                f"{source}: {field}: {self.root / (module_name + '.py')} "
                f"has no function {function_name!r}"
            )
        return function

    def _module(self, name: str, source: str, field: str) -> ModuleType:
        if name in self._modules:
            return self._modules[name]
        path = self.root / f"{name}.py"
        if not path.is_file():
            raise SpecError(f"{source}: {field}: no reference module {path}")
        qualified = f"grader_reference.{name}"
        spec = importlib.util.spec_from_file_location(qualified, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[qualified] = module
        spec.loader.exec_module(module)
        self._modules[name] = module
        return module


def bind(spec: ExerciseSpec, library: ReferenceLibrary, source: str, samples_dir: Path) -> Exercise:
    reference = library.resolve(spec.reference, source, "reference")
    mistakes = {
        m.code: library.resolve(m.function, source, f"mistakes[{i}].function")
        for i, m in enumerate(spec.mistakes)
    }
    return Exercise(spec=spec, reference=reference, mistakes=mistakes, samples_dir=samples_dir,
                    reference_dir=library.root)


class Catalog:
    """Every exercise of an ``exercises/`` folder, loaded and bound at construction."""

    def __init__(self, exercises_dir: Path, reference_dir: Path) -> None:
        self.exercises_dir = exercises_dir
        self.library = ReferenceLibrary(reference_dir)
        add_private_path(exercises_dir)
        add_private_path(reference_dir)
        self._exercises: dict[str, Exercise] = {}
        self.load_dir(exercises_dir)

    def load_dir(self, folder: Path) -> None:
        """Add every ``*.toml`` spec of a folder (a later one replaces an earlier one's id)."""
        for path in sorted(folder.glob("*.toml")):
            spec = load_spec(path)
            self._exercises[spec.id] = bind(spec, self.library, str(path), self.samples_dir)

    @property
    def samples_dir(self) -> Path:
        return self.exercises_dir / "samples"

    def ids(self) -> list[str]:
        return list(self._exercises)

    def get(self, exercise_id: str) -> Exercise:
        if not is_exercise_id(exercise_id) or exercise_id not in self._exercises:
            raise UnknownExercise(exercise_id)
        return self._exercises[exercise_id]

    def __iter__(self) -> Iterator[Exercise]:
        return iter(list(self._exercises.values()))

    def bind(self, spec: ExerciseSpec, source: str) -> Exercise:
        """Resolve a spec's functions without adding it. Raises SpecError."""
        return bind(spec, self.library, source, self.samples_dir)

    def add(self, spec: ExerciseSpec, source: str) -> Exercise:
        exercise = self.bind(spec, source)
        self._exercises[spec.id] = exercise
        return exercise
