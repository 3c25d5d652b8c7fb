# Gives a folder outside and the secret file to its own uid (or keeps them, with -1).
import os

OUTSIDE, SECRET = "__OUTSIDE_DIR__", "__SECRET_FILE__"
ATTEMPTS = {
    "chown the folder outside": lambda: os.chown(OUTSIDE, os.getuid(), os.getgid()),
    "chown the secret file, changing nothing": lambda: os.chown(SECRET, -1, -1),
    "lchown the folder outside": lambda: os.lchown(OUTSIDE, os.getuid(), os.getgid()),
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
