# A SyntaxError of its own, raised from conv, that claims to be about the submission and fills
# the fields the harness reads for it with values of other types: a list for its message, a
# bool for its line. The parent keeps only well-typed parts.
class Forged(SyntaxError):
    pass


def conv(image, kernel):
    error = Forged()
    error.filename = "submission.py"
    error.msg = ["not", "a", "string", {"type": "result"}]
    error.lineno = True
    raise error
