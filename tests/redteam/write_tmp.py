def conv(image, kernel):
    with open("/tmp/grader-pwned", "w") as f:
        f.write("pwned")
