"""Callback deliveries: one row per submission and grading round, claimed by the processes
that send callbacks (attempts, when the next is due, which host's place it holds).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "callback_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("webhook_id", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("in_flight_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("submission_id", "round", name="uq_delivery_round"),
    )
    op.create_index("ix_callback_deliveries_state", "callback_deliveries", ["state"])
    op.create_index("ix_callback_deliveries_next_attempt_at", "callback_deliveries",
                    ["next_attempt_at"])


def downgrade() -> None:
    raise NotImplementedError("the grader's schema is only ever upgraded")
