# Locks the folder outside (mode 0), and opens the secret file to everyone (mode 0666).
import os

OUTSIDE, SECRET = "__OUTSIDE_DIR__", "__SECRET_FILE__"
ATTEMPTS = {
    "chmod 0 the folder outside": lambda: os.chmod(OUTSIDE, 0),
    "chmod 0666 the secret file": lambda: os.chmod(SECRET, 0o666),
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
