"""Storage: submissions, published versions, callback attempts and the queue's jobs in one
database (SQLite or PostgreSQL), with its Alembic migrations.

Rows in, rows out: it imports nothing of the grader above ``grader.errors``.
"""
