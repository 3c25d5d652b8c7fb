# Fills the disk: a 2 GiB file in /tmp and in its working folder, or 2 GiB behind its stdout.
import os

MIB = b"\0" * (1 << 20)


def fill(path):
    with open(path, "wb") as f:
        for _ in range(2048):
            f.write(MIB)


ATTEMPTS = {
    "2 GiB in /tmp": lambda: fill("/tmp/grader-pwned-fill"),
    "2 GiB in its working folder": lambda: fill("grader-pwned-fill"),
    "ftruncate stdout to 2 GiB": lambda: os.truncate(1, 2 << 30),
    "fallocate 2 GiB on stdout": lambda: os.posix_fallocate(1, 0, 2 << 30),
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
