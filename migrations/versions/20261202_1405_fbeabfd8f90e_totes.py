"""Totes as rows: one per order per pick order, its code unique among live totes (a partial unique index).

Hand-written. Every wave labelled its first tote 000-01-A, so a tote code scanned at a pack station named many
orders; codes now start with the wave (W<wave id>-...) and a live tote's code is unique on both engines (SQLite has
partial indexes too). Pick orders planned before this revision get no tote rows: their old codes may repeat, and
packing refuses a code that names more than one picked order (409 tote-ambiguous) instead of guessing.

Revision ID: fbeabfd8f90e
Revises: 59105a5f7c3c
Create Date: 2026-12-02 14:05:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'fbeabfd8f90e'
down_revision = '59105a5f7c3c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('totes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False,
              comment='as on the OP: W<wave id>-<batch>-<cart position>-<zone>'),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('pick_order_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False, comment='false once its order is packed or its wave cancelled'),
    sa.CheckConstraint("code <> ''", name=op.f('ck_totes_code_not_empty')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_totes_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pick_order_id'], ['pick_orders.id'], name=op.f('fk_totes_pick_order_id_pick_orders'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_totes_warehouse_id_warehouses'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_totes')),
    sa.UniqueConstraint('pick_order_id', 'order_id', name=op.f('uq_totes_pick_order_id_order_id'))
    )
    with op.batch_alter_table('totes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_totes_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_totes_warehouse_id'), ['warehouse_id'], unique=False)
        batch_op.create_index('uq_totes_live_code', ['code'], unique=True, postgresql_where=sa.text('live'),
                              sqlite_where=sa.text('live'))


def downgrade() -> None:
    with op.batch_alter_table('totes', schema=None) as batch_op:
        batch_op.drop_index('uq_totes_live_code', postgresql_where=sa.text('live'), sqlite_where=sa.text('live'))
        batch_op.drop_index(batch_op.f('ix_totes_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_totes_order_id'))

    op.drop_table('totes')
