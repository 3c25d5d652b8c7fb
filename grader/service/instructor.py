"""The instructor's view, as the API and the pages ask for it: an exercise's summary with its
cases named by the spec, every exercise with its counts, a diff between two versions, and how
far a regrade has come. The counting is the database's (``grader.storage.summary``)."""

from __future__ import annotations

import difflib
import json

from grader.catalog.exercises import UnknownExercise
from grader.errors import NotFound
from grader.pages.instructor_views import ExerciseLine, FileDiff
from grader.service.publish import NoFiles, NoSuchVersion, Publisher
from grader.service.published import Published
from grader.storage.store import Store
from grader.storage.summary import Filters, SummaryCounts

DIFF_FILES = ("exercise.toml", "reference.py")  # what a diff of two versions compares
DIFF_LINES = 4000  # of a diff shown, at most


class UnknownExerciseVersion(NotFound):
    def __init__(self, exercise_id: str, version: int | None = None) -> None:
        super().__init__(f"no exercise {exercise_id!r}" if version is None
                         else f"exercise {exercise_id!r} has no version {version}")


def summary(published: Published, store: Store, exercise_id: str,
            filters: Filters) -> SummaryCounts:
    """The summary of the exercise's submissions that ``filters`` keep, its cases named as
    the version asked for names them (the newest by default)."""
    try:
        newest = published.get(exercise_id)
        version = filters.version
        spec = newest.spec if version is None else published.at(exercise_id, version).spec
    except UnknownExercise:
        raise UnknownExerciseVersion(exercise_id, filters.version) from None
    return store.summary(exercise_id, filters, [case.name for case in spec.cases])


def exercise_lines(published: Published, store: Store) -> list[ExerciseLine]:
    """Every exercise this grader knows, newest versions, with its counts."""
    published.refresh()
    counts = store.exercise_counts()
    return [ExerciseLine(e.id, e.spec.title, published.version(e.id), counts.get(e.id))
            for e in sorted(published.catalog, key=lambda e: e.id)]


def _files(publisher: Publisher, exercise_id: str, version: int) -> dict[str, str] | None:
    """A version's spec and reference as pushed; None for a version stored as a spec alone
    (restored from the built-in one, or published before bundles)."""
    try:
        _, files = publisher.files(exercise_id, version)
    except NoFiles:
        return None
    except NoSuchVersion:
        raise UnknownExerciseVersion(exercise_id, version) from None
    return {path: files[path] for path in DIFF_FILES if path in files}


def _spec(publisher: Publisher, exercise_id: str, version: int) -> dict[str, str]:
    try:
        spec = publisher.published.at(exercise_id, version).spec
    except UnknownExercise:
        raise UnknownExerciseVersion(exercise_id, version) from None
    return {"spec (JSON)": json.dumps(json.loads(spec.model_dump_json()), indent=2,
                                      sort_keys=True) + "\n"}


def diff(publisher: Publisher, exercise_id: str, old: int, new: int) -> list[FileDiff]:
    """What changed from version ``old`` to ``new``, file by file (difflib's unified diff):
    the spec and the reference of two bundles, or the specs as JSON when either version is
    stored as a spec alone."""
    before, after = _files(publisher, exercise_id, old), _files(publisher, exercise_id, new)
    if before is None or after is None:  # one has no files: their specs are compared
        before, after = _spec(publisher, exercise_id, old), _spec(publisher, exercise_id, new)
    found = []
    for path in sorted(set(before) | set(after)):
        lines = list(difflib.unified_diff(
            before.get(path, "").splitlines(), after.get(path, "").splitlines(),
            f"{path} (version {old})", f"{path} (version {new})", lineterm=""))
        found.append(FileDiff(path, lines[:DIFF_LINES]))
    return found
