"""Inbound, outbound and returns: suppliers, POs, ASNs, receipts; boxes, shipments, parcels, pick-ups, manifests; RMAs.

Hand-reviewed. Beyond the new tables:
- products.lot_tracked / expiry_tracked (receiving asks for a lot / best-before date);
- tasks.receipt_line_id (a put-away stores units of one receipt line), and the CHECK that allowed a source
  location only on replenishment now allows it on put-away too (the dock is the source);
- stock_ledger.reason gains 'quarantine' and 'scrap'. SQLite rebuilds the table for that CHECK, which drops
  its append-only triggers, so they are re-created right after. A downgrade refuses (CHECK failure) while
  ledger rows with the new reasons exist: the history is not rewritten.

Revision ID: f8997250f854
Revises: da5a3a2a6f88
Create Date: 2026-11-23 21:10:46.285602+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

OLD_REASONS = ('receipt', 'putaway', 'pick', 'adjustment', 'count', 'return', 'transfer', 'sale', 'reservation')
NEW_REASONS = OLD_REASONS + ('quarantine', 'scrap')

LEDGER_SQLITE = [
    """CREATE TRIGGER stock_ledger_no_update BEFORE UPDATE ON stock_ledger
       BEGIN SELECT RAISE(ABORT, 'stock_ledger_append_only: stock_ledger is append-only'); END""",
    """CREATE TRIGGER stock_ledger_no_delete BEFORE DELETE ON stock_ledger
       BEGIN SELECT RAISE(ABORT, 'stock_ledger_append_only: stock_ledger is append-only'); END""",
]


def _reason_check(reasons: tuple[str, ...]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS stock_ledger_no_update")
        op.execute("DROP TRIGGER IF EXISTS stock_ledger_no_delete")
    with op.batch_alter_table('stock_ledger', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_stock_ledger_stock_reason'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_stock_ledger_stock_reason'), sa.column('reason').in_(reasons))
    if sqlite:
        for statement in LEDGER_SQLITE:
            op.execute(statement)


revision = 'f8997250f854'
down_revision = 'da5a3a2a6f88'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('boxes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('inner_length_mm', sa.Integer(), nullable=False),
    sa.Column('inner_width_mm', sa.Integer(), nullable=False),
    sa.Column('inner_height_mm', sa.Integer(), nullable=False),
    sa.Column('max_weight_g', sa.Integer(), nullable=False),
    sa.Column('tare_weight_g', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.CheckConstraint("code <> ''", name=op.f('ck_boxes_code_not_empty')),
    sa.CheckConstraint('inner_length_mm > 0 AND inner_width_mm > 0 AND inner_height_mm > 0', name=op.f('ck_boxes_dimensions_positive')),
    sa.CheckConstraint('max_weight_g > 0 AND tare_weight_g >= 0', name=op.f('ck_boxes_weights_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boxes')),
    sa.UniqueConstraint('code', name=op.f('uq_boxes_code'))
    )
    op.create_table('number_sequences',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('next_value', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('next_value >= 0', name=op.f('ck_number_sequences_next_value_not_negative')),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_number_sequences'))
    )
    op.create_table('suppliers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('over_receipt_tolerance_pct', sa.Integer(), server_default='0', nullable=False, comment='units above the ordered quantity accepted, in percent'),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("code <> ''", name=op.f('ck_suppliers_code_not_empty')),
    sa.CheckConstraint('over_receipt_tolerance_pct BETWEEN 0 AND 100', name=op.f('ck_suppliers_tolerance_in_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppliers')),
    sa.UniqueConstraint('code', name=op.f('uq_suppliers_code'))
    )
    op.create_table('purchase_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'partially_received', 'received', 'closed', 'cancelled', name='purchase_order_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('expected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('over_receipt_tolerance_pct', sa.Integer(), nullable=True, comment="overrides the supplier's when set"),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("number <> ''", name=op.f('ck_purchase_orders_number_not_empty')),
    sa.CheckConstraint('over_receipt_tolerance_pct IS NULL OR over_receipt_tolerance_pct BETWEEN 0 AND 100', name=op.f('ck_purchase_orders_tolerance_in_range')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_purchase_orders_supplier_id_suppliers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_purchase_orders_warehouse_id_warehouses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_orders_number'))
    )
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_orders_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_supplier_id'), ['supplier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('asns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False, comment="the supplier's dispatch reference"),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('expected', 'receiving', 'received', 'cancelled', name='asn_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('expected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("number <> ''", name=op.f('ck_asns_number_not_empty')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_asns_purchase_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_asns_supplier_id_suppliers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asns')),
    sa.UniqueConstraint('supplier_id', 'number', name=op.f('uq_asns_supplier_id_number'))
    )
    with op.batch_alter_table('asns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asns_purchase_order_id'), ['purchase_order_id'], unique=False)

    op.create_table('purchase_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_purchase_order_lines_quantity_positive')),
    sa.CheckConstraint('received <= 2 * quantity', name=op.f('ck_purchase_order_lines_received_within_double')),
    sa.CheckConstraint('received >= 0', name=op.f('ck_purchase_order_lines_received_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_purchase_order_lines_product_id_products'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_purchase_order_lines_purchase_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_lines')),
    sa.UniqueConstraint('purchase_order_id', 'line_no', name=op.f('uq_purchase_order_lines_purchase_order_id_line_no'))
    )
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_purchase_order_id'), ['purchase_order_id'], unique=False)

    op.create_table('asn_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asn_id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('lot_code', sa.String(length=40), nullable=True),
    sa.Column('best_before', sa.Date(), nullable=True),
    sa.Column('sscc', sa.String(length=18), nullable=True, comment="the supplier's pallet or carton SSCC"),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_asn_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['asn_id'], ['asns.id'], name=op.f('fk_asn_lines_asn_id_asns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['purchase_order_line_id'], ['purchase_order_lines.id'], name=op.f('fk_asn_lines_purchase_order_line_id_purchase_order_lines'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asn_lines'))
    )
    with op.batch_alter_table('asn_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asn_lines_asn_id'), ['asn_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_asn_lines_purchase_order_line_id'), ['purchase_order_line_id'], unique=False)

    op.create_table('rmas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True, comment="the channel's own return id"),
    sa.Column('status', sa.Enum('authorized', 'received', 'inspected', 'closed', 'cancelled', name='rma_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('refund_status', sa.Enum('pending', 'approved', 'partial', 'refused', 'not_applicable', name='refund_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_rmas_channel_id_channels'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_rmas_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_rmas_order_id_orders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_rmas_warehouse_id_warehouses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rmas')),
    sa.UniqueConstraint('channel_id', 'external_id', name=op.f('uq_rmas_channel_id_external_id')),
    sa.UniqueConstraint('code', name=op.f('uq_rmas_code'))
    )
    with op.batch_alter_table('rmas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rmas_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rmas_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_rmas_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('rma_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rma_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False, comment='units authorised to come back'),
    sa.Column('reason', sa.String(length=32), nullable=False, comment='damaged, defective, wrong_item, not_wanted, other'),
    sa.Column('received', sa.Integer(), server_default='0', nullable=False),
    sa.Column('restocked', sa.Integer(), server_default='0', nullable=False),
    sa.Column('quarantined', sa.Integer(), server_default='0', nullable=False),
    sa.Column('scrapped', sa.Integer(), server_default='0', nullable=False),
    sa.Column('inspection_note', sa.Text(), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_rma_lines_quantity_positive')),
    sa.CheckConstraint('received >= 0 AND received <= quantity', name=op.f('ck_rma_lines_received_within_quantity')),
    sa.CheckConstraint('restocked >= 0 AND quarantined >= 0 AND scrapped >= 0 AND restocked + quarantined + scrapped <= received', name=op.f('ck_rma_lines_disposed_within_received')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_rma_lines_order_line_id_order_lines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_rma_lines_product_id_products'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['rma_id'], ['rmas.id'], name=op.f('fk_rma_lines_rma_id_rmas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rma_lines')),
    sa.UniqueConstraint('rma_id', 'order_line_id', name=op.f('uq_rma_lines_rma_id_order_line_id'))
    )
    with op.batch_alter_table('rma_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rma_lines_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rma_lines_rma_id'), ['rma_id'], unique=False)

    op.create_table('receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=False),
    sa.Column('asn_id', sa.Integer(), nullable=True),
    sa.Column('dock_location_id', sa.Integer(), nullable=False, comment='where received goods wait for put-away'),
    sa.Column('status', sa.Enum('open', 'closed', name='receipt_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['asn_id'], ['asns.id'], name=op.f('fk_receipts_asn_id_asns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['dock_location_id'], ['locations.id'], name=op.f('fk_receipts_dock_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_receipts_purchase_order_id_purchase_orders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['received_by_id'], ['users.id'], name=op.f('fk_receipts_received_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_receipts_warehouse_id_warehouses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('code', name=op.f('uq_receipts_code'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_purchase_order_id'), ['purchase_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipts_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('manifests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('parcel_count', sa.Integer(), nullable=False),
    sa.Column('total_weight_g', sa.Integer(), nullable=False),
    sa.Column('print_job_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('parcel_count > 0 AND total_weight_g >= 0', name=op.f('ck_manifests_figures_valid')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_manifests_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['print_job_id'], ['print_jobs.id'], name=op.f('fk_manifests_print_job_id_print_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_manifests_warehouse_id_warehouses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifests')),
    sa.UniqueConstraint('reference', name=op.f('uq_manifests_reference'))
    )
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_manifests_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('receipt_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_line_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('lot_code', sa.String(length=40), nullable=True),
    sa.Column('best_before', sa.Date(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=False, comment='the dock, or a quarantine location when held'),
    sa.Column('on_hold', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('put_away', sa.Integer(), server_default='0', nullable=False, comment='units already put away'),
    sa.Column('scrapped', sa.Integer(), server_default='0', nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('on_hold OR hold_reason IS NULL', name=op.f('ck_receipt_lines_reason_only_when_held')),
    sa.CheckConstraint('put_away >= 0 AND scrapped >= 0 AND put_away + scrapped <= quantity', name=op.f('ck_receipt_lines_disposed_within_quantity')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_receipt_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_receipt_lines_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_receipt_lines_product_id_products'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['purchase_order_line_id'], ['purchase_order_lines.id'], name=op.f('fk_receipt_lines_purchase_order_line_id_purchase_order_lines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_receipt_lines_receipt_id_receipts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['received_by_id'], ['users.id'], name=op.f('fk_receipt_lines_received_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_lines'))
    )
    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_lines_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipt_lines_purchase_order_line_id'), ['purchase_order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipt_lines_receipt_id'), ['receipt_id'], unique=False)

    op.create_table('carrier_pickups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('dock_resource_id', sa.Integer(), nullable=False),
    sa.Column('time_slot_id', sa.Integer(), nullable=True),
    sa.Column('manifest_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('booked', 'departed', 'cancelled', name='pickup_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('departed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dock_resource_id'], ['resources.id'], name=op.f('fk_carrier_pickups_dock_resource_id_resources'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifests.id'], name=op.f('fk_carrier_pickups_manifest_id_manifests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['time_slot_id'], ['time_slots.id'], name=op.f('fk_carrier_pickups_time_slot_id_time_slots'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_carrier_pickups_warehouse_id_warehouses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_pickups')),
    sa.UniqueConstraint('time_slot_id', name=op.f('uq_carrier_pickups_time_slot_id'))
    )
    with op.batch_alter_table('carrier_pickups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carrier_pickups_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('packing', 'labelled', 'staged', 'manifested', 'shipped', 'delivered', 'returned', 'cancelled', name='shipment_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=True, comment='the master tracking number'),
    sa.Column('carrier_reference', sa.String(length=120), nullable=True, comment="the carrier's own id, to cancel"),
    sa.Column('tote', sa.String(length=32), nullable=True, comment='the tote it was packed from'),
    sa.Column('pack_station_id', sa.Integer(), nullable=True),
    sa.Column('packed_by_id', sa.Integer(), nullable=True),
    sa.Column('pickup_id', sa.Integer(), nullable=True),
    sa.Column('manifest_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('labelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('packing', 'cancelled') OR tracking_number IS NOT NULL", name=op.f('ck_shipments_labelled_has_tracking')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifests.id'], name=op.f('fk_shipments_manifest_id_manifests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipments_order_id_orders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['pack_station_id'], ['resources.id'], name=op.f('fk_shipments_pack_station_id_resources'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['packed_by_id'], ['users.id'], name=op.f('fk_shipments_packed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pickup_id'], ['carrier_pickups.id'], name=op.f('fk_shipments_pickup_id_carrier_pickups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_shipments_warehouse_id_warehouses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('carrier_code', 'tracking_number', name=op.f('uq_shipments_carrier_code_tracking_number'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_warehouse_id'), ['warehouse_id'], unique=False)
        batch_op.create_index('uq_shipments_live_order', ['order_id'], unique=True, postgresql_where=sa.text("status <> 'cancelled'"), sqlite_where=sa.text("status <> 'cancelled'"))

    op.create_table('parcels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False, comment='1, 2, ... within the shipment'),
    sa.Column('box_id', sa.Integer(), nullable=True),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('expected_weight_g', sa.Integer(), nullable=True),
    sa.Column('weight_g', sa.Integer(), nullable=True, comment='weighed at the pack station'),
    sa.Column('sscc', sa.String(length=18), nullable=True),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('label_print_job_id', sa.Integer(), nullable=True),
    sa.Column('staged_location_id', sa.Integer(), nullable=True, comment='the shipping sas it was scanned into'),
    sa.Column('staged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(weight_g IS NULL OR weight_g > 0) AND (expected_weight_g IS NULL OR expected_weight_g >= 0)', name=op.f('ck_parcels_weights_valid')),
    sa.CheckConstraint('seq > 0', name=op.f('ck_parcels_seq_positive')),
    sa.CheckConstraint('sscc IS NULL OR length(sscc) = 18', name=op.f('ck_parcels_sscc_is_18_digits')),
    sa.ForeignKeyConstraint(['box_id'], ['boxes.id'], name=op.f('fk_parcels_box_id_boxes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['label_print_job_id'], ['print_jobs.id'], name=op.f('fk_parcels_label_print_job_id_print_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_parcels_shipment_id_shipments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staged_location_id'], ['locations.id'], name=op.f('fk_parcels_staged_location_id_locations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parcels')),
    sa.UniqueConstraint('carrier_code', 'tracking_number', name=op.f('uq_parcels_carrier_code_tracking_number')),
    sa.UniqueConstraint('shipment_id', 'seq', name=op.f('uq_parcels_shipment_id_seq')),
    sa.UniqueConstraint('sscc', name=op.f('uq_parcels_sscc'))
    )
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parcels_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('parcel_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_parcel_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_parcel_lines_order_line_id_order_lines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_parcel_lines_parcel_id_parcels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_parcel_lines_product_id_products'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parcel_lines')),
    sa.UniqueConstraint('parcel_id', 'order_line_id', name=op.f('uq_parcel_lines_parcel_id_order_line_id'))
    )
    with op.batch_alter_table('parcel_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parcel_lines_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parcel_lines_parcel_id'), ['parcel_id'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lot_tracked', sa.Boolean(), server_default=sa.false(), nullable=False, comment='receiving asks for the lot code'))
        batch_op.add_column(sa.Column('expiry_tracked', sa.Boolean(), server_default=sa.false(), nullable=False, comment='receiving asks for the best-before date'))

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_line_id', sa.Integer(), nullable=True, comment='put-away: the received units this task stores'))
        batch_op.create_index(batch_op.f('ix_tasks_receipt_line_id'), ['receipt_line_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tasks_receipt_line_id_receipt_lines'), 'receipt_lines', ['receipt_line_id'], ['id'], ondelete='RESTRICT')
        batch_op.drop_constraint(op.f('ck_tasks_source_only_for_replenish'), type_='check')
        batch_op.create_check_constraint(
            'source_only_for_moves',
            "source_location_id IS NULL OR (kind IN ('replenish', 'putaway') AND source_location_id <> location_id)",
        )
        batch_op.create_check_constraint('receipt_line_only_for_putaway',
                                         "receipt_line_id IS NULL OR kind = 'putaway'")

    _reason_check(NEW_REASONS)


def downgrade() -> None:
    _reason_check(OLD_REASONS)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_tasks_receipt_line_only_for_putaway'), type_='check')
        batch_op.drop_constraint(op.f('ck_tasks_source_only_for_moves'), type_='check')
        batch_op.create_check_constraint(
            'source_only_for_replenish',
            "source_location_id IS NULL OR (kind = 'replenish' AND source_location_id <> location_id)",
        )
        batch_op.drop_constraint(batch_op.f('fk_tasks_receipt_line_id_receipt_lines'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tasks_receipt_line_id'))
        batch_op.drop_column('receipt_line_id')

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('expiry_tracked')
        batch_op.drop_column('lot_tracked')

    with op.batch_alter_table('parcel_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parcel_lines_parcel_id'))
        batch_op.drop_index(batch_op.f('ix_parcel_lines_order_line_id'))

    op.drop_table('parcel_lines')
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parcels_shipment_id'))

    op.drop_table('parcels')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('uq_shipments_live_order', postgresql_where=sa.text("status <> 'cancelled'"), sqlite_where=sa.text("status <> 'cancelled'"))
        batch_op.drop_index(batch_op.f('ix_shipments_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_shipments_status'))
        batch_op.drop_index(batch_op.f('ix_shipments_order_id'))

    op.drop_table('shipments')
    with op.batch_alter_table('carrier_pickups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carrier_pickups_warehouse_id'))

    op.drop_table('carrier_pickups')
    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_lines_receipt_id'))
        batch_op.drop_index(batch_op.f('ix_receipt_lines_purchase_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_receipt_lines_product_id'))

    op.drop_table('receipt_lines')
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manifests_warehouse_id'))

    op.drop_table('manifests')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_receipts_purchase_order_id'))

    op.drop_table('receipts')
    with op.batch_alter_table('rma_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rma_lines_rma_id'))
        batch_op.drop_index(batch_op.f('ix_rma_lines_order_line_id'))

    op.drop_table('rma_lines')
    with op.batch_alter_table('rmas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rmas_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_rmas_status'))
        batch_op.drop_index(batch_op.f('ix_rmas_order_id'))

    op.drop_table('rmas')
    with op.batch_alter_table('asn_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asn_lines_purchase_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_asn_lines_asn_id'))

    op.drop_table('asn_lines')
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_purchase_order_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_product_id'))

    op.drop_table('purchase_order_lines')
    with op.batch_alter_table('asns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asns_purchase_order_id'))

    op.drop_table('asns')
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_orders_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_status'))

    op.drop_table('purchase_orders')
    op.drop_table('suppliers')
    op.drop_table('number_sequences')
    op.drop_table('boxes')
