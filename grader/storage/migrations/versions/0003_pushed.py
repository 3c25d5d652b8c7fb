"""Pushed bundles: a version's files, where it was restored from, and its pools of outputs.

A version published as a bundle keeps its files (``files``, JSON: path -> text); one published
as a spec alone (before bundles could be pushed) has none, and names a built-in bundle's
functions. ``restored_from`` is the version a rollback copied. ``exercise_outputs`` holds, per
version and server secret (its fingerprint), the outputs its code gave in the sandbox for a
pool of seeds (no longer written: outputs are now computed for each submission).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("exercise_versions") as batch:
        batch.add_column(sa.Column("files", sa.Text(), nullable=True))
        batch.add_column(sa.Column("restored_from", sa.Integer(), nullable=True))
    op.create_table(
        "exercise_outputs",
        sa.Column("exercise_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("secret_id", sa.String(32), primary_key=True),
        sa.Column("seeds", sa.Text(), nullable=False),
        sa.Column("outputs", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("the grader's schema is only ever upgraded")
