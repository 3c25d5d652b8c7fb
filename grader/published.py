"""Exercises as published: the built-in specs (version 0) and every version stored above them.

Publishing a spec stores it as the exercise's next version, which is never changed again. A
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

from grader.exercises import Catalog, Exercise, UnknownExercise
from grader.spec import ExerciseSpec, SpecError, parse_spec
from grader.store import Store

log = logging.getLogger("grader.published")


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
        for exercise_id, version, spec_json in self.store.exercises():
            if self._newest.get(exercise_id, -1) < version:
                try:
                    self._take(exercise_id, version, spec_json)
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
        spec_json = self.store.exercise_version(exercise_id, version) if version > 0 else None
        if spec_json is None:
            raise UnknownExercise(f"{exercise_id} version {version}")
        return self._take(exercise_id, version, spec_json)

    def publish(self, spec: ExerciseSpec, source: str,
                after: Callable[[Connection, int], None] | None = None) -> int:
        """Store a spec (bound and proven by the caller) as the next version of its
        exercise; ``after`` runs in the same transaction. Returns the version."""
        version = self.store.put_exercise(spec.id, spec.model_dump_json(), after)
        self._bind(spec, version, source)
        return version

    def _take(self, exercise_id: str, version: int, spec_json: str) -> Exercise:
        source = f"exercise {exercise_id} version {version} (stored)"
        return self._bind(parse_spec(json.loads(spec_json), source), version, source)

    def _bind(self, spec: ExerciseSpec, version: int, source: str) -> Exercise:
        exercise = self.catalog.bind(spec, source)
        with self._lock:
            self._exercises[(spec.id, version)] = exercise
            if self._newest.get(spec.id, -1) < version:
                self._newest[spec.id] = version
                self.catalog.add(spec, source)
        return exercise
