# Returns a list subclass whose length is a lie (2**62) and whose items are computed on
# demand, one a call, forever: converting it runs learner code inside the harness. It must end
# as an ordinary verdict of its own (the conversion's failure, or its time), never the grader's.
class Endless(list):
    def __len__(self):
        return 1 << 62

    def __getitem__(self, index):
        return [1.0, 2.0, 3.0]

    def __iter__(self):
        while True:
            yield [1.0, 2.0, 3.0]


def conv(image, kernel):
    return Endless([[0.0] * 3] * 3)
