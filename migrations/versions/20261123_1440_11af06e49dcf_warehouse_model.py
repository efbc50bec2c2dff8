"""Warehouse model, catalog, users and tokens, stock and its append-only ledger, face-bound tasks.

Hand-reviewed. Beyond the tables: triggers that refuse UPDATE/DELETE on stock_ledger (both backends).

Revision ID: 11af06e49dcf
Revises: 
Create Date: 2026-11-23 14:20:59.783270+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '11af06e49dcf'
down_revision = None
branch_labels = None
depends_on = None


LEDGER_PG = """
CREATE FUNCTION stock_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock_ledger is append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'stock_ledger_append_only';
END $$;
CREATE TRIGGER stock_ledger_append_only BEFORE UPDATE OR DELETE ON stock_ledger
    FOR EACH ROW EXECUTE FUNCTION stock_ledger_append_only();
"""

LEDGER_SQLITE = [
    """CREATE TRIGGER stock_ledger_no_update BEFORE UPDATE ON stock_ledger
       BEGIN SELECT RAISE(ABORT, 'stock_ledger_append_only: stock_ledger is append-only'); END""",
    """CREATE TRIGGER stock_ledger_no_delete BEFORE DELETE ON stock_ledger
       BEGIN SELECT RAISE(ABORT, 'stock_ledger_append_only: stock_ledger is append-only'); END""",
]


def _ledger_triggers_up() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LEDGER_PG)
    else:
        for statement in LEDGER_SQLITE:
            op.execute(statement)


def _ledger_triggers_down() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS stock_ledger_append_only ON stock_ledger")
        op.execute("DROP FUNCTION IF EXISTS stock_ledger_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS stock_ledger_no_update")
        op.execute("DROP TRIGGER IF EXISTS stock_ledger_no_delete")


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False, comment='who sent it: token:<id> or user:<id>'),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('scope', 'key', name=op.f('uq_idempotency_keys_scope_key'))
    )
    op.create_index(op.f('ix_idempotency_keys_created_at'), 'idempotency_keys', ['created_at'], unique=False)
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    op.create_index('ix_login_attempts_ip_at', 'login_attempts', ['ip', 'at'], unique=False)
    op.create_index('ix_login_attempts_subject_at', 'login_attempts', ['kind', 'subject', 'at'], unique=False)
    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('unit', sa.Enum('each', 'g', 'ml', 'mm', name='unit', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=True),
    sa.Column('length_mm', sa.Integer(), nullable=True),
    sa.Column('width_mm', sa.Integer(), nullable=True),
    sa.Column('height_mm', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sku <> ''", name=op.f('ck_products_sku_not_empty')),
    sa.CheckConstraint('(length_mm IS NULL OR length_mm > 0) AND (width_mm IS NULL OR width_mm > 0) AND (height_mm IS NULL OR height_mm > 0)', name=op.f('ck_products_dimensions_positive')),
    sa.CheckConstraint('weight_g IS NULL OR weight_g >= 0', name=op.f('ck_products_weight_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('sku', name=op.f('uq_products_sku'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('badge_code', sa.String(length=64), nullable=True),
    sa.Column('pin_hash', sa.String(length=255), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('all_warehouses', sa.Boolean(), nullable=False),
    sa.Column('totp_secret_enc', sa.Text(), nullable=True),
    sa.Column('totp_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('totp_last_counter', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False, comment='bumped to sign every session out'),
    sa.CheckConstraint("username <> ''", name=op.f('ck_users_username_not_empty')),
    sa.CheckConstraint('(badge_code IS NULL) = (pin_hash IS NULL)', name=op.f('ck_users_badge_has_pin')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('badge_code', name=op.f('uq_users_badge_code')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('warehouses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("code <> ''", name=op.f('ck_warehouses_code_not_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouses')),
    sa.UniqueConstraint('code', name=op.f('uq_warehouses_code'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.Enum('channel', 'print_site', 'user', name='token_purpose', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(purpose = 'user') = (user_id IS NOT NULL)", name=op.f('ck_api_tokens_user_token_has_user')),
    sa.CheckConstraint("purpose = 'user' OR warehouse_id IS NOT NULL", name=op.f('ck_api_tokens_machine_token_has_warehouse')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_api_tokens_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_tokens_prefix'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_index(op.f('ix_api_tokens_warehouse_id'), 'api_tokens', ['warehouse_id'], unique=False)
    op.create_table('barcodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('normalized', sa.String(length=64), nullable=False),
    sa.Column('symbology', sa.Enum('ean13', 'ean8', 'upca', 'gtin14', 'internal', name='symbology', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False, comment='units of the product one scan counts (packs)'),
    sa.CheckConstraint("code <> '' AND normalized <> ''", name=op.f('ck_barcodes_code_not_empty')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_barcodes_quantity_positive')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_barcodes_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_barcodes')),
    sa.UniqueConstraint('normalized', name=op.f('uq_barcodes_normalized'))
    )
    op.create_index(op.f('ix_barcodes_product_id'), 'barcodes', ['product_id'], unique=False)
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=255), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    op.create_index(op.f('ix_recovery_codes_user_id'), 'recovery_codes', ['user_id'], unique=False)
    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('admin', 'supervisor', 'picker', 'receiver', 'packer', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )
    op.create_table('user_warehouses',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_warehouses_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_user_warehouses_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'warehouse_id', name=op.f('pk_user_warehouses'))
    )
    op.create_index(op.f('ix_user_warehouses_warehouse_id'), 'user_warehouses', ['warehouse_id'], unique=False)
    op.create_table('zones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('rack', 'receiving_dock', 'sas', 'pack', 'ship_dock', 'quarantine', 'returns', name='zone_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('aisle_length_m', sa.Float(), nullable=True),
    sa.Column('cross_aisles_m', sa.JSON(), nullable=False),
    sa.CheckConstraint("(kind = 'rack') = (aisle_length_m IS NOT NULL)", name=op.f('ck_zones_rack_zone_has_aisle_length')),
    sa.CheckConstraint('aisle_length_m IS NULL OR aisle_length_m > 0', name=op.f('ck_zones_aisle_length_positive')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_zones_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zones')),
    sa.UniqueConstraint('id', 'warehouse_id', name=op.f('uq_zones_id_warehouse_id')),
    sa.UniqueConstraint('warehouse_id', 'code', name=op.f('uq_zones_warehouse_id_code'))
    )
    op.create_index(op.f('ix_zones_warehouse_id'), 'zones', ['warehouse_id'], unique=False)
    op.create_table('aisles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('face', sa.Enum('pick', 'replenish', name='face', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False, comment='lateral order of the aisle inside its zone, 0 first'),
    sa.CheckConstraint('seq >= 0', name=op.f('ck_aisles_seq_not_negative')),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_aisles_zone_id_zones'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aisles')),
    sa.UniqueConstraint('id', 'face', 'zone_id', name=op.f('uq_aisles_id_face_zone_id')),
    sa.UniqueConstraint('zone_id', 'code', name=op.f('uq_aisles_zone_id_code')),
    sa.UniqueConstraint('zone_id', 'seq', name=op.f('uq_aisles_zone_id_seq'))
    )
    op.create_index(op.f('ix_aisles_zone_id'), 'aisles', ['zone_id'], unique=False)
    op.create_table('racks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('pick_aisle_id', sa.Integer(), nullable=False),
    sa.Column('replenish_aisle_id', sa.Integer(), nullable=False),
    sa.Column('bays', sa.Integer(), nullable=False),
    sa.Column('levels', sa.Integer(), nullable=False),
    sa.Column('bay_width_m', sa.Float(), nullable=False),
    sa.Column('start_m', sa.Float(), nullable=False),
    sa.CheckConstraint('bay_width_m > 0 AND start_m >= 0', name=op.f('ck_racks_geometry_positive')),
    sa.CheckConstraint('bays > 0 AND levels > 0', name=op.f('ck_racks_bays_levels_positive')),
    sa.CheckConstraint('pick_aisle_id <> replenish_aisle_id', name=op.f('ck_racks_two_different_aisles')),
    sa.ForeignKeyConstraint(['pick_aisle_id'], ['aisles.id'], name=op.f('fk_racks_pick_aisle_id_aisles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replenish_aisle_id'], ['aisles.id'], name=op.f('fk_racks_replenish_aisle_id_aisles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_racks_zone_id_zones'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_racks')),
    sa.UniqueConstraint('zone_id', 'code', name=op.f('uq_racks_zone_id_code'))
    )
    op.create_index(op.f('ix_racks_zone_id'), 'racks', ['zone_id'], unique=False)
    op.create_table('resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('aisle', 'dock_door', 'pack_station', 'sas', name='resource_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('aisle_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(kind = 'aisle') = (aisle_id IS NOT NULL)", name=op.f('ck_resources_aisle_resource_has_aisle')),
    sa.ForeignKeyConstraint(['aisle_id'], ['aisles.id'], name=op.f('fk_resources_aisle_id_aisles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_resources_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id', 'warehouse_id'], ['zones.id', 'zones.warehouse_id'], name=op.f('fk_resources_zone_id_warehouse_id_zones'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resources')),
    sa.UniqueConstraint('aisle_id', name=op.f('uq_resources_aisle_id')),
    sa.UniqueConstraint('warehouse_id', 'code', name=op.f('uq_resources_warehouse_id_code'))
    )
    op.create_index(op.f('ix_resources_zone_id'), 'resources', ['zone_id'], unique=False)
    op.create_table('locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('rack_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('bay', sa.Integer(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('aisle_index', sa.Integer(), nullable=True, comment='index of the pick aisle that serves the lane'),
    sa.Column('position_m', sa.Float(), nullable=True, comment='distance from the zone head along the aisle'),
    sa.Column('capacity_units', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("code <> ''", name=op.f('ck_locations_code_not_empty')),
    sa.CheckConstraint('capacity_units IS NULL OR capacity_units > 0', name=op.f('ck_locations_capacity_positive')),
    sa.CheckConstraint('position_m IS NULL OR position_m >= 0', name=op.f('ck_locations_position_not_negative')),
    sa.ForeignKeyConstraint(['rack_id'], ['racks.id'], name=op.f('fk_locations_rack_id_racks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_locations_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id', 'warehouse_id'], ['zones.id', 'zones.warehouse_id'], name=op.f('fk_locations_zone_id_warehouse_id_zones'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('id', 'zone_id', name=op.f('uq_locations_id_zone_id')),
    sa.UniqueConstraint('warehouse_id', 'code', name=op.f('uq_locations_warehouse_id_code'))
    )
    op.create_index(op.f('ix_locations_rack_id'), 'locations', ['rack_id'], unique=False)
    op.create_index(op.f('ix_locations_zone_id'), 'locations', ['zone_id'], unique=False)
    op.create_table('printers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('place', sa.Enum('rack_head', 'pack_station', 'receiving_dock', 'ship_dock', 'office', name='printer_place', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.Enum('zpl', 'pdf', name='printer_language', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('connection', sa.String(length=255), nullable=False, comment='socket://host:9100, cups://QUEUE or virtual://NAME'),
    sa.Column('backup_printer_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_detail', sa.Text(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("connection LIKE 'socket://%%' OR connection LIKE 'cups://%%' OR connection LIKE 'virtual://%%'", name=op.f('ck_printers_connection_scheme')),
    sa.CheckConstraint('backup_printer_id IS NULL OR backup_printer_id <> id', name=op.f('ck_printers_backup_is_another')),
    sa.ForeignKeyConstraint(['backup_printer_id'], ['printers.id'], name=op.f('fk_printers_backup_printer_id_printers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_printers_resource_id_resources'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_printers_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id', 'warehouse_id'], ['zones.id', 'zones.warehouse_id'], name=op.f('fk_printers_zone_id_warehouse_id_zones'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_printers')),
    sa.UniqueConstraint('warehouse_id', 'code', name=op.f('uq_printers_warehouse_id_code'))
    )
    op.create_index(op.f('ix_printers_warehouse_id'), 'printers', ['warehouse_id'], unique=False)
    op.create_index(op.f('ix_printers_zone_id'), 'printers', ['zone_id'], unique=False)
    op.create_table('location_faces',
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('face', sa.Enum('pick', 'replenish', name='face', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('aisle_id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['aisle_id', 'face', 'zone_id'], ['aisles.id', 'aisles.face', 'aisles.zone_id'], name=op.f('fk_location_faces_aisle_id_face_zone_id_aisles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_id', 'zone_id'], ['locations.id', 'locations.zone_id'], name=op.f('fk_location_faces_location_id_zone_id_locations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('location_id', 'face', name=op.f('pk_location_faces')),
    sa.UniqueConstraint('location_id', 'face', 'aisle_id', name=op.f('uq_location_faces_location_id_face_aisle_id'))
    )
    op.create_index(op.f('ix_location_faces_aisle_id'), 'location_faces', ['aisle_id'], unique=False)
    op.create_table('quants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_quants_on_hand_not_negative')),
    sa.CheckConstraint('reserved <= on_hand', name=op.f('ck_quants_reserved_within_on_hand')),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_quants_reserved_not_negative')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_quants_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_quants_product_id_products'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quants')),
    sa.UniqueConstraint('product_id', 'location_id', name=op.f('uq_quants_product_id_location_id'))
    )
    op.create_index(op.f('ix_quants_location_id'), 'quants', ['location_id'], unique=False)
    op.create_index(op.f('ix_quants_product_id'), 'quants', ['product_id'], unique=False)
    op.create_table('stock_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('delta_on_hand', sa.Integer(), nullable=False),
    sa.Column('delta_reserved', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('receipt', 'putaway', 'pick', 'adjustment', 'count', 'return', 'transfer', 'sale', 'reservation', name='stock_reason', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_token_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('delta_on_hand <> 0 OR delta_reserved <> 0', name=op.f('ck_stock_ledger_changes_something')),
    sa.ForeignKeyConstraint(['actor_token_id'], ['api_tokens.id'], name=op.f('fk_stock_ledger_actor_token_id_api_tokens'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_stock_ledger_actor_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_stock_ledger_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_ledger_product_id_products'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_ledger'))
    )
    op.create_index(op.f('ix_stock_ledger_at'), 'stock_ledger', ['at'], unique=False)
    op.create_index(op.f('ix_stock_ledger_location_id'), 'stock_ledger', ['location_id'], unique=False)
    op.create_index(op.f('ix_stock_ledger_product_id'), 'stock_ledger', ['product_id'], unique=False)
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pick', 'putaway', 'replenish', name='task_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'assigned', 'done', 'cancelled', name='task_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('face', sa.Enum('pick', 'replenish', name='face', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('aisle_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('assignee_role', sa.Enum('admin', 'supervisor', 'picker', 'receiver', 'packer', name='role', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'pick' AND face = 'pick') OR (kind IN ('putaway', 'replenish') AND face = 'replenish')", name=op.f('ck_tasks_face_matches_kind')),
    sa.CheckConstraint("assignee_id IS NULL OR (face = 'pick' AND assignee_role = 'picker') OR (face = 'replenish' AND assignee_role = 'receiver')", name=op.f('ck_tasks_role_matches_face')),
    sa.CheckConstraint('(assignee_id IS NULL) = (assignee_role IS NULL)', name=op.f('ck_tasks_assignee_has_role')),
    sa.CheckConstraint('quantity IS NULL OR quantity > 0', name=op.f('ck_tasks_quantity_positive')),
    sa.ForeignKeyConstraint(['assignee_id', 'assignee_role'], ['user_roles.user_id', 'user_roles.role'], name=op.f('fk_tasks_assignee_id_assignee_role_user_roles'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['location_id', 'face', 'aisle_id'], ['location_faces.location_id', 'location_faces.face', 'location_faces.aisle_id'], name=op.f('fk_tasks_location_id_face_aisle_id_location_faces'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_tasks_product_id_products'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_tasks_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    op.create_index(op.f('ix_tasks_assignee_id'), 'tasks', ['assignee_id'], unique=False)
    op.create_index(op.f('ix_tasks_location_id'), 'tasks', ['location_id'], unique=False)
    op.create_index(op.f('ix_tasks_warehouse_id'), 'tasks', ['warehouse_id'], unique=False)

    _ledger_triggers_up()

def downgrade() -> None:
    _ledger_triggers_down()
    op.drop_index(op.f('ix_tasks_warehouse_id'), table_name='tasks')
    op.drop_index(op.f('ix_tasks_location_id'), table_name='tasks')
    op.drop_index(op.f('ix_tasks_assignee_id'), table_name='tasks')
    op.drop_table('tasks')
    op.drop_index(op.f('ix_stock_ledger_product_id'), table_name='stock_ledger')
    op.drop_index(op.f('ix_stock_ledger_location_id'), table_name='stock_ledger')
    op.drop_index(op.f('ix_stock_ledger_at'), table_name='stock_ledger')
    op.drop_table('stock_ledger')
    op.drop_index(op.f('ix_quants_product_id'), table_name='quants')
    op.drop_index(op.f('ix_quants_location_id'), table_name='quants')
    op.drop_table('quants')
    op.drop_index(op.f('ix_location_faces_aisle_id'), table_name='location_faces')
    op.drop_table('location_faces')
    op.drop_index(op.f('ix_printers_zone_id'), table_name='printers')
    op.drop_index(op.f('ix_printers_warehouse_id'), table_name='printers')
    op.drop_table('printers')
    op.drop_index(op.f('ix_locations_zone_id'), table_name='locations')
    op.drop_index(op.f('ix_locations_rack_id'), table_name='locations')
    op.drop_table('locations')
    op.drop_index(op.f('ix_resources_zone_id'), table_name='resources')
    op.drop_table('resources')
    op.drop_index(op.f('ix_racks_zone_id'), table_name='racks')
    op.drop_table('racks')
    op.drop_index(op.f('ix_aisles_zone_id'), table_name='aisles')
    op.drop_table('aisles')
    op.drop_index(op.f('ix_zones_warehouse_id'), table_name='zones')
    op.drop_table('zones')
    op.drop_index(op.f('ix_user_warehouses_warehouse_id'), table_name='user_warehouses')
    op.drop_table('user_warehouses')
    op.drop_table('user_roles')
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_index(op.f('ix_barcodes_product_id'), table_name='barcodes')
    op.drop_table('barcodes')
    op.drop_index(op.f('ix_api_tokens_warehouse_id'), table_name='api_tokens')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_table('warehouses')
    op.drop_table('users')
    op.drop_table('products')
    op.drop_index('ix_login_attempts_subject_at', table_name='login_attempts')
    op.drop_index('ix_login_attempts_ip_at', table_name='login_attempts')
    op.drop_table('login_attempts')
    op.drop_index(op.f('ix_idempotency_keys_created_at'), table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
