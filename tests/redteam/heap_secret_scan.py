# Every string and bytes object it can reach (the collector's objects, every frame up the
# stack to the zygote's own, their locals and globals, and what they hold), searched for the
# grader's secrets and its database's path. The zygote was started with none of them.
import gc
import sys

NEEDLES = ("__SECRET_A__", "__SECRET_B__", "__SECRET_FILE__", "GRADER_PLATFORM_TOKENS")


def scan():
    seen = set()
    todo = list(gc.get_objects())
    frame = sys._getframe(1)
    while frame is not None:
        todo += [frame.f_locals, frame.f_globals]
        frame = frame.f_back
    found = 0
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, bytes | bytearray):
            obj = bytes(obj).decode("latin-1")
        if isinstance(obj, str):
            # its own source (held by the harness) and constants are not what it looks for
            if obj not in NEEDLES and "NEEDLES" not in obj:
                found += sum(needle in obj for needle in NEEDLES)
        elif isinstance(obj, dict):
            todo += list(obj.keys()) + list(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            todo += list(obj)
        elif hasattr(obj, "__dict__") and isinstance(getattr(obj, "__dict__", None), dict):
            todo.append(obj.__dict__)
    return found


FOUND = []


def conv(image, kernel):
    if not FOUND:  # once: a scan takes memory, and the cases share the process
        FOUND.append(scan())
    raise RuntimeError(f"found {FOUND[0]} secrets")
