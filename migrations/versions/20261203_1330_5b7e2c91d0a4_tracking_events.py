"""Carrier tracking: the events each carrier reported per parcel, stored once, and the latest mapped status on the
shipment.

Hand-written and reviewed. Only a new table and two nullable columns: nothing to fill in existing rows.

Revision ID: 5b7e2c91d0a4
Revises: ec5936c59a8c
Create Date: 2026-12-03 13:30:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5b7e2c91d0a4'
down_revision = 'ec5936c59a8c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tracking_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=True),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False, comment='mapped (carrier_features.TrackingStatus)'),
    sa.Column('code', sa.String(length=64), nullable=False, comment="the carrier's own event code"),
    sa.Column('text', sa.String(length=500), nullable=False, comment="the carrier's own wording"),
    sa.Column('location', sa.String(length=200), server_default='', nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_tracking_events_parcel_id_parcels'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_tracking_events_shipment_id_shipments'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events')),
    sa.UniqueConstraint('carrier_code', 'tracking_number', 'at', 'text', name='uq_tracking_events_event'),
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_events_parcel_id'), ['parcel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracking_events_shipment_id'), ['shipment_id'], unique=False)
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracking_status', sa.String(length=32), nullable=True,
                                      comment="the carrier's latest status, mapped (carrier_features.TrackingStatus)"))
        batch_op.add_column(sa.Column('tracking_checked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_column('tracking_checked_at')
        batch_op.drop_column('tracking_status')
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_events_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_tracking_events_parcel_id'))
    op.drop_table('tracking_events')
