def conv(image, kernel):
    with open("__OUTSIDE_DIR__/pwned", "w") as f:
        f.write("pwned")
