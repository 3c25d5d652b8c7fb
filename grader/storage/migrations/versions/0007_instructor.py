"""The instructor's view: what a finished grading found, in columns that SQL can count, and who
published each version.

On ``submissions``: ``passed``, ``score_pct`` (the score as a whole percentage of the
maximum, rounded down), ``cases_passed`` (bit i set: case i passed), ``duration_ms`` and
``attempt`` (the learner's n-th submission to the exercise) and ``first_pass`` (the learner's
first passing submission to the exercise), written when a grading finishes.
``submission_mistakes`` holds each graded submission's mistakes, one row each, with the
submission's exercise, version and time beside it so that counting them needs no join. The
indexes let the summary of an exercise be read from indexes alone on PostgreSQL (covering
columns in ``INCLUDE``). ``exercise_versions.published_by``: the name of the instructor
token that published or restored the version. Submissions graded before this revision have
none of it until they are graded again.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

SUMMARY_COLUMNS = ["passed", "attempt", "first_pass", "score_pct", "cases_passed",
                   "exercise_version"]


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("passed", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("score_pct", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("cases_passed", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("duration_ms", sa.Float(), nullable=True))
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("first_pass", sa.Boolean(), nullable=True))
    op.create_index("ix_submissions_summary", "submissions", ["exercise_id", "created_at"],
                    postgresql_include=SUMMARY_COLUMNS)
    op.create_index("ix_submissions_learner", "submissions",
                    ["exercise_id", "learner_id", "created_at"])
    op.create_index("ix_submissions_slowest", "submissions", ["exercise_id", "duration_ms"])
    op.create_table(
        "submission_mistakes",
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  primary_key=True),
        sa.Column("mistake", sa.String(128), primary_key=True),
        sa.Column("exercise_id", sa.String(64), nullable=False),
        sa.Column("exercise_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_submission_mistakes_count", "submission_mistakes",
                    ["exercise_id", "mistake", "created_at"],
                    postgresql_include=["exercise_version"])
    with op.batch_alter_table("exercise_versions") as batch:
        batch.add_column(sa.Column("published_by", sa.String(64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("the grader's schema is only ever upgraded")
