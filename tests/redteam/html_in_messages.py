# Markup, terminal escapes and bidirectional overrides, in its printout and in the message of
# its exception, for the learner's report page.
import sys

PAYLOAD = ('<script>alert("pwned")</script><img src=x onerror=alert(1)>'
           '\x1b[2J\x1b]0;owned\x07\u202e</pre><a href="javascript:alert(1)">x</a>')


def conv(image, kernel):
    print(PAYLOAD)
    print(PAYLOAD, file=sys.stderr)
    raise ValueError(PAYLOAD)
