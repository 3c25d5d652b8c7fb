"""The service: admission (caps, backlog, Retry-After), one attempt at grading and its fault
policy, the embedded and the queued implementations of one ``Submissions`` interface, the
worker of the distributed mode, published versions, callbacks and metrics.

May import ``grader.storage``, ``grader.grading``, ``grader.pages``, ``grader.catalog`` and
``grader.sandbox``; never ``grader.api``.
"""
