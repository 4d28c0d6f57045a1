"""face_attempts.gallery_size, face_attempts.expected_fpir: the 1:N operating point a decision was taken at

Revision ID: 0004_face_attempt_point
Revises: 0003_calendar
Create Date: 2026-12-02 07:00:00

A 1:N decision (kiosk, /faces/identify, face login without a code) runs at a threshold that follows the gallery's size
(server/faces/operating.py); its record keeps that threshold (existing column), the size N and the expected FPIR.
Both are NULL for 1:1 decisions and for rows written before this revision.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_face_attempt_point"
down_revision = "0003_calendar"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("face_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gallery_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("expected_fpir", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("face_attempts", schema=None) as batch_op:
        batch_op.drop_column("expected_fpir")
        batch_op.drop_column("gallery_size")
