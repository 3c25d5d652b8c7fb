"""Grading, pure: a spec, a source and an oracle in, a report out. Case inputs from a seed,
the trusted comparison, diagnoses of known mistakes, every sentence a learner reads, and the
proof of a spec through the sandbox.

No storage, no HTTP: it may import ``grader.catalog`` and ``grader.sandbox`` only.
"""
