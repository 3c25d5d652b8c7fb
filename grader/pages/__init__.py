"""Pages for people: the report page with its heatmaps, the visible cases' outputs drawn again
for it, and the signed links that open it.

May import ``grader.grading``, ``grader.catalog`` and ``grader.sandbox``.
"""
