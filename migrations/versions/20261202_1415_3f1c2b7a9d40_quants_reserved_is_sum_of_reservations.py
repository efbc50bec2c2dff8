"""A quant's reserved is the sum of its reservations, checked at commit on both engines.

Hand-written. The application writes the counter (quants.reserved) and the rows (reservations) in one
transaction, in whatever order a flush or a raw statement puts them, so the check must run at COMMIT, on the
final state of the transaction:
- PostgreSQL: one function and two constraint triggers, DEFERRABLE INITIALLY DEFERRED, on reservations (insert,
  update of quantity or quant_id, delete) and on quants (insert, update of reserved). The error names
  ck_quants_reserved_is_sum_of_reservations.
- SQLite has no deferred triggers, but it has deferred foreign keys. Five AFTER triggers (the same events) keep
  one row per out-of-balance quant in quants_out_of_balance, keyed by the negated quant id: a key that can
  never match quants.id, so each row is a violation of a DEFERRABLE INITIALLY DEFERRED foreign key, and
  SQLite's COMMIT fails ("FOREIGN KEY constraint failed") while one remains. A statement that restores the
  balance deletes the row, which takes the violation back; ROLLBACK TO a savepoint restores the count. This needs
  PRAGMA foreign_keys=ON, which every connection of the application sets (wms.db); the sqlite3 shell does not:
  a quant unbalanced there keeps its row, and `PRAGMA foreign_key_check` lists it.
A batch rebuild of quants or reservations on SQLite drops their triggers: re-create them after (as f8997250f854
does for the ledger's).

The upgrade first repairs quants whose counter lost updates (the SQLite default before BEGIN IMMEDIATE): their
reservations, and the ledger rows written with each, are the truth, so reserved is set to their sum where the
quant holds that much; where it does not (stock really oversold), the upgrade refuses and names the quants.
Migrations autogenerate never compares quants_out_of_balance (migrations/env.py): it has no model.

Revision ID: 3f1c2b7a9d40
Revises: 3c6e1f0a9d2b
Create Date: 2026-12-02 14:15:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '3f1c2b7a9d40'
down_revision = '3c6e1f0a9d2b'
branch_labels = None
depends_on = None

CONSTRAINT = "ck_quants_reserved_is_sum_of_reservations"
SQLITE_TABLE = "quants_out_of_balance"

PG_UP = f"""
CREATE FUNCTION quants_reserved_is_sum_of_reservations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids integer[];
    qid integer;
    booked integer;
    held integer;
BEGIN
    IF TG_TABLE_NAME = 'quants' THEN
        ids := ARRAY[NEW.id];
    ELSIF TG_OP = 'INSERT' THEN
        ids := ARRAY[NEW.quant_id];
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY[OLD.quant_id];
    ELSE
        ids := ARRAY[NEW.quant_id, OLD.quant_id];
    END IF;
    FOREACH qid IN ARRAY ids LOOP
        SELECT q.reserved INTO booked FROM quants AS q WHERE q.id = qid;
        CONTINUE WHEN NOT FOUND;
        SELECT COALESCE(SUM(r.quantity), 0) INTO held FROM reservations AS r WHERE r.quant_id = qid;
        IF booked <> held THEN
            RAISE EXCEPTION '{CONSTRAINT}: quant % has % units reserved but its reservations hold %',
                qid, booked, held
                USING ERRCODE = 'check_violation', CONSTRAINT = '{CONSTRAINT}';
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER quants_reserved_is_sum_of_reservations AFTER INSERT OR UPDATE OF reserved ON quants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION quants_reserved_is_sum_of_reservations();
CREATE CONSTRAINT TRIGGER reservations_sum_to_quant_reserved
    AFTER INSERT OR UPDATE OF quantity, quant_id OR DELETE ON reservations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION quants_reserved_is_sum_of_reservations();
"""

PG_DOWN = """
DROP TRIGGER IF EXISTS reservations_sum_to_quant_reserved ON reservations;
DROP TRIGGER IF EXISTS quants_reserved_is_sum_of_reservations ON quants;
DROP FUNCTION IF EXISTS quants_reserved_is_sum_of_reservations();
"""


def _sqlite_check(quant: str) -> str:
    """Statements of a trigger body: the quant's row in quants_out_of_balance is there iff it is out of balance."""
    return (f"DELETE FROM {SQLITE_TABLE} WHERE negated_quant_id = -({quant}); "
            f"INSERT INTO {SQLITE_TABLE} (negated_quant_id) SELECT -({quant}) "
            f"WHERE COALESCE((SELECT q.reserved FROM quants AS q WHERE q.id = {quant}), 0) "
            f"<> (SELECT COALESCE(SUM(r.quantity), 0) FROM reservations AS r WHERE r.quant_id = {quant}); ")


SQLITE_TRIGGERS = {
    "quants_reserved_balanced_insert": ("AFTER INSERT ON quants", ["NEW.id"]),
    "quants_reserved_balanced_update": ("AFTER UPDATE OF reserved ON quants", ["NEW.id"]),
    "reservations_balanced_insert": ("AFTER INSERT ON reservations", ["NEW.quant_id"]),
    "reservations_balanced_update": ("AFTER UPDATE OF quantity, quant_id ON reservations",
                                     ["NEW.quant_id", "OLD.quant_id"]),
    "reservations_balanced_delete": ("AFTER DELETE ON reservations", ["OLD.quant_id"]),
}

SQLITE_UP = [
    f"""CREATE TABLE {SQLITE_TABLE} (
        negated_quant_id INTEGER NOT NULL PRIMARY KEY
            REFERENCES quants (id) DEFERRABLE INITIALLY DEFERRED
    )""",
    *[f"CREATE TRIGGER {name} {event} FOR EACH ROW BEGIN {''.join(_sqlite_check(q) for q in quants)}END"
      for name, (event, quants) in SQLITE_TRIGGERS.items()],
]

SQLITE_DOWN = [*[f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS], f"DROP TABLE IF EXISTS {SQLITE_TABLE}"]

_HELD = "(SELECT COALESCE(SUM(r.quantity), 0) FROM reservations AS r WHERE r.quant_id = quants.id)"


def _repair_lost_updates() -> None:
    op.execute(f"UPDATE quants SET reserved = {_HELD} WHERE reserved <> {_HELD} AND {_HELD} <= on_hand")
    oversold = op.get_bind().execute(sa.text(
        f"SELECT id, on_hand, reserved, {_HELD} FROM quants WHERE reserved <> {_HELD} ORDER BY id")).all()
    if oversold:
        listed = ", ".join(f"quant {qid} ({held} reserved of {on_hand} on hand)" for qid, on_hand, _r, held in oversold)
        raise RuntimeError(f"Reservations exceed the stock of {len(oversold)} quants, whose orders were oversold: "
                           f"{listed}. Count those lanes if they hold more, or take the extra reservations back "
                           "by hand, then upgrade again.")


def upgrade() -> None:
    _repair_lost_updates()
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
