"""A row of ``grader bench --attacks``: what one hostile learner's waiting and lingering does to
another learner's latency.

For each attack, ``ATTACKERS`` submissions of it (one learner's cap) are graded back to back,
each holding a place as the service gives one, while one honest client grades a correct
solution; the honest p50 is compared with the same client's p50 on an idle runner, measured in
the same run. The attacks are the ways a submission can hold a place without computing: sleeping,
a blocked read of its input pipe, stopping itself, a write blocked on a full output budget, and
spinning after its last answer (in a loop after returning, or in a SIGALRM handler).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from grader.bench.measure import Figures, measure
from grader.catalog.exercises import Exercise
from grader.grading.grade import grade
from grader.grading.report import Report
from grader.sandbox.forkserver import ForkServerRunner

ATTACKERS = 4  # the default per-learner cap
_CORRECT = ("    import numpy as np\n"
            "    h, w = image.shape[0] - 2, image.shape[1] - 2\n"
            "    return np.array([[np.sum(image[i:i + 3, j:j + 3] * kernel) for j in range(w)]\n"
            "                     for i in range(h)])\n")
ATTACKS: dict[str, str] = {
    "sleeps": "import time\n\ndef conv(image, kernel):\n    time.sleep(60)\n",
    "reads its input pipe": "import os\n\ndef conv(image, kernel):\n    os.read(0, 1 << 20)\n"
                            "    os.read(0, 1 << 20)\n",
    "stops itself": "import os, signal\n\ndef conv(image, kernel):\n"
                    "    os.kill(os.getpid(), signal.SIGSTOP)\n",
    "fills its output": "import sys\n\ndef conv(image, kernel):\n    while True:\n"
                        "        sys.stdout.write('x' * 65536)\n",
    "spins after its last answer": "import signal\n\ncalls = []\n\ndef _spin(*_):\n"
                                   "    while True:\n        pass\n\ndef conv(image, kernel):\n"
                                   "    calls.append(1)\n    if len(calls) == 4:\n"
                                   "        signal.signal(signal.SIGALRM, _spin)\n"
                                   "        signal.setitimer(signal.ITIMER_REAL, 0.001)\n"
                                   + _CORRECT,
}


def attack_rows(exercise: Exercise, runner: ForkServerRunner, honest: str, count: int,
                secret: bytes) -> list[str]:
    """One line per attack: the honest client's figures, and its p50 against the idle one."""

    def graded(source: str, seed: int) -> Report:  # as the service grades: a place first
        with runner.fast_place():
            return grade(exercise, source, runner, seed=seed, hidden_secret=secret)

    def honest_one(i: int) -> None:
        report = graded(honest, i)
        assert report.passed, report.cases

    runner.settle()
    idle = measure("(f) idle, one honest client", 1, count, honest_one)
    out = [idle.line()]
    for name, source in ATTACKS.items():
        row = _under_attack(name, source, graded, honest_one, count)
        out.append(f"{row.line()}  {row.percentile(0.5) / idle.percentile(0.5):5.2f}x idle p50")
        runner.settle()
    out.append(f"(f) lanes: {runner.lanes.moved_to_slow} moved to the slow lane, "
               f"{runner.lanes.parked} parked")
    return out


def _under_attack(name: str, source: str, graded: Callable[[str, int], Report],
                  honest_one: Callable[[int], None], count: int) -> Figures:
    """The honest client's figures while ``ATTACKERS`` threads grade ``source`` back to back;
    the attackers stop when the honest client is done (their last run ends in its limits)."""
    stop = threading.Event()

    def attacker(offset: int) -> None:
        i = offset
        while not stop.is_set():
            graded(source, i)
            i += ATTACKERS

    threads = [threading.Thread(target=attacker, args=(n,), name=f"attacker-{n}")
               for n in range(ATTACKERS)]
    for thread in threads:
        thread.start()
    try:
        return measure(f"(f) while {ATTACKERS} submissions {name}", 1, count, honest_one)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
