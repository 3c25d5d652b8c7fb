"""The HTTP layer: the app factory, its dependencies, one router per resource, and the mapping
of every error to a problem+json answer.

It owns requests and responses only: what a route does is one call into ``grader.service``.
May import every layer below it (service, pages, grading, catalog, storage, sandbox), never
``bench`` or ``cli``.
"""
