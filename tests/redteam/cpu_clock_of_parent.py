# Reads the CPU time of the parent (the zygote) and of pid 1 (the grader's server in a
# container, the zygote in a pid namespace) through their CPU clocks: process clocks (PROF,
# VIRT, SCHED), their main threads' clocks, and clocks through fds, each with clock_gettime and
# clock_getres. Every one must be refused (EPERM); any other answer is reported.
import errno
import os
import time

PARENT = os.getppid()


def process_clock(pid, which):
    return ((~pid) << 3) | which


def thread_clock(tid, which):
    return ((~tid) << 3) | 4 | which


CLOCKS = {
    **{f"{who} {kind} clock {which}": make(pid, which)
       for who, pid in (("the parent's", PARENT), ("pid 1's", 1))
       for kind, make in (("process", process_clock), ("thread", thread_clock))
       for which in (0, 1, 2)},
    **{f"the clock of fd {fd}": ((~fd) << 3) | 3 for fd in range(4)},
}


def conv(image, kernel):
    for name, clock in CLOCKS.items():
        for call in (time.clock_gettime, time.clock_getres):
            try:
                call(clock)
            except OSError as error:
                if error.errno != errno.EPERM:  # the kernel looked the clock up
                    raise RuntimeError(f"answered: {call.__name__} of {name}: {error}") from None
                refused = error
            else:
                raise RuntimeError(f"allowed: {call.__name__} of {name}")
    raise refused
