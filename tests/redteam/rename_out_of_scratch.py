import os


def conv(image, kernel):
    with open("note", "w") as f:
        f.write("pwned")
    os.rename("note", "__OUTSIDE_DIR__/pwned")
