# Writes its printout one byte per write, yielding the CPU between writes, so that the grader
# wakes up for a few bytes at a time: the grader's work per byte is bounded by the run's output
# budget and its deadline, and the case ends at its time limit.
import os


def conv(image, kernel):
    while True:
        os.write(1, b"x")
        os.sched_yield()
