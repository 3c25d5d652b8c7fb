# The receiving end of a covert channel: another submission encodes bits of its hidden input in
# when it burns CPU and when it sleeps; this one reads that process's CPU clock. It does not know
# the sender's pid, so it tries every pid near its own (its siblings are forked by the same
# zygote), its parent and pid 1, with clock_gettime and clock_getres of their process and thread
# CPU clocks. Every one must be refused; any other answer is reported.
import errno
import os
import time

ME = os.getpid()
PIDS = sorted({*range(max(1, ME - 64), ME + 65), os.getppid(), 1} - {ME})


def conv(image, kernel):
    answered = []  # a time, or EINVAL for a pid that does not exist: either tells something
    for pid in PIDS:
        for clock in (((~pid) << 3) | 2, ((~pid) << 3) | 6):
            for call in (time.clock_gettime, time.clock_getres):
                try:
                    call(clock)
                except OSError as error:
                    if error.errno != errno.EPERM:
                        answered.append(pid)
                    refused = error
                else:
                    answered.append(pid)
    if answered:
        raise RuntimeError(f"allowed: CPU clocks of pids {sorted(set(answered))[:10]}")
    raise refused
