# Lowers the parent's (the zygote's) open-file limit and reads its limits, with prlimit64.
import os
import resource

PARENT = os.getppid()
ATTEMPTS = {
    "lower the parent's RLIMIT_NOFILE": lambda: resource.prlimit(
        PARENT, resource.RLIMIT_NOFILE, (3, 3)),
    "read the parent's RLIMIT_AS": lambda: resource.prlimit(PARENT, resource.RLIMIT_AS),
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
