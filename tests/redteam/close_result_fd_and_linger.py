# Closes the result channel (fd 3) and keeps running, so that the grader must kill it: that is
# not a memory limit, whatever signal ended it.
import os
import time


def conv(image, kernel):
    os.close(3)
    time.sleep(60)
