"""A runner for tests of everything above the sandbox: it calls a trusted Python function.

``FakeRunner(function)`` answers each case with ``function(*args)``, in this process. It is
for tests of the pipeline and the API only, never for learner code: the sandbox's own tests and
the end-to-end ones use the real ``ForkServerRunner``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from grader.sandbox.base import NOBODY, CaseRun, Job, Kind, LearnerError, Owner, RunResult


class FakeRunner:
    slow_slots = 0  # no lanes: every job runs at once, in this process

    def __init__(self, function: Callable[..., Any], stdout: str = "",
                 refusal: str | None = None) -> None:
        self.refusal = refusal
        self.function = function
        self.stdout = stdout
        self.jobs: list[Job] = []

    @contextlib.contextmanager
    def fast_place(self, low: bool = False, freed: Callable[[], None] | None = None,
                   kind: Kind | None = None, owner: Owner = NOBODY) -> Iterator[None]:
        try:
            yield
        finally:
            if freed is not None:
                freed()

    def run(self, job: Job) -> RunResult:
        self.jobs.append(job)
        cases = []
        for case in job.cases:
            try:
                output = self.function(*(a.item() if a.ndim == 0 else a.copy()
                                         for a in case.args))
            except Exception as error:  # noqa: BLE001 - a fake learner's failure is a result
                cases.append(CaseRun(kind="error",
                                     error=LearnerError(type(error).__name__, str(error))))
                continue
            kind = "ndarray" if isinstance(output, np.ndarray) else "list"
            cases.append(CaseRun(kind="output", array=np.asarray(output), output_type=kind))
        return RunResult(cases=cases, stdout=self.stdout)

    def close(self) -> None:
        pass
