"""Exercises as data: the spec format, bundles (files in memory and folders on disk), the
built-in exercises with their trusted functions, and the scaffold of a new bundle.

May import ``grader.sandbox``'s interface and ``grader.errors``/``grader.settings`` only.
"""
