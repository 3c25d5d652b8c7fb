"""The sandbox's errors: its own tree, the grader's second and last root (the sandbox imports
nothing of the grader).

    SandboxError              the sandbox could not run a submission: the grader's fault
    ├── SandboxUnavailable    a required layer is missing, or the self-test failed
    ├── SeccompError          the filter cannot be built or loaded (an OSError too)
    │   └── UnsupportedArchitecture
    ├── LandlockError         the ruleset cannot be built or applied (an OSError too)
    ├── FrameError            bytes from a child that are not a frame (a verdict, once caught)
    └── NoFreeUids            no block of sandbox uids could be claimed
"""

from __future__ import annotations


class SandboxError(Exception):
    """The sandbox could not run the submission; the grader's fault, not the learner's."""


class SandboxUnavailable(SandboxError):
    """The sandbox refuses to grade at all: a required layer is missing or its self-test
    failed. Retrying does not help; the reason says what an operator must fix."""
