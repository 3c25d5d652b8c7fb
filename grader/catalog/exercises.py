"""The catalog: exercise bundles, each spec bound to the trusted functions of its reference module.

A bundle is a folder named by the exercise's id::

    exercises/<id>/exercise.toml    the spec (``grader.catalog.spec``)
    exercises/<id>/reference.py     the solution and the mistake models it names
    exercises/<id>/samples/*.py     solutions with the verdicts the spec declares for them

A spec's ``reference_file`` may name its reference module elsewhere, relative to the bundle's
folder: the built-in bundles' are the project's ``reference/<id>.py``, one copy, which the tests
check against independent implementations. A spec names a function of its own reference module
by its name (``conv``), or of another bundle's as ``bundle:function``. A reference module is
trusted code, run in the grader; it is imported by file path, never from ``sys.path``, and an
error while importing it names the file and the line.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from grader.catalog.bundle import Pushed
from grader.catalog.spec import (
    REFERENCE_FILE,
    SAMPLES_DIR,
    SPEC_FILE,
    ExerciseSpec,
    SpecError,
    is_exercise_id,
    load_spec,
)
from grader.catalog.toml_text import line_of, toml_lines
from grader.errors import NotFound
from grader.sandbox.base import add_private_path

if TYPE_CHECKING:
    from grader.settings import Settings

TrustedFunction = Callable[..., Any]


class UnknownExercise(NotFound, KeyError):
    """No exercise has that id (a KeyError too: the catalog is looked up by id)."""

    @property
    def detail(self) -> str:
        return f"no exercise {self.args[0]!r}" if self.args else "no such exercise"


@dataclass(frozen=True)
class Exercise:
    """A spec with its reference and mistake models: resolved to callables (a built-in
    bundle's, trusted), or (``pushed``) a pushed bundle's code, which runs in the sandbox only."""

    spec: ExerciseSpec
    reference: TrustedFunction | None  # None: pushed
    mistakes: dict[str, TrustedFunction]
    samples_dir: Path | None  # None: a spec uploaded for an id that has no bundle
    files: dict[str, Path]  # each function the spec names -> the reference module it is in
    pushed: Pushed | None = None

    @property
    def id(self) -> str:
        return self.spec.id


def function_name(ref: str) -> str:
    """The function's own name in a reference: ``conv`` of ``conv`` or ``conv2d:conv``."""
    return ref.rpartition(":")[2]


def reference_path(folder: Path, spec: ExerciseSpec) -> Path:
    """The reference module of the bundle in ``folder``: its ``reference_file``."""
    path = folder / spec.reference_file
    return path.resolve() if spec.reference_file != REFERENCE_FILE else path


class ReferenceLibrary:
    """The bundles' reference modules, each imported once, by file path."""

    def __init__(self) -> None:
        self.bundles: dict[str, Path] = {}
        self.references: dict[str, Path] = {}
        self._modules: dict[Path, ModuleType] = {}

    def add_bundle(self, exercise_id: str, folder: Path, reference: Path | None = None) -> None:
        """A bundle's folder, and its reference module (default: its reference.py)."""
        reference = reference or folder / REFERENCE_FILE
        self.bundles[exercise_id] = folder
        self.references[exercise_id] = reference
        add_private_path(folder)
        add_private_path(reference.parent)

    def resolve(self, ref: str, home: str | None, source: str,
                field: str) -> tuple[TrustedFunction, Path]:
        """The function ``ref`` names, and its file. An unqualified name is looked up in the
        ``home`` bundle's reference.py. Raises SpecError naming ``source`` and ``field``."""
        bundle, _, name = ref.rpartition(":")
        bundle = bundle or home or ""
        folder = self.bundles.get(bundle)
        if folder is None:
            if not bundle:
                raise SpecError(f"{source}: {field}: {ref!r} names a function of this "
                                "exercise's reference.py, and it has none (no bundle of that "
                                "id): name another bundle's as 'bundle:function'")
            raise SpecError(f"{source}: {field}: no exercise bundle {bundle!r} (no reference "
                            "module of that name)")
        path = self.references.get(bundle, folder / REFERENCE_FILE)
        module = self._module(path, bundle, source, field)
        function = getattr(module, name, None)
        if not callable(function):
            raise SpecError(f"{source}: {field}: {path} has no function {name!r}")
        return function, path

    def _module(self, path: Path, bundle: str, source: str, field: str) -> ModuleType:
        if path in self._modules:
            return self._modules[path]
        try:
            code = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SpecError(f"{source}: {field}: cannot read {path}: {error}") from None
        qualified = f"grader_bundle.{bundle}"
        module = ModuleType(qualified)
        module.__file__ = str(path)
        sys.modules[qualified] = module  # for dataclasses and pickling inside the module
        try:
            exec(compile(code, str(path), "exec"), module.__dict__)
        except Exception as error:  # noqa: BLE001 - trusted code that fails is a spec error
            sys.modules.pop(qualified, None)
            raise SpecError(import_error(path, error)) from None
        self._modules[path] = module
        return module


def import_error(path: Path, error: BaseException) -> str:
    """``path:line: reference.py does not import: the error``, with the line of ``path``
    where it was raised (or the syntax error's own)."""
    line = None
    if isinstance(error, SyntaxError) and error.filename == str(path):
        line = error.lineno
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == str(path):
            line = lineno
    where = f"{path}:{line}" if line else str(path)
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    return f"{where}: {path.name} does not import: {type(error).__name__}: {message}"


def spec_lines(path: Path) -> dict[tuple[str | int, ...], int]:
    """Where each field of a spec file is (none when it cannot be read again)."""
    try:
        return toml_lines(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}


def bind(spec: ExerciseSpec, library: ReferenceLibrary, source: str,
         lines: dict[tuple[str | int, ...], int] | None = None) -> Exercise:
    """Resolve the functions ``spec`` names. Raises SpecError naming ``source`` and, with
    ``lines`` (``toml_lines`` of its text), the line of the field."""
    def at(*path: str | int) -> str:
        line = line_of(lines or {}, path)
        return f"{source}:{line}" if line else source

    home = spec.id if spec.id in library.bundles else None
    reference, path = library.resolve(spec.reference, home, at("reference"), "reference")
    files = {spec.reference: path}
    mistakes = {}
    for i, m in enumerate(spec.mistakes):
        mistakes[m.code], files[m.function] = library.resolve(
            m.function, home, at("mistakes", i, "function"), f"mistakes[{i}].function")
    samples = library.bundles[home] / SAMPLES_DIR if home else None
    return Exercise(spec=spec, reference=reference, mistakes=mistakes, samples_dir=samples,
                    files=files)


_log = logging.getLogger(__name__)
_skipped: set[Path] = set()  # said once a process, though a server loads its catalog twice


def bundle_folders(folder: Path, skip_strays: bool = False) -> list[Path]:
    """The bundles of a folder of exercises, by id. A spec outside a bundle, or a folder that
    is not one, is refused with what to do; with ``skip_strays`` (a mounted folder of extra
    bundles, which may hold other things), a folder without a spec is skipped with a warning,
    while a bundle that is broken is still refused."""
    loose = sorted(folder.glob("*.toml"))
    if loose:
        raise SpecError(f"{loose[0]}: an exercise is a folder now: move this spec to "
                        f"{folder / loose[0].stem / SPEC_FILE}, and the functions it names to "
                        f"{REFERENCE_FILE} beside it")
    bundles = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir()):
        if path.name.startswith((".", "_")):
            continue
        if not (path / SPEC_FILE).is_file() and skip_strays:
            if path not in _skipped:
                _skipped.add(path)
                _log.warning("%s: skipped: not an exercise bundle (it has no %s)", path,
                             SPEC_FILE)
            continue
        if not (path / SPEC_FILE).is_file():
            raise SpecError(f"{path}: not an exercise bundle: it has no {SPEC_FILE}")
        if not is_exercise_id(path.name):
            raise SpecError(f"{path}: a bundle's folder is its exercise's id: lowercase "
                            "letters, digits and _, starting with a letter")
        bundles.append(path)
    return bundles


class Catalog:
    """Every exercise bundle of an ``exercises/`` folder, loaded and bound at construction."""

    def __init__(self, exercises_dir: Path) -> None:
        self.exercises_dir = exercises_dir
        self.library = ReferenceLibrary()
        self._exercises: dict[str, Exercise] = {}
        self.load_dir(exercises_dir)

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalog:
        """The shipped bundles, and those of ``GRADER_EXTRA_EXERCISES_DIR`` over them (where
        a folder that is not a bundle is skipped; a broken bundle is refused)."""
        catalog = cls(settings.exercises_dir)
        extra = settings.extra_exercises_dir
        if extra is not None and extra.is_dir():
            catalog.load_dir(extra, skip_strays=True)
        return catalog

    def load_dir(self, folder: Path, skip_strays: bool = False) -> None:
        """Add every bundle of a folder (a later one replaces an earlier one's id). Every
        bundle is known before any is bound: a spec may name another bundle's function."""
        add_private_path(folder)
        specs = [(path, load_spec(path / SPEC_FILE))
                 for path in bundle_folders(folder, skip_strays)]
        for path, spec in specs:
            self.library.add_bundle(path.name, path, reference_path(path, spec))
        for path, spec in specs:
            self._exercises[spec.id] = bind(spec, self.library, str(path / SPEC_FILE),
                                            spec_lines(path / SPEC_FILE))

    def load_bundle(self, folder: Path) -> Exercise:
        """Add one bundle, which may be outside the catalog's folders. Raises SpecError."""
        if not folder.name:  # "." or ".."
            folder = folder.resolve()
        spec_file = folder / SPEC_FILE
        if not spec_file.is_file():
            raise SpecError(f"{folder}: not an exercise bundle: it has no {SPEC_FILE}")
        spec = load_spec(spec_file)
        self.library.add_bundle(folder.name, folder, reference_path(folder, spec))
        exercise = bind(spec, self.library, str(spec_file), spec_lines(spec_file))
        self._exercises[spec.id] = exercise
        return exercise

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
        return bind(spec, self.library, source)

    def add(self, spec: ExerciseSpec, source: str) -> Exercise:
        return self.put(self.bind(spec, source))

    def put(self, exercise: Exercise) -> Exercise:
        """Serve ``exercise`` as the newest of its id."""
        self._exercises[exercise.id] = exercise
        return exercise
