"""Pages for people: the report page with its heatmaps, the visible cases' outputs drawn again
for it, and the signed links that open it.

May import ``grader.grading``, ``grader.catalog``, ``grader.sandbox``, and ``grader.storage``
for a submission's status.
"""
