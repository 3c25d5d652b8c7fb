import os


def conv(image, kernel):
    os.symlink("__OUTSIDE_DIR__/pwned", "escape")
    with open("escape", "w") as f:
        f.write("pwned")
