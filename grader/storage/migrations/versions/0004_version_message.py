"""A published version's message: what its instructor said of it when pushing
(``grader exercises push --message``).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("exercise_versions") as batch:
        batch.add_column(sa.Column("message", sa.String(500), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("the grader's schema is only ever upgraded")
