"""One open replenishment task per lane and product (a partial unique index).

Hand-reviewed: autogenerate output. Upgrading a database that holds two open replenishment tasks for one lane
and product fails; cancel one of them first.

Revision ID: da5a3a2a6f88
Revises: 34f6eb6d0cab
Create Date: 2026-11-23 19:18:46.745151+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'da5a3a2a6f88'
down_revision = '34f6eb6d0cab'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('uq_tasks_open_replenish', ['location_id', 'product_id'], unique=True, postgresql_where=sa.text("kind = 'replenish' AND status IN ('open', 'assigned')"), sqlite_where=sa.text("kind = 'replenish' AND status IN ('open', 'assigned')"))



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('uq_tasks_open_replenish', postgresql_where=sa.text("kind = 'replenish' AND status IN ('open', 'assigned')"), sqlite_where=sa.text("kind = 'replenish' AND status IN ('open', 'assigned')"))

