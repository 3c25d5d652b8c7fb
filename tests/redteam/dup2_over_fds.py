# Puts its stdout over the result channel, and the case channel over its stdout: dup, dup2,
# dup3 and fcntl(F_DUPFD).
import fcntl
import os

ATTEMPTS = {
    "dup2 stdout over fd 3": lambda: os.dup2(1, 3),
    "dup3 fd 0 over stdout": lambda: os.dup2(0, 1, inheritable=False),
    "dup fd 3": lambda: os.dup(3),
    "F_DUPFD of fd 3": lambda: fcntl.fcntl(3, fcntl.F_DUPFD, 10),
    "F_DUPFD_CLOEXEC of fd 3": lambda: fcntl.fcntl(3, fcntl.F_DUPFD_CLOEXEC, 10),
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
