"""The floor of a process per submission: what a sandbox child costs here before any work.

Measured in a fresh interpreter that loads the learner modules as the zygote does (numpy and
the standard modules a child may import), so that it has about as much memory to share:

- a fork followed at once by the child's exit: the copy of the page tables, the new process,
  its teardown and its reaping, with no code run in the child;
- each page a child writes after the fork: the kernel's copy of a page shared with its parent
  (and, at the child's end, its release), measured on pages of 4 KiB.

A sandbox child's page faults times the second, plus the first, is what its life costs before
any of its own work is counted: the benchmark prints both beside the CPU account of its rows.

Run as ``python -I -m grader.bench.floor``; prints one JSON object.
"""

from __future__ import annotations

import gc
import importlib
import json
import mmap
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

PAGE = mmap.PAGESIZE
PAGES = 512  # written by each child of the second measurement
ROUNDS = 21  # alternating rounds of both measurements, the median of each kept
FORKS = 20  # forks per round and measurement


@dataclass(frozen=True)
class Floor:
    fork_exit_ms: float  # CPU time of a fork and the child's exit, parent and child together
    page_us: float  # CPU time of each page a child writes after the fork
    rss_mib: float  # the measuring process's resident memory, to set beside a zygote's

    def child_ms(self, faults: float) -> float:
        """The least a child with ``faults`` page faults costs: its fork and exit, and a copy
        per fault (a fault that only maps a page of a file costs less: this is an upper bound
        of the floor, never above what the child took)."""
        return self.fork_exit_ms + faults * self.page_us / 1000


def _forks(buffer: mmap.mmap | None) -> float:
    """CPU seconds per fork of ``FORKS`` forks whose children write one byte in each page
    of ``buffer`` (None: write nothing) and exit."""
    own = time.process_time()
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(FORKS):
        pid = os.fork()
        if pid == 0:
            if buffer is not None:
                for offset in range(0, PAGES * PAGE, PAGE):
                    buffer[offset] = 1
            os._exit(0)
        os.waitpid(pid, 0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime + after.ru_stime) - (reaped.ru_utime + reaped.ru_stime)
    return (time.process_time() - own + children) / FORKS


def measure() -> Floor:
    """Both figures, in this process (which should hold what a zygote holds)."""
    buffer = mmap.mmap(-1, PAGES * PAGE)
    buffer.madvise(mmap.MADV_NOHUGEPAGE)  # pages of 4 KiB, as most of a zygote's heap
    buffer.write(b"\x00" * (PAGES * PAGE))  # each page the parent's, shared at the fork
    bare, written = [], []
    for _ in range(ROUNDS):  # alternating, so that a slow moment of the machine hits both
        bare.append(_forks(None))
        written.append(_forks(buffer))
    fork_exit = statistics.median(bare)
    per_page = max(statistics.median(written) - fork_exit, 0.0) / PAGES
    return Floor(fork_exit * 1000, per_page * 1e6, _rss_mib())


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / (1 << 20)


def measured_apart() -> Floor:
    """``measure`` in a fresh interpreter with the learner modules loaded, as in a zygote."""
    done = subprocess.run([sys.executable, "-I", "-m", "grader.bench.floor"],
                          capture_output=True, text=True, check=True, timeout=300)
    figures = json.loads(done.stdout)
    return Floor(float(figures["fork_exit_ms"]), float(figures["page_us"]),
                 float(figures["rss_mib"]))


def main() -> None:
    from grader.sandbox.modules import LEARNER_MODULES

    for name in LEARNER_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    floor = measure()
    print(json.dumps({"fork_exit_ms": floor.fork_exit_ms, "page_us": floor.page_us,
                      "rss_mib": floor.rss_mib}))


if __name__ == "__main__":
    main()
