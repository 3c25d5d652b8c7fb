"""The grader's errors: one root, a few kinds, each kind one answer of the API.

    GraderError
    ├── NotFound                 404   catalog.UnknownExercise, service.UnknownSubmission,
    │                                  service.publish.NoSuchVersion
    ├── InvalidInput             422   catalog.SpecError, grading.pushed.OutputsRefused,
    │                                  service.publish.NotProven
    ├── Conflict                 409   service.publish.NoFiles
    ├── Unavailable              503   service.admission.Busy, service.admission.Refused
    │   └── OverLimit            429   service.admission's caps (learner, token, pages, proofs)
    ├── StorageError                   storage.OldSchema
    ├── ConfigError                    service.secret.SecretFileError
    ├── RetryLater                     service.worker: a fault the queue retries
    ├── OutOfTime                      grading.validate: a proof past its deadline
    ├── (grading.grade._Unparsable)    a run stopped, the source does not parse: never
    │                                  leaves ``grading.grade.grade``
    └── ApiError             its own   api.problems: an answer of the HTTP layer alone

``grader.api.problems`` maps each kind to its answer, in one place; a kind without an answer
of its own (StorageError, ConfigError ...) is a fault of the grader's: 500, and logged. The
sandbox has its own tree, under ``grader.sandbox.errors.SandboxError`` (a layer that cannot be
built, a frame that cannot be read, no free uid ...), which is not imported here: the sandbox
imports nothing of the grader. These two are the only roots.
"""

from __future__ import annotations


class GraderError(Exception):
    """Every error the grader raises on purpose. ``detail``: what an answer says of it."""

    @property
    def detail(self) -> str:
        return str(self)


class NotFound(GraderError):
    """No such thing (an exercise, a version of one, a submission this caller may see)."""


class InvalidInput(GraderError):
    """Input that cannot be used; ``reasons``: one line each, where each one is."""

    @property
    def reasons(self) -> list[str]:
        return [line.strip() for line in str(self).splitlines()]


class Conflict(GraderError):
    """The thing exists, but not in the form asked for."""


class Unavailable(GraderError):
    """Nothing is taken now; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OverLimit(Unavailable):
    """One learner, one token or one instructor has as much under way as allowed."""


class StorageError(GraderError):
    """The database cannot be used as it is."""


class ConfigError(GraderError):
    """The operator's to fix: a setting or a file it names."""


class RetryLater(GraderError):
    """A fault of the grader's, not of the input: the work is tried again later."""


class OutOfTime(GraderError):
    """Work given a deadline did not finish by it."""
