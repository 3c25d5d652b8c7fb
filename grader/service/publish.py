"""Publishing exercise versions: a pushed bundle is parsed, proven in the sandbox, published as
the exercise's next version and announced to every other process; a version is restored by
publishing a copy of it; a version's files are read back.

A proof runs the bundle's reference.py in the sandbox for up to a minute, so an instructor
token proves at most ``proofs`` bundles at once (``admission.Caps``: 429 past it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grader.catalog.bundle import BundleFiles, parse_bundle
from grader.catalog.spec import ExerciseSpec
from grader.errors import Conflict, InvalidInput, NotFound
from grader.grading.validate import prove_bundle
from grader.sandbox.base import Kind, Runner
from grader.service.admission import Caps
from grader.service.published import Published
from grader.storage import jobs
from grader.storage.store import Store, VersionRow

PROBLEMS_CHARS = 2000  # of the problems quoted in an answer's detail


class NotProven(InvalidInput):
    """A pushed bundle that does not pass its proof."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the bundle does not prove out: "
                         + "; ".join(problems)[:PROBLEMS_CHARS])
        self.problems = problems

    @property
    def reasons(self) -> list[str]:
        return self.problems


class NoSuchVersion(NotFound):
    def __init__(self, exercise_id: str, version: int) -> None:
        super().__init__(f"exercise {exercise_id!r} has no version {version}")


class NoFiles(Conflict):
    """A version stored as a spec alone, naming a built-in bundle's functions."""

    def __init__(self, exercise_id: str, version: int) -> None:
        super().__init__(f"version {version} of {exercise_id!r} is a spec naming a built-in "
                         "bundle's functions: it has no files of its own")


class Publisher:
    def __init__(self, published: Published, store: Store, runner: Runner, *,
                 hidden_secret: bytes, proofs: Caps, announce: bool) -> None:
        self.published = published
        self.store = store
        self.runner = runner
        self.hidden_secret = hidden_secret
        self.proofs = proofs
        self.announce = announce  # tell the other processes of a new version (distributed)

    def publish(self, exercise_id: str, files: dict[str, str], holder: str,
                message: str | None = None, by: str | None = None
                ) -> tuple[ExerciseSpec, int]:
        """Parse, prove (one of ``holder``'s proofs at once) and publish a pushed bundle as
        the exercise's next version, recording the name of its instructor (``by``). Raises
        SpecError or NotProven (each reason naming the bundle's file and line), or
        OverLimit."""
        bundle = BundleFiles.of(files)
        spec = parse_bundle(exercise_id, bundle)
        # an instructor's code, proven in the background: only when no submission waits for a
        # place, for a small budget, at the lowest priority
        with self.proofs.hold(holder), self.runner.fast_place(kind=Kind.PROOF):
            problems = prove_bundle(spec, bundle, self.runner, hidden_secret=self.hidden_secret)
        if problems:
            raise NotProven(problems)
        version = self.published.publish_bundle(spec, bundle, self._announcer(exercise_id),
                                                message, by)
        return spec, version

    def restore(self, exercise_id: str, version: int, by: str | None = None
                ) -> tuple[ExerciseSpec, int]:
        """Publish a copy of ``version`` (0: the built-in spec) as the newest version,
        restored by the instructor named ``by``."""
        try:
            new = self.published.restore(exercise_id, version, self._announcer(exercise_id),
                                         by)
        except NotFound:
            raise NoSuchVersion(exercise_id, version) from None
        return self.published.at(exercise_id, new).spec, new

    def files(self, exercise_id: str, version: int | None) -> tuple[int, dict[str, str]]:
        """A version's files as pushed (default: the newest version); version 0 is the
        built-in bundle's."""
        chosen = self.published.version(exercise_id) if version is None else version
        if chosen == 0:
            builtin = self.published.builtin_files(exercise_id)
            if builtin is None:
                raise NoSuchVersion(exercise_id, 0)
            return 0, builtin.files()
        row = self.store.exercise_row(exercise_id, chosen)
        if row is None:
            raise NoSuchVersion(exercise_id, chosen)
        if row.files is None:
            raise NoFiles(exercise_id, chosen)
        return chosen, BundleFiles.from_json(row.files).files()

    def versions(self, exercise_id: str) -> list[VersionRow]:
        return self.store.versions(exercise_id)

    def _announcer(self, exercise_id: str) -> Callable[[Any, int], None] | None:
        """What tells every other process of a new version, in the transaction that stores
        it; nothing to tell in embedded mode."""
        if not self.announce:
            return None

        def after(connection: Any, version: int) -> None:
            jobs.notify(connection, jobs.EXERCISE_CHANNEL, f"{exercise_id} {version}")
        return after
