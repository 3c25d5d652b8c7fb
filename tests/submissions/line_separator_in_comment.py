"""A form feed and a line separator in comments: Python does not count them as line
breaks, so the line an error names must be counted as Python counts it."""
# pasted from the notes:  a line separator
# and a form feed: here


def conv(image, kernel):
    raise ValueError("raised on line 8")
