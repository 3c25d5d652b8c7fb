"""Exercise versions, the grading round and the queue.

Every published spec is a version of its exercise, kept for good; a submission records the
version it was accepted with and the round (regrades start new ones) it is graded in. On
PostgreSQL this also creates the job queue's schema (procrastinate's), so that one
``grader migrate`` brings everything to the current schema.

Revision ID: 0002
Revises: 0001
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "exercise_versions",
        sa.Column("exercise_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, spec, updated_at FROM exercises")).all()
    versions = sa.table("exercise_versions", sa.column("exercise_id", sa.String),
                        sa.column("version", sa.Integer), sa.column("spec", sa.Text),
                        sa.column("created_at", sa.DateTime(timezone=True)))
    if rows:
        op.bulk_insert(versions, [
            {"exercise_id": r[0], "version": 1, "spec": r[1],
             "created_at": r[2] or dt.datetime.now(dt.UTC)} for r in rows])
    op.drop_table("exercises")
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("exercise_version", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_submissions_scope_status", ["scope", "status"])
        batch.create_index("ix_submissions_learner_status", ["scope", "learner_id", "status"])
        batch.create_index("ix_submissions_finished_at", ["finished_at"])
    if bind.dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    raise NotImplementedError("the grader's schema is only ever upgraded")
