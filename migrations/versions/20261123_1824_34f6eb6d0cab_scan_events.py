"""Scan events: the audit trail of handheld scans and decisions, and the exceptions supervisors resolve.

Hand-reviewed: autogenerate output, nothing beyond it.

Revision ID: 34f6eb6d0cab
Revises: 693c9e1a43e0
Create Date: 2026-11-23 18:24:53.338555+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '34f6eb6d0cab'
down_revision = '693c9e1a43e0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scan_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=True, comment='when the device says the scan was made (it may have been offline)'),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('flow', sa.String(length=32), nullable=False, comment='pick, putaway, replenish, pack, receive, ...'),
    sa.Column('step', sa.String(length=32), nullable=False, comment='location, item, quantity, tote, drop, exception, ...'),
    sa.Column('code', sa.String(length=200), nullable=True, comment='what was scanned or typed'),
    sa.Column('outcome', sa.Enum('applied', 'accepted', 'refused', 'exception', name='scan_outcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('pick_order_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True, comment='exceptions: when a supervisor dealt with it'),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['pick_order_id'], ['pick_orders.id'], name=op.f('fk_scan_events_pick_order_id_pick_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_scan_events_resolved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_scan_events_task_id_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_scan_events_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_scan_events_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_events'))
    )
    with op.batch_alter_table('scan_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_scan_events_open_exceptions', ['warehouse_id', 'outcome', 'resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_events_pick_order_id'), ['pick_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_events_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_events_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_events_warehouse_id'), ['warehouse_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scan_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_events_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_scan_events_user_id'))
        batch_op.drop_index(batch_op.f('ix_scan_events_task_id'))
        batch_op.drop_index(batch_op.f('ix_scan_events_pick_order_id'))
        batch_op.drop_index('ix_scan_events_open_exceptions')
        batch_op.drop_index(batch_op.f('ix_scan_events_at'))

    op.drop_table('scan_events')
