"""gallery_changes: the change log keyed by gallery version, applied incrementally by every replica's gallery sync

Revision ID: 0006_gallery_changes
Revises: 0005_liveness
Create Date: 2026-12-02 19:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.database import UTCDateTime

revision = "0006_gallery_changes"
down_revision = "0005_liveness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gallery_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gallery_changes")),
    )
    op.create_index(op.f("ix_gallery_changes_version"), "gallery_changes", ["version"])


def downgrade() -> None:
    op.drop_index(op.f("ix_gallery_changes_version"), table_name="gallery_changes")
    op.drop_table("gallery_changes")
