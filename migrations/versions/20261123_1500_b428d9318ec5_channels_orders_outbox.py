"""Channels, orders and reservations, webhook outbox, min/max stock levels, reserve zones.

Hand-reviewed. Beyond autogenerate: channel tokens (column, FK and CHECK through batch mode so SQLite
can follow) and the zone kind CHECK widened to admit 'reserve'.

Revision ID: b428d9318ec5
Revises: 11af06e49dcf
Create Date: 2026-11-23 14:27:07.751877+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'b428d9318ec5'
down_revision = '11af06e49dcf'
branch_labels = None
depends_on = None


ZONE_KINDS = ("rack", "receiving_dock", "sas", "pack", "ship_dock", "quarantine", "returns")


def _zone_kinds(kinds: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{k}'" for k in kinds)
    with op.batch_alter_table("zones") as batch:
        batch.drop_constraint(op.f("ck_zones_zone_kind"), type_="check")
        batch.create_check_constraint("zone_kind", f"kind IN ({allowed})")


def upgrade() -> None:
    op.create_table('channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('web_shop', 'marketplace', 'pos', name='channel_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('webhook_url', sa.String(length=500), nullable=True),
    sa.Column('webhook_secret', sa.String(length=128), nullable=True, comment='HMAC key shared with the channel'),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("code <> ''", name=op.f('ck_channels_code_not_empty')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_channels_warehouse_id_warehouses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channels')),
    sa.UniqueConstraint('code', name=op.f('uq_channels_code'))
    )
    op.create_index(op.f('ix_channels_warehouse_id'), 'channels', ['warehouse_id'], unique=False)
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False, comment="the channel's own order id"),
    sa.Column('content_hash', sa.String(length=64), nullable=False, comment='to tell a replay from a different order'),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('accepted', 'backordered', 'allocated', 'picking', 'picked', 'packed', 'shipped', 'delivered', 'cancelled', 'returned', name='order_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('cutoff_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('carrier_code', sa.String(length=32), nullable=True),
    sa.Column('ship_to', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("external_id <> ''", name=op.f('ck_orders_external_id_not_empty')),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_orders_channel_id_channels'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_orders_warehouse_id_warehouses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('channel_id', 'external_id', name=op.f('uq_orders_channel_id_external_id'))
    )
    op.create_index(op.f('ix_orders_cutoff_at'), 'orders', ['cutoff_at'], unique=False)
    op.create_index(op.f('ix_orders_status'), 'orders', ['status'], unique=False)
    op.create_index(op.f('ix_orders_warehouse_id'), 'orders', ['warehouse_id'], unique=False)
    op.create_table('webhook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False, comment='stock.changed, order.status_changed, ...'),
    sa.Column('object_key', sa.String(length=120), nullable=False, comment='events of one object are delivered in order'),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_webhook_events_channel_id_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events'))
    )
    op.create_index('ix_webhook_events_due', 'webhook_events', ['next_attempt_at'], unique=False, postgresql_where=sa.text('delivered_at IS NULL'), sqlite_where=sa.text('delivered_at IS NULL'))
    op.create_index('ix_webhook_events_pending', 'webhook_events', ['channel_id', 'object_key', 'id'], unique=False, postgresql_where=sa.text('delivered_at IS NULL'), sqlite_where=sa.text('delivered_at IS NULL'))
    op.create_table('order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('allocated', sa.Integer(), nullable=False),
    sa.Column('picked', sa.Integer(), nullable=False),
    sa.CheckConstraint('allocated >= 0 AND allocated <= quantity', name=op.f('ck_order_lines_allocated_within_quantity')),
    sa.CheckConstraint('picked >= 0 AND picked <= quantity', name=op.f('ck_order_lines_picked_within_quantity')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_order_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_order_lines_product_id_products'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines')),
    sa.UniqueConstraint('order_id', 'line_no', name=op.f('uq_order_lines_order_id_line_no'))
    )
    op.create_index(op.f('ix_order_lines_order_id'), 'order_lines', ['order_id'], unique=False)
    op.create_index(op.f('ix_order_lines_product_id'), 'order_lines', ['product_id'], unique=False)
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['webhook_events.id'], name=op.f('fk_webhook_deliveries_event_id_webhook_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    op.create_index(op.f('ix_webhook_deliveries_event_id'), 'webhook_deliveries', ['event_id'], unique=False)
    op.create_table('stock_levels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True, comment='a pick lane; NULL = the whole warehouse'),
    sa.Column('min_qty', sa.Integer(), nullable=False),
    sa.Column('max_qty', sa.Integer(), nullable=False),
    sa.CheckConstraint('min_qty >= 0 AND max_qty >= min_qty AND max_qty > 0', name=op.f('ck_stock_levels_min_max_sane')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_stock_levels_location_id_locations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_levels_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_levels_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_levels'))
    )
    op.create_index(op.f('ix_stock_levels_product_id'), 'stock_levels', ['product_id'], unique=False)
    op.create_index(op.f('ix_stock_levels_warehouse_id'), 'stock_levels', ['warehouse_id'], unique=False)
    op.create_index('uq_stock_levels_lane', 'stock_levels', ['product_id', 'location_id'], unique=True, postgresql_where=sa.text('location_id IS NOT NULL'), sqlite_where=sa.text('location_id IS NOT NULL'))
    op.create_index('uq_stock_levels_warehouse', 'stock_levels', ['product_id', 'warehouse_id'], unique=True, postgresql_where=sa.text('location_id IS NULL'), sqlite_where=sa.text('location_id IS NULL'))
    op.create_table('reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quant_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_reservations_quantity_positive')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_reservations_order_line_id_order_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quant_id'], ['quants.id'], name=op.f('fk_reservations_quant_id_quants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
    sa.UniqueConstraint('order_line_id', 'quant_id', name=op.f('uq_reservations_order_line_id_quant_id'))
    )
    op.create_index(op.f('ix_reservations_order_line_id'), 'reservations', ['order_line_id'], unique=False)
    op.create_index(op.f('ix_reservations_quant_id'), 'reservations', ['quant_id'], unique=False)
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("channel_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_api_tokens_channel_id"), ["channel_id"], unique=False)
        batch.create_foreign_key(batch.f("fk_api_tokens_channel_id_channels"), "channels", ["channel_id"], ["id"],
                                 ondelete="CASCADE")
        batch.create_check_constraint("channel_only_on_channel_tokens", "channel_id IS NULL OR purpose = 'channel'")
    _zone_kinds(ZONE_KINDS + ("reserve",))


def downgrade() -> None:
    op.execute("DELETE FROM zones WHERE kind = 'reserve'")
    _zone_kinds(ZONE_KINDS)
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint(op.f("ck_api_tokens_channel_only_on_channel_tokens"), type_="check")
        batch.drop_constraint(op.f("fk_api_tokens_channel_id_channels"), type_="foreignkey")
        batch.drop_index(op.f("ix_api_tokens_channel_id"))
        batch.drop_column("channel_id")
    op.drop_index(op.f("ix_reservations_quant_id"), table_name="reservations")
    op.drop_index(op.f("ix_reservations_order_line_id"), table_name="reservations")
    op.drop_table("reservations")
    op.drop_index('uq_stock_levels_warehouse', table_name='stock_levels', postgresql_where=sa.text('location_id IS NULL'), sqlite_where=sa.text('location_id IS NULL'))
    op.drop_index('uq_stock_levels_lane', table_name='stock_levels', postgresql_where=sa.text('location_id IS NOT NULL'), sqlite_where=sa.text('location_id IS NOT NULL'))
    op.drop_index(op.f('ix_stock_levels_warehouse_id'), table_name='stock_levels')
    op.drop_index(op.f('ix_stock_levels_product_id'), table_name='stock_levels')
    op.drop_table('stock_levels')
    op.drop_index(op.f('ix_webhook_deliveries_event_id'), table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_order_lines_product_id'), table_name='order_lines')
    op.drop_index(op.f('ix_order_lines_order_id'), table_name='order_lines')
    op.drop_table('order_lines')
    op.drop_index('ix_webhook_events_pending', table_name='webhook_events', postgresql_where=sa.text('delivered_at IS NULL'), sqlite_where=sa.text('delivered_at IS NULL'))
    op.drop_index('ix_webhook_events_due', table_name='webhook_events', postgresql_where=sa.text('delivered_at IS NULL'), sqlite_where=sa.text('delivered_at IS NULL'))
    op.drop_table('webhook_events')
    op.drop_index(op.f('ix_orders_warehouse_id'), table_name='orders')
    op.drop_index(op.f('ix_orders_status'), table_name='orders')
    op.drop_index(op.f('ix_orders_cutoff_at'), table_name='orders')
    op.drop_table('orders')
    op.drop_index(op.f('ix_channels_warehouse_id'), table_name='channels')
    op.drop_table('channels')
