# Raises an exception whose __str__ recurses without end, and whose __repr__ does too.
class Endless(Exception):
    def __str__(self):
        return str(self)

    def __repr__(self):
        return repr(self)


def conv(image, kernel):
    raise Endless()
