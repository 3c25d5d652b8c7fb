# Reads the limits of the pids around its own and its parent's (its siblings), and its own by
# number: only pid 0 (itself) is allowed.
import os
import resource


def conv(image, kernel):
    own, parent = os.getpid(), os.getppid()
    pids = {own, *range(max(own - 64, 1), own + 64), *range(max(parent - 64, 1), parent + 64)}
    for pid in sorted(pids):
        try:
            resource.prlimit(pid, resource.RLIMIT_NOFILE)
        except PermissionError as error:
            refused = error
        else:
            raise RuntimeError(f"read the limits of pid {pid}")
    raise refused
