# Walks up the stack into the zygote's frames (the child was forked from inside them), finds the
# zygote's control socket, and sends it requests: kill every run, fork a run of its own. The
# socket's descriptor was closed in the child before any learner code ran.
import json
import sys


def conv(image, kernel):
    errors = []
    frame = sys._getframe()
    while frame is not None:
        zygote = frame.f_locals.get("self")
        if zygote is not None and hasattr(zygote, "ctrl"):
            for run_id in list(getattr(zygote, "by_id", {})) or ["0"]:
                for message in ({"op": "kill", "id": run_id},
                                {"op": "run", "id": "escape", "uid": 0, "gid": 0, "cpu": 999,
                                 "memory": 1 << 40, "scratch": None}):
                    try:
                        zygote.ctrl.send(json.dumps(message).encode())
                        errors.append("sent")
                    except OSError as error:
                        errors.append(type(error).__name__)
        frame = frame.f_back
    if not errors or "sent" in errors:
        raise RuntimeError(f"control socket: {errors or 'not found'}")
    raise PermissionError(f"refused: {sorted(set(errors))}")
