"""The carrier that ships an order, as chosen at intake (orders.carrier_used), so a carrier rule can change later
without changing the orders it already chose for, and waves filter on the carrier that really ships.

Hand-written and reviewed. A nullable column: orders taken in before it have none and are read as before (the rule
that chose them, else the carrier they asked for when configured, else the default).

Revision ID: d4a7b9c2e6f1
Revises: c8e1d2f3a4b5
Create Date: 2026-12-04 20:15:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'd4a7b9c2e6f1'
down_revision = 'c8e1d2f3a4b5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carrier_used', sa.String(length=32), nullable=True,
                                      comment='the carrier chosen to ship it (carrier_reason says why)'))


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('carrier_used')
