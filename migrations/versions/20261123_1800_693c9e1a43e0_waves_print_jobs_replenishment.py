"""Waves, pick orders and their lines, time slots that never overlap, print jobs and routes, replenishment tasks.

Hand-reviewed. Beyond autogenerate:
- the no-overlap rule on time slots: on PostgreSQL an EXCLUDE USING gist constraint over
  (resource_id, tstzrange(starts_at, ends_at, '[)')) with btree_gist; on SQLite two triggers that ABORT with the
  same constraint name, so wms.errors maps both to the same 409;
- the expression unique index on print routes (one rule per kind and place, NULL place = default);
- the CHECKs on tasks (source lane only for replenishment, done quantity not negative);
- printers.enabled gets a server default so existing rows migrate.

Revision ID: 693c9e1a43e0
Revises: b428d9318ec5
Create Date: 2026-11-23 17:59:25.376250+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

SLOT_EXCLUSION = "ex_time_slots_no_overlap"
SLOT_SQLITE_TRIGGERS = {
    "time_slots_no_overlap_insert": "INSERT",
    "time_slots_no_overlap_update": "UPDATE OF resource_id, starts_at, ends_at",
}

revision = '693c9e1a43e0'
down_revision = 'b428d9318ec5'
branch_labels = None
depends_on = None


def _slot_exclusion_up() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            f"ALTER TABLE time_slots ADD CONSTRAINT {SLOT_EXCLUSION} EXCLUDE USING gist "
            "(resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)"
        )
        return
    for name, event in SLOT_SQLITE_TRIGGERS.items():
        other = "AND s.id <> NEW.id " if event.startswith("UPDATE") else ""
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {event} ON time_slots "
            "WHEN EXISTS (SELECT 1 FROM time_slots s WHERE s.resource_id = NEW.resource_id "
            f"{other}AND s.starts_at < NEW.ends_at AND NEW.starts_at < s.ends_at) "
            f"BEGIN SELECT RAISE(ABORT, '{SLOT_EXCLUSION}: the resource is already booked then'); END"
        )


def _slot_exclusion_down() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE time_slots DROP CONSTRAINT IF EXISTS {SLOT_EXCLUSION}")
        return
    for name in SLOT_SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    op.create_table('waves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('draft', 'planned', 'released', 'picking', 'done', 'cancelled', name='wave_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True, comment='earliest start of the plan'),
    sa.Column('params', sa.JSON(), nullable=False, comment='capacities, speeds, options'),
    sa.Column('summary', sa.JSON(), nullable=False, comment='planner figures and warnings (cutoffs that cannot be met, ...)'),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("code <> ''", name=op.f('ck_waves_code_not_empty')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_waves_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_waves_released_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_waves_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waves')),
    sa.UniqueConstraint('id', 'warehouse_id', name=op.f('uq_waves_id_warehouse_id')),
    sa.UniqueConstraint('warehouse_id', 'code', name=op.f('uq_waves_warehouse_id_code'))
    )
    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waves_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('pick_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False, comment='printed as a barcode on the OP'),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('batch_no', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'released', 'picking', 'done', 'cancelled', name='pick_order_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('route_length_m', sa.Float(), nullable=False),
    sa.Column('estimated_seconds', sa.Float(), nullable=False),
    sa.Column('totes', sa.JSON(), nullable=False, comment='tote codes, consolidated at the sas'),
    sa.Column('picker_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('route_length_m >= 0 AND estimated_seconds >= 0', name=op.f('ck_pick_orders_figures_not_negative')),
    sa.ForeignKeyConstraint(['picker_id'], ['users.id'], name=op.f('fk_pick_orders_picker_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wave_id', 'warehouse_id'], ['waves.id', 'waves.warehouse_id'], name=op.f('fk_pick_orders_wave_id_warehouse_id_waves'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id', 'warehouse_id'], ['zones.id', 'zones.warehouse_id'], name=op.f('fk_pick_orders_zone_id_warehouse_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pick_orders')),
    sa.UniqueConstraint('warehouse_id', 'code', name=op.f('uq_pick_orders_warehouse_id_code'))
    )
    with op.batch_alter_table('pick_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pick_orders_warehouse_id'), ['warehouse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pick_orders_wave_id'), ['wave_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pick_orders_zone_id'), ['zone_id'], unique=False)

    op.create_table('wave_orders',
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False, comment='false once the wave is cancelled'),
    sa.Column('batch_no', sa.Integer(), nullable=True, comment='the pick batch (cart) the order went to'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_wave_orders_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_wave_orders_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('wave_id', 'order_id', name=op.f('pk_wave_orders'))
    )
    with op.batch_alter_table('wave_orders', schema=None) as batch_op:
        batch_op.create_index('uq_wave_orders_active_order', ['order_id'], unique=True, postgresql_where=sa.text('active'), sqlite_where=sa.text('active'))

    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('printer_id', sa.Integer(), nullable=False, comment='where it is meant to print'),
    sa.Column('printed_by_id', sa.Integer(), nullable=True, comment='the printer that did print it (maybe the backup)'),
    sa.Column('document_kind', sa.Enum('pick_order', 'carrier_label', 'tote_label', 'location_label', 'product_label', 'receipt_label', 'manifest', 'test_page', name='document_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False, comment='what it prints, e.g. the OP code'),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False, comment='application/vnd.zebra.zpl or application/pdf'),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'claimed', 'sent', 'printed', 'failed', 'cancelled', name='print_job_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=True, comment='backoff: not claimed before this'),
    sa.Column('lease_owner', sa.String(length=120), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('possible_duplicate', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('reprint_of_id', sa.Integer(), nullable=True),
    sa.Column('wave_id', sa.Integer(), nullable=True),
    sa.Column('pick_order_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(state = 'claimed') = (lease_owner IS NOT NULL)", name=op.f('ck_print_jobs_lease_only_when_claimed')),
    sa.CheckConstraint("state <> 'printed' OR printed_by_id IS NOT NULL", name=op.f('ck_print_jobs_printed_names_printer')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_print_jobs_attempts_not_negative')),
    sa.CheckConstraint('copies BETWEEN 1 AND 100', name=op.f('ck_print_jobs_copies_sane')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_print_jobs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pick_order_id'], ['pick_orders.id'], name=op.f('fk_print_jobs_pick_order_id_pick_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['printed_by_id'], ['printers.id'], name=op.f('fk_print_jobs_printed_by_id_printers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['printer_id'], ['printers.id'], name=op.f('fk_print_jobs_printer_id_printers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reprint_of_id'], ['print_jobs.id'], name=op.f('fk_print_jobs_reprint_of_id_print_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_print_jobs_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_print_jobs_wave_id_waves'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs')),
    sa.UniqueConstraint('warehouse_id', 'idempotency_key', name=op.f('uq_print_jobs_warehouse_id_idempotency_key'))
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_print_jobs_claimable', ['warehouse_id', 'state', 'not_before'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_jobs_printer_id'), ['printer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_jobs_warehouse_id'), ['warehouse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_jobs_wave_id'), ['wave_id'], unique=False)

    op.create_table('print_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('document_kind', sa.Enum('pick_order', 'carrier_label', 'tote_label', 'location_label', 'product_label', 'receipt_label', 'manifest', 'test_page', name='document_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('printer_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('zone_id IS NULL OR resource_id IS NULL', name=op.f('ck_print_routes_one_place')),
    sa.ForeignKeyConstraint(['printer_id'], ['printers.id'], name=op.f('fk_print_routes_printer_id_printers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_print_routes_resource_id_resources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_print_routes_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_print_routes_zone_id_zones'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_routes'))
    )
    with op.batch_alter_table('print_routes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_routes_warehouse_id'), ['warehouse_id'], unique=False)
        batch_op.create_index('uq_print_routes_place', ['warehouse_id', 'document_kind', sa.text('coalesce(zone_id, 0)'),
                              sa.text('coalesce(resource_id, 0)')], unique=True)

    op.create_table('print_job_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('queued', 'claimed', 'sent', 'printed', 'failed', 'cancelled', name='print_job_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('printer_id', sa.Integer(), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=True, comment='daemon id or user name'),
    sa.ForeignKeyConstraint(['job_id'], ['print_jobs.id'], name=op.f('fk_print_job_events_job_id_print_jobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['printer_id'], ['printers.id'], name=op.f('fk_print_job_events_printer_id_printers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_job_events'))
    )
    with op.batch_alter_table('print_job_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_job_events_job_id'), ['job_id'], unique=False)

    op.create_table('pick_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pick_order_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False, comment='position along the route, 0 first'),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('reservation_id', sa.Integer(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('picked_quantity', sa.Integer(), nullable=False),
    sa.Column('tote', sa.String(length=32), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('picked_quantity >= 0 AND picked_quantity <= quantity', name=op.f('ck_pick_order_lines_picked_within_quantity')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_pick_order_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_pick_order_lines_location_id_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_pick_order_lines_order_line_id_order_lines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['pick_order_id'], ['pick_orders.id'], name=op.f('fk_pick_order_lines_pick_order_id_pick_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_pick_order_lines_product_id_products'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_pick_order_lines_reservation_id_reservations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_pick_order_lines_task_id_tasks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pick_order_lines')),
    sa.UniqueConstraint('pick_order_id', 'seq', name=op.f('uq_pick_order_lines_pick_order_id_seq')),
    sa.UniqueConstraint('task_id', name=op.f('uq_pick_order_lines_task_id'))
    )
    with op.batch_alter_table('pick_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pick_order_lines_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pick_order_lines_pick_order_id'), ['pick_order_id'], unique=False)

    op.create_table('time_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pick', 'replenish', 'receive', 'pack', 'dock', 'other', name='slot_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=True),
    sa.Column('pick_order_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_time_slots_ends_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_time_slots_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pick_order_id'], ['pick_orders.id'], name=op.f('fk_time_slots_pick_order_id_pick_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_time_slots_resource_id_resources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_time_slots_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_time_slots_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_time_slots_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_slots'))
    )
    with op.batch_alter_table('time_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_slots_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index('ix_time_slots_resource_starts', ['resource_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_time_slots_warehouse_id'), ['warehouse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_time_slots_wave_id'), ['wave_id'], unique=False)
    _slot_exclusion_up()

    with op.batch_alter_table('printers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('enabled', sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_location_id', sa.Integer(), nullable=True, comment='replenishment: the reserve location to take from'))
        batch_op.add_column(sa.Column('done_quantity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tasks_source_location_id_locations'), 'locations', ['source_location_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_check_constraint('done_quantity_not_negative', 'done_quantity IS NULL OR done_quantity >= 0')
        batch_op.create_check_constraint(
            'source_only_for_replenish',
            "source_location_id IS NULL OR (kind = 'replenish' AND source_location_id <> location_id)",
        )



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_tasks_source_only_for_replenish'), type_='check')
        batch_op.drop_constraint(op.f('ck_tasks_done_quantity_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_tasks_source_location_id_locations'), type_='foreignkey')
        batch_op.drop_column('finished_at')
        batch_op.drop_column('note')
        batch_op.drop_column('done_quantity')
        batch_op.drop_column('source_location_id')

    with op.batch_alter_table('printers', schema=None) as batch_op:
        batch_op.drop_column('enabled')
        batch_op.drop_column('status_changed_at')

    _slot_exclusion_down()
    with op.batch_alter_table('time_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_slots_wave_id'))
        batch_op.drop_index(batch_op.f('ix_time_slots_warehouse_id'))
        batch_op.drop_index('ix_time_slots_resource_starts')
        batch_op.drop_index(batch_op.f('ix_time_slots_resource_id'))

    op.drop_table('time_slots')
    with op.batch_alter_table('pick_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pick_order_lines_pick_order_id'))
        batch_op.drop_index(batch_op.f('ix_pick_order_lines_order_line_id'))

    op.drop_table('pick_order_lines')
    with op.batch_alter_table('print_job_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_job_events_job_id'))

    op.drop_table('print_job_events')
    with op.batch_alter_table('print_routes', schema=None) as batch_op:
        batch_op.drop_index('uq_print_routes_place')
        batch_op.drop_index(batch_op.f('ix_print_routes_warehouse_id'))

    op.drop_table('print_routes')
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_jobs_wave_id'))
        batch_op.drop_index(batch_op.f('ix_print_jobs_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_print_jobs_printer_id'))
        batch_op.drop_index('ix_print_jobs_claimable')

    op.drop_table('print_jobs')
    with op.batch_alter_table('wave_orders', schema=None) as batch_op:
        batch_op.drop_index('uq_wave_orders_active_order', postgresql_where=sa.text('active'), sqlite_where=sa.text('active'))

    op.drop_table('wave_orders')
    with op.batch_alter_table('pick_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pick_orders_zone_id'))
        batch_op.drop_index(batch_op.f('ix_pick_orders_wave_id'))
        batch_op.drop_index(batch_op.f('ix_pick_orders_warehouse_id'))

    op.drop_table('pick_orders')
    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waves_warehouse_id'))

    op.drop_table('waves')
