# Sets, reads, lists and removes extended attributes of a folder outside and the secret file.
import os

OUTSIDE, SECRET = "__OUTSIDE_DIR__", "__SECRET_FILE__"
ATTEMPTS = {
    "set an attribute outside": lambda: os.setxattr(OUTSIDE, "user.grader-pwned", b"1"),
    "read an attribute of the secret": lambda: os.getxattr(SECRET, "user.grader"),
    "list the secret's attributes": lambda: os.listxattr(SECRET),
    "remove an attribute outside": lambda: os.removexattr(OUTSIDE, "user.grader"),
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
