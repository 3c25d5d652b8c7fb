def conv(image, kernel):
    with open("/dev/shm/grader-pwned", "w") as f:
        f.write("pwned")
