"""One router per resource: submissions, exercises, report pages, operations and the docs."""
