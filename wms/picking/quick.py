"""The confirm of a quantity on my OP's current line: the scan a picker makes most, in four round trips.

A confirm is most of the scans of a shift, so it skips the ORM and SQLAlchemy's per-statement work and sends its
statements through psycopg itself, in the request's transaction (PostgreSQL only):

1. ``queue`` adds three statements to the caller's pipeline (the caller queues the person and the idempotency key
   in the same one, so the five cost one round trip, after the one psycopg spends on the BEGIN that opens the
   transaction, which it syncs on its own): the first locks the OP row; the second reads every line
   with its task status and the last good step of the open ones, as committed once that lock is held; the third
   locks the current line's quant and reservation (the lane's quant first, the order the lane exceptions take
   them in) and draws the scan event's id;
2. ``plan`` checks what was read, with no round trip; ``apply`` writes quant, reservation, order line, PICK ledger
   row, OP line, task, scan event and the caller's idempotency answer in one statement;
3. the request's commit.

The locks are taken in the full path's order: the OP, then the quant and the reservation. ``plan`` only accepts a
confirm that every check of ``services.confirm_quantity`` accepts; anything else (not mine, not at the quantity
step, too many units, stock taken meanwhile, ...) answers None, and the caller rolls back and takes the full path,
which refuses with the usual message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from psycopg import Connection, Cursor
from psycopg.rows import namedtuple_row

from wms.db import db, utcnow
from wms.orders.models import OrderLine, Reservation
from wms.picking.services import NEXT_STEP
from wms.picking.text import _
from wms.stock.models import Quant
from wms.tasks.models import Task
from wms.waves.models import PickOrder, PickOrderLine, PickOrderStatus

_OPEN = "l.picked_quantity < l.quantity AND NOT COALESCE(t.status IN ('done', 'cancelled'), false)"

# The OP's row lock comes first, on its own: a statement reads what was committed when it started, so the lines read
# in the same statement as a lock that had to wait would be as they were before the confirm that held it.
LOCK_OP = "SELECT id FROM pick_orders WHERE id = %(op)s FOR UPDATE"

READ = f"""
SELECT po.status, po.picker_id, po.warehouse_id, po.code,
       l.id, l.quantity, l.picked_quantity, l.reservation_id, l.task_id, l.location_id, l.product_id,
       l.order_line_id, p.sku,
       NOT ({_OPEN}) AS closed,
       CASE WHEN l.task_id IS NOT NULL AND {_OPEN}
            THEN (SELECT e.step FROM scan_events e
                  WHERE e.pick_order_id = po.id AND e.task_id = l.task_id AND e.flow = 'pick'
                    AND e.outcome IN ('accepted', 'applied', 'exception')
                    AND e.step IN ('location', 'item', 'tote', 'quantity', 'exception')
                  ORDER BY e.id DESC LIMIT 1) END AS last_step
FROM pick_orders po
JOIN pick_order_lines l ON l.pick_order_id = po.id
JOIN products p ON p.id = l.product_id
LEFT JOIN tasks t ON t.id = l.task_id
WHERE po.id = %(op)s
ORDER BY l.seq
"""

LOCK = f"""
SELECT r.id AS reservation_id, q.id, q.location_id, r.quantity, nextval('scan_events_id_seq') AS event_id
FROM quants q JOIN reservations r ON r.quant_id = q.id
WHERE r.id = (SELECT l.reservation_id FROM pick_order_lines l LEFT JOIN tasks t ON t.id = l.task_id
              WHERE l.pick_order_id = %(op)s AND {_OPEN} ORDER BY l.seq LIMIT 1)
FOR UPDATE OF q, r
"""

_WRITE = """
WITH q AS (UPDATE quants SET on_hand = on_hand - %(units)s, reserved = reserved - %(units)s WHERE id = %(quant)s
           RETURNING id),
     r AS ({reservation}),
     ol AS (UPDATE order_lines SET picked = picked + %(units)s WHERE id = %(order_line)s RETURNING id),
     led AS (INSERT INTO stock_ledger (at, product_id, location_id, delta_on_hand, delta_reserved, reason,
                                       actor_user_id, idempotency_key, reference, note)
             VALUES (%(now)s, %(product)s, %(location)s, -%(units)s, -%(units)s, 'pick', %(user)s, %(key)s,
                     %(reference)s, %(note)s)
             RETURNING id),
     pl AS (UPDATE pick_order_lines SET picked_quantity = picked_quantity + %(units)s{clear} WHERE id = %(line)s
            RETURNING picked_quantity),
     ik AS (UPDATE idempotency_keys SET status_code = %(answer_status)s, response_body = %(answer_body)s
            WHERE id = %(answer_key)s RETURNING id){task}
INSERT INTO scan_events (id, at, scanned_at, warehouse_id, user_id, device_id, idempotency_key, flow, step, code,
                         outcome, message, data, task_id, pick_order_id)
VALUES (%(event)s, %(now)s, %(scanned_at)s, %(warehouse)s, %(user)s, %(device)s, %(key)s, 'pick', 'quantity',
        %(code)s, 'applied', %(message)s, CAST(%(data)s AS json), %(task)s, %(op)s)
RETURNING (SELECT picked_quantity FROM pl), (SELECT count(*) FROM q), (SELECT count(*) FROM r),
          (SELECT count(*) FROM ik)
"""
WRITES = {
    (deleted, closes): _WRITE.format(
        reservation=("DELETE FROM reservations WHERE id = %(reservation)s RETURNING id" if deleted else
                     "UPDATE reservations SET quantity = quantity - %(units)s WHERE id = %(reservation)s "
                     "RETURNING id"),
        clear=", reservation_id = NULL" if deleted else "",
        task=(",\n     t AS (UPDATE tasks SET status = 'done', done_quantity = %(picked)s, finished_at = %(now)s "
              "WHERE id = %(task)s AND status NOT IN ('done', 'cancelled') RETURNING id)") if closes else "")
    for deleted in (False, True) for closes in (False, True)
}


@dataclass(frozen=True)
class QuickConfirm:
    """What a confirm applied by the hot path answers (the same fields as a ScanResult's JSON)."""
    message: str
    event_id: int
    line_id: int
    picked: int
    step: str
    current_line_id: int | None
    done_lines: int
    total_lines: int


@dataclass(frozen=True)
class Queued:
    """The two statements ``queue`` put in the caller's pipeline; their rows are read after it is synced."""
    read: Cursor[Any]
    lock: Cursor[Any]


@dataclass(frozen=True)
class Plan:
    """A confirm every check accepted: what ``apply`` writes and what it will answer."""
    op_id: int
    quantity: int
    head: Any
    line: Any
    lock: Any
    result: QuickConfirm


def queue(conn: Connection[Any], op_id: int) -> Queued:
    """Send the locks and the read of a confirm on OP `op_id` (inside the caller's ``conn.pipeline()``)."""
    conn.execute(LOCK_OP, {"op": op_id})
    read = conn.cursor(row_factory=namedtuple_row)
    read.execute(READ, {"op": op_id})
    lock = conn.cursor(row_factory=namedtuple_row)
    lock.execute(LOCK, {"op": op_id})
    return Queued(read, lock)


def plan(queued: Queued, op_id: int, user_id: int, warehouse_ids: frozenset[int] | None, quantity: int, *,
         line_id: int | None = None) -> Plan | None:
    """The confirm of `quantity` units on the current line of my OP, or None when the full path must decide."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        return None
    rows = queued.read.fetchall()
    lock = queued.lock.fetchone()
    if not rows or lock is None:
        return None
    head = rows[0]
    if (head.picker_id != user_id or head.status != PickOrderStatus.PICKING.value
            or (warehouse_ids is not None and head.warehouse_id not in warehouse_ids)):
        return None
    open_rows = [row for row in rows if not row.closed]
    if not open_rows:
        return None
    line = open_rows[0]
    if (line_id is not None and line_id != line.id) or NEXT_STEP.get(line.last_step) != "quantity":
        return None
    remaining = line.quantity - line.picked_quantity
    if (quantity > remaining or line.reservation_id is None or lock.reservation_id != line.reservation_id
            or lock.quantity < quantity or lock.location_id != line.location_id):
        return None
    picked = line.picked_quantity + quantity
    done = len(rows) - len(open_rows)
    message = _("%(n)s × %(sku)s picked.", n=quantity, sku=line.sku)
    if picked >= line.quantity:
        following = open_rows[1] if len(open_rows) > 1 else None
        result = QuickConfirm(message, lock.event_id, line.id, picked, "location" if following else "drop",
                              following.id if following else None, done + 1, len(rows))
    else:
        result = QuickConfirm(message, lock.event_id, line.id, picked, "quantity", line.id, done, len(rows))
    return Plan(op_id, quantity, head, line, lock, result)


def apply(conn: Connection[Any], p: Plan, *, user_id: int, device_id: str | None, idempotency_key: str | None,
          scanned_at: Any, answer: tuple[int, int, str] | None = None) -> QuickConfirm:
    """Write the planned confirm, and `answer` (idempotency key row id, status, body) in the same statement."""
    line, quantity = p.line, p.quantity
    deleted = p.lock.quantity == quantity
    closes = p.result.picked == line.quantity and line.task_id is not None
    key_row, status, body = answer if answer is not None else (None, None, None)
    written = conn.execute(WRITES[(deleted, closes)], {
        "units": quantity, "quant": p.lock.id, "reservation": line.reservation_id, "order_line": line.order_line_id,
        "now": utcnow(), "product": line.product_id, "location": line.location_id, "user": user_id,
        "key": idempotency_key, "reference": f"pick:{p.head.code}", "note": f"order line {line.order_line_id}",
        "line": line.id, "picked": p.result.picked, "task": line.task_id, "event": p.result.event_id,
        "scanned_at": scanned_at, "warehouse": p.head.warehouse_id, "device": device_id, "code": str(quantity),
        "message": p.result.message, "op": p.op_id, "data": json.dumps({"quantity": quantity, "line_id": line.id}),
        "answer_key": key_row, "answer_status": status, "answer_body": body,
    }).fetchone()
    assert written is not None
    picked, quants, reservations, answers = written
    if (quants != 1 or reservations != 1 or picked != p.result.picked
            or answers != (1 if answer is not None else 0)):
        raise RuntimeError(f"confirm of OP {p.op_id} line {line.id} wrote {quants} quants, {reservations} "
                           f"reservations, {answers} answers")  # cannot happen under the locks; never commit half
    forget_loaded(deleted_reservation=line.reservation_id if deleted else None)
    return p.result


def forget_loaded(*, deleted_reservation: int | None) -> None:
    """Rows this session may hold (a long app context, a caller that loaded the OP) are re-read after the hot
    path wrote them behind the ORM's back."""
    for key, obj in list(db.session.identity_map.items()):
        if isinstance(obj, Reservation) and key[1] == (deleted_reservation,):
            db.session.expunge(obj)
        elif isinstance(obj, (PickOrder, PickOrderLine, Quant, Reservation, OrderLine, Task)):
            db.session.expire(obj)
