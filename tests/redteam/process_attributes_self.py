# Tries to change what it is: dumpable again (core dumps, /proc access), a name, a personality
# without address randomisation, a subreaper of orphans, a death signal, a timer slack, a
# securebits set, a new session: each through prctl, personality or setsid, none allowed.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NAME, PR_SET_TIMERSLACK = 1, 4, 15, 29
PR_SET_SECUREBITS, PR_SET_CHILD_SUBREAPER, ADDR_NO_RANDOMIZE = 28, 36, 0x0040000


def conv(image, kernel):
    worked = []
    for name, call in (
        ("dumpable", lambda: libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)),
        ("name", lambda: libc.prctl(PR_SET_NAME, b"grader", 0, 0, 0)),
        ("pdeathsig", lambda: libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)),
        ("timerslack", lambda: libc.prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0)),
        ("securebits", lambda: libc.prctl(PR_SET_SECUREBITS, 0, 0, 0, 0)),
        ("subreaper", lambda: libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)),
        ("personality", lambda: libc.personality(ADDR_NO_RANDOMIZE)),
        ("setsid", lambda: libc.setsid()),
    ):
        if call() >= 0:
            worked.append(name)
    if worked:
        raise RuntimeError(f"allowed: {worked}")
    raise PermissionError(os.strerror(ctypes.get_errno()))
