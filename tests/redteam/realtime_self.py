# Tries to raise its own scheduling above everyone's (a real-time policy, a negative nice value,
# the limits that would permit them), then to spin. Every attempt must be refused.
import os
import resource

ATTEMPTS = {
    "fifo": lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50)),
    "rr": lambda: os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(50)),
    "nice": lambda: os.nice(-5),
    "setpriority": lambda: os.setpriority(os.PRIO_PROCESS, 0, -20),
    "rlimit_rtprio": lambda: resource.setrlimit(resource.RLIMIT_RTPRIO, (99, 99)),
    "rlimit_nice": lambda: resource.setrlimit(resource.RLIMIT_NICE, (40, 40)),
}


def conv(image, kernel):
    worked = []
    for name, attempt in ATTEMPTS.items():
        try:
            attempt()
            worked.append(name)
        except (PermissionError, ValueError):
            pass
    if worked:
        while True:  # with any of these, a spinning child would starve the machine
            pass
    raise PermissionError("every attempt was refused")
