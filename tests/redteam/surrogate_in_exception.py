# Raises an exception whose message holds a lone surrogate, which no UTF-8 text can hold: the
# report must still be written.
def conv(image, kernel):
    raise ValueError("half a character: \ud800")
