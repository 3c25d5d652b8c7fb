# Makes a chain of 3000 nested directories (deeper than PATH_MAX), in /tmp and in its working
# folder, for cleanup to trip over.
import os


def chain(base):
    os.mkdir(base)
    os.chdir(base)
    for _ in range(3000):
        os.mkdir("d")
        os.chdir("d")


ATTEMPTS = {
    "a chain in /tmp": lambda: chain("/tmp/grader-pwned-chain"),
    "a chain in its working folder": lambda: chain("grader-pwned-chain"),
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
