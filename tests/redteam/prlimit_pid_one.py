# Lowers and reads the limits of pid 1 (the serving zygote in a pid namespace, else init).
import resource

ATTEMPTS = {
    "lower pid 1's RLIMIT_NOFILE": lambda: resource.prlimit(1, resource.RLIMIT_NOFILE, (3, 3)),
    "lower pid 1's RLIMIT_CPU": lambda: resource.prlimit(1, resource.RLIMIT_CPU, (1, 1)),
    "read pid 1's RLIMIT_NOFILE": lambda: resource.prlimit(1, resource.RLIMIT_NOFILE),
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
