import socket

try:
    socket.create_connection(("127.0.0.1", __PORT__), timeout=1).sendall(b"hello")
except OSError:
    pass


def conv(image, kernel):
    return None
