"""LTI 1.3: registered platforms, the tool's signing keys, launch nonces and grade passbacks.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("issuer", sa.String(512), nullable=False, index=True),
        sa.Column("client_id", sa.String(256), nullable=False),
        sa.Column("deployment_id", sa.String(256), nullable=False),
        sa.Column("auth_login_url", sa.String(2048), nullable=False),
        sa.Column("auth_token_url", sa.String(2048), nullable=False),
        sa.Column("jwks_url", sa.String(2048), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.UniqueConstraint("issuer", "client_id", "deployment_id", name="uq_lti_platform"),
    )
    op.create_table(
        "lti_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("retired_at", moment, nullable=True),
    )
    op.create_table(
        "lti_nonces",
        sa.Column("nonce", sa.String(128), primary_key=True),
        sa.Column("created_at", moment, nullable=False, index=True),
        sa.Column("used_at", moment, nullable=True),
    )
    op.create_table(
        "lti_passbacks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  nullable=False, index=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("lineitem", sa.String(2048), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", moment, nullable=False, index=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("delivered_at", moment, nullable=True),
        sa.UniqueConstraint("submission_id", "round", name="uq_lti_passback"),
    )


def downgrade() -> None:
    raise NotImplementedError("the grader's schema is only ever upgraded")
