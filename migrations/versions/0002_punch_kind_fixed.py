"""punches.kind_fixed: explicit (manual / corrected) kinds are kept, automatic kiosk kinds are re-derived

Revision ID: 0002_punch_kind_fixed
Revises: 0001
Create Date: 2026-12-01 19:30:00

Existing manual punches get kind_fixed = true (their kind was chosen by a person); kiosk punches stay automatic.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_punch_kind_fixed"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("punches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind_fixed", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text("UPDATE punches SET kind_fixed = :t WHERE source = 'manual'").bindparams(t=True))


def downgrade() -> None:
    with op.batch_alter_table("punches", schema=None) as batch_op:
        batch_op.drop_column("kind_fixed")
