# Sets the times of a folder outside and of the secret file (to 1970, and to now).
import os

OUTSIDE, SECRET = "__OUTSIDE_DIR__", "__SECRET_FILE__"
ATTEMPTS = {
    "times of the folder outside": lambda: os.utime(OUTSIDE, (0, 0)),
    "times of the secret file": lambda: os.utime(SECRET),
    "times of a link, not followed": lambda: os.utime(OUTSIDE, (0, 0), follow_symlinks=False),
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
