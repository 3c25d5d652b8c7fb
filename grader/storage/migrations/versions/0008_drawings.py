"""The visible cases' arrays as graded, kept with the report so that its page draws them
without running the learner's code again: ``submissions.drawings`` (JSON text, see
``grader.grading.drawings``). Submissions graded before this revision have none; their pages
run the visible cases again, as before, until they are graded again.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("drawings", sa.Text(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("the grader's schema is only ever upgraded")
