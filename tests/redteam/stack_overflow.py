def conv(image, kernel):
    nested = ()
    for _ in range(300000):
        nested = (nested,)
    return hash(nested)  # recursion in C, with no depth check, past the end of the stack
