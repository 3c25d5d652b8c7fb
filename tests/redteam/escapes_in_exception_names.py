# Terminal escapes and bidi overrides where the grader quotes names rather than messages: an
# exception class whose name, qualified name and module hold a screen clear, a cursor move, an
# OSC 52 clipboard write, a right-to-left override, a carriage return and a backspace, raised
# with a message of the same, and printed. Every one must reach the report as inert text.
class Evil(Exception):
    pass


Evil.__name__ = Evil.__qualname__ = "\x1b]52;c;cHduZWQ=\x07\u202eBoom\r\x08"
Evil.__module__ = "\x1b[2J\x1b[1;1Hscore 4/4\u2066"
print("\x1b[2J\x1b[1;1Hscore: 4/4 PASSED\u202e\r")


def conv(image, kernel):
    raise Evil("\x1b[2J\u202emessage\r\x1b[A")
