import gc

SECRET = "".join(["__SECRET_A__", "__SECRET_B__"])
SECRET_BYTES = SECRET.encode()


def leaks():
    """Every string or bytes in any container in this process that holds the secret."""
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            items = list(obj.keys()) + list(obj.values())
        elif isinstance(obj, list | tuple | set):
            items = list(obj)
        else:
            continue
        for item in items:
            if item is SECRET or item is SECRET_BYTES:
                continue
            if (isinstance(item, str) and SECRET in item) or (
                isinstance(item, bytes) and SECRET_BYTES in item
            ):
                found.append(item)
    return found


def conv(image, kernel):
    leaked = leaks()
    raise ValueError(f"leaked {len(leaked)} secrets: {leaked[:3]}")
