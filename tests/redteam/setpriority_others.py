# Renices, and reads the priority of, the parent, pid 1, a process group and every process of
# its uid (the grader's own uid when it does not run as root).
import os

ATTEMPTS = {
    "renice the parent": lambda: os.setpriority(os.PRIO_PROCESS, os.getppid(), 19),
    "renice pid 1": lambda: os.setpriority(os.PRIO_PROCESS, 1, 19),
    "renice its process group": lambda: os.setpriority(os.PRIO_PGRP, 0, 19),
    "renice process group 1": lambda: os.setpriority(os.PRIO_PGRP, 1, 19),
    "renice its uid": lambda: os.setpriority(os.PRIO_USER, 0, 19),
    "read the parent's priority": lambda: os.getpriority(os.PRIO_PROCESS, os.getppid()),
    "read its uid's priority": lambda: os.getpriority(os.PRIO_USER, 0),
}


def conv(image, kernel):
    for name, attempt in ATTEMPTS.items():
        try:
            attempt()
        except PermissionError as error:
            refused = error
        else:
            raise RuntimeError(f"allowed: {name}")
    raise refused
