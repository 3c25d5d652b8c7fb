# An exception class whose module is the grader's install path, raised with that path as its
# message: the type the report names and the message it quotes are both redacted.
import sys


class Boom(Exception):
    pass


Boom.__module__ = sys.prefix


def conv(image, kernel):
    raise Boom(f"installed in {sys.prefix}")
