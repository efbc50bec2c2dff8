"""Receiving and put-away on the handheld: pick a PO (or ASN), scan items with quantity, lot and best-before, then
put the units away into lanes scanned from the replenish face. Pages /hh/receive and /hh/putaway, JSON calls under
/hh/api/receive and /hh/api/putaway (idempotent, recorded in the audit trail)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from flask import render_template
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from handheld import bp
from handheld.api import RECEIVERS, _barcodes, _context, hh_api
from wms.auth.models import User
from wms.auth.setup import page_requires
from wms.catalog.models import Product
from wms.db import db
from wms.errors import DomainError, NotFound, ValidationFailed
from wms.inbound import labels, putaway, services
from wms.inbound import putaway_flow as flow
from wms.inbound import receiving as rcv
from wms.inbound.models import Asn, AsnStatus, PurchaseOrder, Receipt, ReceiptStatus
from wms.layout.models import Location
from wms.picking.text import _
from wms.tasks.models import Task

Scan = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartIn(_In):
    number: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    asn: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None


class ReceiveLineIn(_In):
    code: Scan
    quantity: Annotated[int, Field(gt=0, le=1_000_000)]
    lot_code: Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)] | None = None
    best_before: dt.date | None = None
    scanned_at: dt.datetime | None = None


class PutawayScanIn(_In):
    step: Literal["lane", "item", "quantity"]
    code: Scan | None = None
    quantity: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    scanned_at: dt.datetime | None = None


# --- pages ---------------------------------------------------------------------------------------------------------


@bp.get("/receive")
@page_requires(("receiver",))
def receive_page():  # type: ignore[no-untyped-def]
    """Receiving: choose a purchase order or ASN, scan items and quantities (lot and best-before when needed)."""
    return render_template("handheld/receive.html")


@bp.get("/putaway")
@page_requires(("receiver",))
def putaway_page():  # type: ignore[no-untyped-def]
    """Put-away tasks, scanned from the replenish face."""
    return render_template("handheld/putaway.html")


# --- serialisation -------------------------------------------------------------------------------------------------


def _po_out(po: PurchaseOrder) -> dict[str, Any]:
    pct = services.tolerance_pct(po)
    codes = _barcodes({ln.product_id for ln in po.lines})
    asns = db.session.scalars(select(Asn).where(Asn.purchase_order_id == po.id,
                                                Asn.status.in_((AsnStatus.EXPECTED, AsnStatus.RECEIVING))))
    return {"number": po.number, "supplier": po.supplier.name, "status": po.status.value,
            "asns": [a.number for a in asns],
            "lines": [{"sku": ln.product.sku, "name": ln.product.name, "quantity": ln.quantity,
                       "received": ln.received, "allowed": services.allowed_units(ln.quantity, pct),
                       "barcodes": codes.get(ln.product_id, []), "lot": ln.product.lot_tracked,
                       "bbd": ln.product.expiry_tracked} for ln in po.lines]}


def _receipt_out(receipt: Receipt) -> dict[str, Any]:
    return {"code": receipt.code, "status": receipt.status.value, "asn": receipt.asn.number if receipt.asn else None,
            "dock": receipt.dock_location.code, "po": _po_out(receipt.purchase_order),
            "lines": [{"id": ln.id, "sku": ln.product.sku, "quantity": ln.quantity, "lot_code": ln.lot_code,
                       "best_before": ln.best_before.isoformat() if ln.best_before else None,
                       "on_hold": ln.on_hold} for ln in receipt.lines]}


def _task_out(task: Task) -> dict[str, Any]:
    lane = db.session.get(Location, task.location_id)
    source = db.session.get(Location, task.source_location_id) if task.source_location_id else None
    product = db.session.get(Product, task.product_id) if task.product_id else None
    return {"id": task.id, "kind": task.kind.value, "status": task.status.value, "quantity": task.quantity,
            "lane": lane.code if lane else None, "source": source.code if source else None,
            "sku": product.sku if product else None, "name": product.name if product else None,
            "barcodes": _barcodes({product.id}).get(product.id, []) if product else [],
            "step": flow.task_step(task), "mine": task.assignee_id is not None}


def _my_receipt(user: User, code: str) -> Receipt:
    flow.require_receiver(user)
    receipt = db.session.scalar(select(Receipt).where(Receipt.code == code))
    if receipt is None or (user.warehouse_ids is not None and receipt.warehouse_id not in user.warehouse_ids):
        raise NotFound(_("No receipt %(code)s.", code=code))
    return receipt


# --- calls ---------------------------------------------------------------------------------------------------------


@hh_api("/receive/orders", "GET", roles=RECEIVERS)
def receive_orders(user: User) -> dict[str, Any]:
    """Purchase orders waiting for goods in my warehouses, and my open receipts."""
    flow.require_receiver(user)
    stmt = select(PurchaseOrder).where(PurchaseOrder.status.in_(services.RECEIVABLE)).order_by(PurchaseOrder.id)
    rstmt = select(Receipt).where(Receipt.status == ReceiptStatus.OPEN, Receipt.received_by_id == user.id)
    if user.warehouse_ids is not None:
        stmt = stmt.where(PurchaseOrder.warehouse_id.in_(user.warehouse_ids))
        rstmt = rstmt.where(Receipt.warehouse_id.in_(user.warehouse_ids))
    return {"orders": [_po_out(po) for po in db.session.scalars(stmt.limit(100))],
            "receipts": [{"code": r.code, "po": r.purchase_order.number} for r in db.session.scalars(rstmt)]}


@hh_api("/receive/start", "POST", roles=RECEIVERS, body=StartIn)
def receive_start(user: User, body: StartIn) -> dict[str, Any]:
    """Open a receipt for a PO (or an ASN of it) at the dock, or get back my open one for that PO."""
    flow.require_receiver(user)
    po = services.get_purchase_order(body.number)
    if user.warehouse_ids is not None and po.warehouse_id not in user.warehouse_ids:
        raise NotFound(_("No purchase order %(number)s.", number=body.number))
    mine = db.session.scalar(select(Receipt).where(Receipt.purchase_order_id == po.id,
                                                   Receipt.status == ReceiptStatus.OPEN,
                                                   Receipt.received_by_id == user.id).order_by(Receipt.id).limit(1))
    receipt = mine or rcv.open_receipt(po, user, asn_number=body.asn)
    return {"receipt": _receipt_out(receipt)}


@hh_api("/receive/<code>", "GET", roles=RECEIVERS)
def receive_sheet(user: User, code: str) -> dict[str, Any]:
    """A receipt with its PO lines (ordered, received, allowed) and what was received so far."""
    return {"receipt": _receipt_out(_my_receipt(user, code))}


@hh_api("/receive/<code>/line", "POST", roles=RECEIVERS, body=ReceiveLineIn)
def receive_line(user: User, code: str, body: ReceiveLineIn) -> dict[str, Any]:
    """One item received; unknown item, over-receipt and a missing lot or date are refused and recorded."""
    receipt = _my_receipt(user, code)
    result = flow.receive_scan(receipt, rcv.Receiving(code=body.code, quantity=body.quantity,
                                                      lot_code=body.lot_code, best_before=body.best_before),
                               _context(user, body.scanned_at))
    db.session.expire_all()
    return {"outcome": result.outcome.value, "message": result.message, "event_id": result.event.id,
            "line_id": result.line.id if result.line else None,
            "receipt": _receipt_out(rcv.get_receipt(code))}


@hh_api("/receive/<code>/finish", "POST", roles=RECEIVERS)
def receive_finish(user: User, code: str) -> dict[str, Any]:
    """Close the receipt, print its labels at the dock printer and plan the put-away of every line."""
    receipt = _my_receipt(user, code)
    if receipt.status == ReceiptStatus.OPEN:
        rcv.close_receipt(receipt)
    notes: list[str] = []
    try:
        with db.session.begin_nested():
            if receipt.lines:
                labels.print_labels(receipt, user, key=f"hh-finish-{receipt.code}")
    except DomainError as err:
        notes.append(err.detail)
    tasks = []
    for line in receipt.lines:
        if line.on_hold or line.remaining - rcv.planned_units(line) <= 0:
            continue
        try:
            with db.session.begin_nested():
                made, short = putaway.create_putaway_tasks(line)
            tasks += made
            if short:
                notes.append(_("%(n)s units of %(sku)s found no lane with room.", n=short, sku=line.product.sku))
        except DomainError as err:
            notes.append(err.detail)
    return {"receipt": _receipt_out(receipt), "tasks": [_task_out(t) for t in tasks], "notes": notes}


@hh_api("/putaway/tasks", "GET", roles=RECEIVERS)
def putaway_tasks(user: User) -> dict[str, Any]:
    """My put-away tasks, then open ones."""
    return {"tasks": [_task_out(t) for t in flow.my_tasks(user)]}


@hh_api("/putaway/<int:task_id>/scan", "POST", roles=RECEIVERS, body=PutawayScanIn)
def putaway_scan(user: User, task_id: int, body: PutawayScanIn) -> dict[str, Any]:
    """One scan of the put-away flow: lane (replenish face), item, quantity."""
    task = flow.lock_task(task_id, user)
    if body.step == "quantity" and body.quantity is None:
        raise ValidationFailed("A quantity step carries `quantity`.",
                               errors=[{"field": "quantity", "message": "required"}])
    if body.step != "quantity" and body.code is None:
        raise ValidationFailed("A scan carries the scanned `code`.", errors=[{"field": "code", "message": "required"}])
    result = flow.scan_task(task, body.step, _context(user, body.scanned_at), code=body.code,
                            quantity=body.quantity)
    return {"outcome": result.outcome.value, "message": result.message, "event_id": result.event.id,
            "step": result.step, "task": _task_out(task)}
