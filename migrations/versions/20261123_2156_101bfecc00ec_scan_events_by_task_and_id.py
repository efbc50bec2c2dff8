"""Scan events indexed by (task, id): the handheld reads a line's newest event without sorting its history.

Hand-reviewed: replaces the single-column task index, which the new one covers.

Revision ID: 101bfecc00ec
Revises: f8997250f854
Create Date: 2026-11-23 21:56:43.342194+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '101bfecc00ec'
down_revision = 'f8997250f854'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scan_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_events_task_id'))
        batch_op.create_index('ix_scan_events_task_id_id', ['task_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scan_events', schema=None) as batch_op:
        batch_op.drop_index('ix_scan_events_task_id_id')
        batch_op.create_index(batch_op.f('ix_scan_events_task_id'), ['task_id'], unique=False)

