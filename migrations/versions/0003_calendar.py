"""calendar: holidays, leaves, whole-day marks, employee requests, half-day / absent thresholds of shifts,
employment dates of users, and the calendar columns of work days (holiday, leave_kind, leave_half, mark)

Revision ID: 0003_calendar
Revises: 0002_punch_kind_fixed
Create Date: 2026-12-02 06:27:34

Existing users keep employed_from / employed_to null: the day of creation and the day of deactivation stand in
for them (attendance.service.employment_dates), as before this revision.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.database


revision = '0003_calendar'
down_revision = '0002_punch_kind_fixed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('day_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('marked_by', sa.Integer(), nullable=True),
    sa.Column('marked_at', server.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['marked_by'], ['users.id'], name=op.f('fk_day_marks_marked_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_day_marks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_day_marks')),
    sa.UniqueConstraint('user_id', 'work_date', name=op.f('uq_day_marks_user_id_work_date'))
    )
    with op.batch_alter_table('day_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_day_marks_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_day_marks_work_date'), ['work_date'], unique=False)

    op.create_table('employee_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', server.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', server.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_employee_requests_decided_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_employee_requests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employee_requests'))
    )
    with op.batch_alter_table('employee_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employee_requests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_employee_requests_user_id'), ['user_id'], unique=False)

    op.create_table('holidays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('site', sa.String(length=100), nullable=True),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', server.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_holidays_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holidays')),
    sa.UniqueConstraint('date', 'scope', name=op.f('uq_holidays_date_scope'))
    )
    with op.batch_alter_table('holidays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holidays_date'), ['date'], unique=False)

    op.create_table('leaves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('to_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('half', sa.String(length=2), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', server.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', server.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['cancelled_by'], ['users.id'], name=op.f('fk_leaves_cancelled_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_leaves_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_leaves_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaves'))
    )
    with op.batch_alter_table('leaves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leaves_from_date'), ['from_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_leaves_to_date'), ['to_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_leaves_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('half_day_below_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('absent_below_minutes', sa.Integer(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employed_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('employed_to', sa.Date(), nullable=True))

    with op.batch_alter_table('work_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holiday', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('leave_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('leave_half', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('mark', sa.String(length=16), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('work_days', schema=None) as batch_op:
        batch_op.drop_column('mark')
        batch_op.drop_column('leave_half')
        batch_op.drop_column('leave_kind')
        batch_op.drop_column('holiday')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('employed_to')
        batch_op.drop_column('employed_from')

    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_column('absent_below_minutes')
        batch_op.drop_column('half_day_below_minutes')

    with op.batch_alter_table('leaves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leaves_user_id'))
        batch_op.drop_index(batch_op.f('ix_leaves_to_date'))
        batch_op.drop_index(batch_op.f('ix_leaves_from_date'))

    op.drop_table('leaves')
    with op.batch_alter_table('holidays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holidays_date'))

    op.drop_table('holidays')
    with op.batch_alter_table('employee_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employee_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_employee_requests_status'))

    op.drop_table('employee_requests')
    with op.batch_alter_table('day_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_day_marks_work_date'))
        batch_op.drop_index(batch_op.f('ix_day_marks_user_id'))

    op.drop_table('day_marks')
