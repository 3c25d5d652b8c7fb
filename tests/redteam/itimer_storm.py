# Fires all three interval timers every microsecond, with handlers, while it spins.
import signal


def conv(image, kernel):
    ticks = [0]
    for sig, timer in ((signal.SIGALRM, signal.ITIMER_REAL),
                       (signal.SIGVTALRM, signal.ITIMER_VIRTUAL),
                       (signal.SIGPROF, signal.ITIMER_PROF)):
        signal.signal(sig, lambda signum, frame: ticks.__setitem__(0, ticks[0] + 1))
        signal.setitimer(timer, 1e-6, 1e-6)
    while True:
        pass
