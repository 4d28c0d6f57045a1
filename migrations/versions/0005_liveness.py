"""liveness: head-turn challenges, the per-device liveness mode, the punch's liveness mark, the attempt's measures

Revision ID: 0005_liveness
Revises: 0004_face_attempt_point
Create Date: 2026-12-02 07:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.database import UTCDateTime

revision = "0005_liveness"
down_revision = "0004_face_attempt_point"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "liveness_challenges",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("client", sa.String(128), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_liveness_challenges_device_id_devices"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liveness_challenges")),
    )
    op.create_index(op.f("ix_liveness_challenges_expires_at"), "liveness_challenges", ["expires_at"])
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("liveness_mode", sa.String(16), nullable=True))
    with op.batch_alter_table("punches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("liveness", sa.String(16), nullable=True))
    with op.batch_alter_table("face_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("liveness", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("face_attempts", schema=None) as batch_op:
        batch_op.drop_column("liveness")
    with op.batch_alter_table("punches", schema=None) as batch_op:
        batch_op.drop_column("liveness")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("liveness_mode")
    op.drop_index(op.f("ix_liveness_challenges_expires_at"), table_name="liveness_challenges")
    op.drop_table("liveness_challenges")
