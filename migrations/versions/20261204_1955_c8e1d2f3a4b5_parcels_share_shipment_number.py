"""Parcels of one shipment may share the carrier's tracking number (Mondial Relay gives one number per shipment,
its labels' barcodes add the parcel's sequence): parcels are unique per (carrier, number, sequence) instead of per
(carrier, number). The shipment's own number stays unique per carrier (uq_shipments_carrier_code_tracking_number).

Hand-written and reviewed. Downgrade restores the old constraint; it fails (and changes nothing) while two
parcels share a number, which is the data the old schema could not hold.

Revision ID: c8e1d2f3a4b5
Revises: b4074c38bd5a
Create Date: 2026-12-04 19:55:00+00:00
"""

from __future__ import annotations

from alembic import op

revision = 'c8e1d2f3a4b5'
down_revision = 'b4074c38bd5a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_parcels_carrier_code_tracking_number'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_parcels_carrier_code_tracking_number_seq'),
                                          ['carrier_code', 'tracking_number', 'seq'])


def downgrade() -> None:
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_parcels_carrier_code_tracking_number_seq'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_parcels_carrier_code_tracking_number'),
                                          ['carrier_code', 'tracking_number'])
