"""Exercises as published: the built-in specs (version 0) and every version stored above them.

Publishing stores a pushed bundle (its files, proven in the sandbox: its code runs there only,
for each submission, ``grader.grading.pushed``) as the exercise's next version, which is never
changed again; restoring a
version publishes a copy of it as the next one. Versions stored as a spec alone (before
bundles could be pushed, or a restored version 0) name a built-in bundle's functions. A
submission records the version it was accepted with, and is graded with that one. Each process
keeps the versions it has seen; one it has not seen yet is read from the database when first
needed, so every replica and worker grades a job with its own version, however recently it was
published elsewhere.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import Connection

from grader.catalog.bundle import BundleFiles, Pushed
from grader.catalog.exercises import Catalog, Exercise, UnknownExercise
from grader.catalog.spec import ExerciseSpec, SpecError, parse_spec
from grader.storage.store import Store

log = logging.getLogger("grader.service.published")


class Published:
    def __init__(self, catalog: Catalog, store: Store) -> None:
        self.catalog = catalog
        self.store = store
        self._lock = threading.Lock()
        self._exercises: dict[tuple[str, int], Exercise] = {
            (e.id, 0): e for e in catalog}
        self._newest: dict[str, int] = {e.id: 0 for e in catalog}
        self.refresh()

    def refresh(self) -> None:
        """Take in the newest stored version of every exercise."""
        for exercise_id, version, spec_json, files in self.store.newest_rows():
            if self._newest.get(exercise_id, -1) < version:
                try:
                    self._take(exercise_id, version, spec_json, files)
                except SpecError as error:
                    log.error("skipping a stored exercise: %s", error)

    def version(self, exercise_id: str) -> int:
        """The newest version of an exercise this process knows."""
        with self._lock:
            return self._newest.get(exercise_id, 0)

    def get(self, exercise_id: str) -> Exercise:
        """The newest version this process knows; one published by another process since
        is looked up in the database first. Raises UnknownExercise."""
        try:
            return self.catalog.get(exercise_id)
        except UnknownExercise:
            self.refresh()
            return self.catalog.get(exercise_id)

    def at(self, exercise_id: str, version: int) -> Exercise:
        """One exact version. Raises UnknownExercise when it was never published."""
        with self._lock:
            known = self._exercises.get((exercise_id, version))
        if known is not None:
            return known
        row = self.store.exercise_row(exercise_id, version) if version > 0 else None
        if row is None:
            raise UnknownExercise(f"{exercise_id} version {version}")
        return self._take(exercise_id, version, row.spec, row.files)

    def publish(self, spec: ExerciseSpec, source: str,
                after: Callable[[Connection, int], None] | None = None) -> int:
        """Store a spec (bound and proven by the caller) as the next version of its
        exercise; ``after`` runs in the same transaction. Returns the version."""
        version = self.store.put_exercise(spec.id, spec.model_dump_json(), after)
        self._bind(spec, version, source)
        return version

    def publish_bundle(self, spec: ExerciseSpec, bundle: BundleFiles,
                       after: Callable[[Connection, int], None] | None = None,
                       message: str | None = None, by: str | None = None) -> int:
        """Store a pushed bundle (parsed and proven by the caller) as the next version, with
        its instructor's ``message`` and name (``by``). Returns it."""
        version = self.store.put_exercise(spec.id, spec.model_dump_json(), after,
                                          files_json=bundle.to_json(), message=message,
                                          published_by=by)
        self._put(Exercise(spec=spec, reference=None, mistakes={}, samples_dir=None, files={},
                           pushed=Pushed(spec.id, version, bundle)), version)
        return version

    def restore(self, exercise_id: str, version: int,
                after: Callable[[Connection, int], None] | None = None,
                by: str | None = None) -> int:
        """Publish a copy of ``version`` as the next one (0: the built-in spec), restored
        by the instructor named ``by``. Returns the new version. Raises UnknownExercise when
        there is no such version."""
        builtin = self._exercises.get((exercise_id, 0))
        new = self.store.restore_exercise(
            exercise_id, version, builtin.spec.model_dump_json() if builtin else None, after,
            published_by=by)
        if new is None:
            raise UnknownExercise(f"{exercise_id} version {version}")
        self.at(exercise_id, new)
        return new

    def has_builtin(self, exercise_id: str) -> bool:
        """Whether the exercise has a version 0, a built-in spec (one published only with
        PUT starts at 1)."""
        return (exercise_id, 0) in self._exercises

    def builtin_files(self, exercise_id: str) -> BundleFiles | None:
        """The files of the built-in bundle of this id (version 0), if there is one."""
        exercise = self._exercises.get((exercise_id, 0))
        if exercise is None or exercise.samples_dir is None:
            return None
        return BundleFiles.read(exercise.samples_dir.parent)

    def _take(self, exercise_id: str, version: int, spec_json: str,
              files: str | None = None) -> Exercise:
        source = f"exercise {exercise_id} version {version} (stored)"
        spec = parse_spec(json.loads(spec_json), source)
        if files is None:
            return self._bind(spec, version, source)
        pushed = Pushed(exercise_id, version, BundleFiles.from_json(files))
        return self._put(Exercise(spec=spec, reference=None, mistakes={}, samples_dir=None,
                                  files={}, pushed=pushed), version)

    def _bind(self, spec: ExerciseSpec, version: int, source: str) -> Exercise:
        return self._put(self.catalog.bind(spec, source), version)

    def _put(self, exercise: Exercise, version: int) -> Exercise:
        with self._lock:
            self._exercises[(exercise.id, version)] = exercise
            if self._newest.get(exercise.id, -1) < version:
                self._newest[exercise.id] = version
                self.catalog.put(exercise)
        return exercise
