# Makes directories that cannot be listed (mode 0300) with another inside, in /tmp and in its
# working folder, so that a cleanup that lists them fails.
import os


def locked(base):
    os.mkdir(base, 0o700)
    os.mkdir(os.path.join(base, "inner"), 0o300)
    os.chmod(base, 0o300)


ATTEMPTS = {
    "in /tmp": lambda: locked("/tmp/grader-pwned-locked"),
    "in its working folder": lambda: locked("grader-pwned-locked"),
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
