# Gives pid 1 and the parent an idle or batch scheduling policy, or new parameters.
import os

PARAM = os.sched_param(0)
ATTEMPTS = {
    "idle policy for pid 1": lambda: os.sched_setscheduler(1, os.SCHED_IDLE, PARAM),
    "batch policy for the parent": lambda: os.sched_setscheduler(
        os.getppid(), os.SCHED_BATCH, PARAM),
    "parameters of pid 1": lambda: os.sched_setparam(1, PARAM),
    "parameters of the parent": lambda: os.sched_setparam(os.getppid(), PARAM),
    "read the parent's policy": lambda: os.sched_getscheduler(os.getppid()),
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
