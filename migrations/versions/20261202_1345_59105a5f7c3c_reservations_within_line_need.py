"""An order line's reservations never exceed what it still needs (triggers on both engines).

SUM(reservations.quantity) <= LEAST(allocated, quantity - picked) for every order line. Stock arriving while
orders waited could over-reserve them (a line for 4 units holding 8): the database now refuses such a transaction. Hand-written:
- PostgreSQL: one function and three constraint triggers, DEFERRABLE INITIALLY DEFERRED, so the check runs at
  commit on the line's final state (a flush may write a line before or after its reservations). They fire when a
  reservation is added or grows, and when a line's allocated or quantity shrinks or its picked grows.
- SQLite has no deferred triggers: two triggers check a reservation that is added or grows against its line as
  already written (the unit of work writes a line before its reservations); SQLite runs one writer at a time.
Rows already in the database are not checked by the upgrade.

Revision ID: 59105a5f7c3c
Revises: 101bfecc00ec
Create Date: 2026-12-02 13:45:00+00:00
"""

from __future__ import annotations

from alembic import op

revision = '59105a5f7c3c'
down_revision = '101bfecc00ec'
branch_labels = None
depends_on = None

CONSTRAINT = "ck_order_lines_reservations_within_need"

PG_UP = f"""
CREATE FUNCTION order_line_reservations_within_need() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_id integer;
    line order_lines%ROWTYPE;
    held integer;
BEGIN
    IF TG_TABLE_NAME = 'reservations' THEN
        line_id := NEW.order_line_id;
    ELSE
        line_id := NEW.id;
    END IF;
    SELECT * INTO line FROM order_lines WHERE id = line_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(SUM(quantity), 0) INTO held FROM reservations WHERE order_line_id = line_id;
    IF held > LEAST(line.allocated, line.quantity - line.picked) THEN
        RAISE EXCEPTION '{CONSTRAINT}: order line % holds % reserved units but needs at most % (quantity %, allocated %, picked %)',
            line_id, held, LEAST(line.allocated, line.quantity - line.picked), line.quantity, line.allocated,
            line.picked
            USING ERRCODE = 'check_violation', CONSTRAINT = '{CONSTRAINT}';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER reservations_within_line_need_insert AFTER INSERT ON reservations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION order_line_reservations_within_need();
CREATE CONSTRAINT TRIGGER reservations_within_line_need_update AFTER UPDATE ON reservations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.quantity > OLD.quantity OR NEW.order_line_id <> OLD.order_line_id)
    EXECUTE FUNCTION order_line_reservations_within_need();
CREATE CONSTRAINT TRIGGER order_lines_reservations_within_need AFTER UPDATE ON order_lines
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.allocated < OLD.allocated OR NEW.picked > OLD.picked OR NEW.quantity < OLD.quantity)
    EXECUTE FUNCTION order_line_reservations_within_need();
"""

PG_DOWN = """
DROP TRIGGER IF EXISTS order_lines_reservations_within_need ON order_lines;
DROP TRIGGER IF EXISTS reservations_within_line_need_update ON reservations;
DROP TRIGGER IF EXISTS reservations_within_line_need_insert ON reservations;
DROP FUNCTION IF EXISTS order_line_reservations_within_need();
"""

_SQLITE_TOO_MUCH = """(SELECT COALESCE(SUM(r.quantity), 0) FROM reservations AS r WHERE r.order_line_id = NEW.order_line_id)
     > (SELECT MIN(l.allocated, l.quantity - l.picked) FROM order_lines AS l WHERE l.id = NEW.order_line_id)"""
_SQLITE_RAISE = f"SELECT RAISE(ABORT, '{CONSTRAINT}: an order line''s reservations exceed what it still needs');"

SQLITE_UP = [
    f"""CREATE TRIGGER reservations_within_line_need_insert AFTER INSERT ON reservations
        WHEN {_SQLITE_TOO_MUCH}
        BEGIN {_SQLITE_RAISE} END""",
    f"""CREATE TRIGGER reservations_within_line_need_update AFTER UPDATE OF quantity, order_line_id ON reservations
        WHEN (NEW.quantity > OLD.quantity OR NEW.order_line_id <> OLD.order_line_id) AND {_SQLITE_TOO_MUCH}
        BEGIN {_SQLITE_RAISE} END""",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS reservations_within_line_need_update",
    "DROP TRIGGER IF EXISTS reservations_within_line_need_insert",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_UP)
    else:
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_DOWN)
    else:
        for statement in SQLITE_DOWN:
            op.execute(statement)
