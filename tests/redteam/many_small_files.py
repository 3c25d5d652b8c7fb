# Exhausts inodes: 100000 empty files or nodes in /tmp and in its working folder.
import os
import stat


def files(prefix):
    for i in range(100_000):
        open(f"{prefix}-{i}", "x").close()


def nodes(prefix):
    for i in range(100_000):
        os.mknod(f"{prefix}-{i}", stat.S_IFREG | 0o600)


ATTEMPTS = {
    "files in /tmp": lambda: files("/tmp/grader-pwned-inode"),
    "files in its working folder": lambda: files("grader-pwned-inode"),
    "nodes in /tmp": lambda: nodes("/tmp/grader-pwned-node"),
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
