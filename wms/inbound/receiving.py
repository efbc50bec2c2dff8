"""Receipts at the receiving dock: lines received by SKU or barcode with lots and dates, quality hold, scrap."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from wms.auth.models import User
from wms.catalog.models import Product
from wms.db import db, utcnow
from wms.enums import StockReason, TaskKind, TaskStatus, ZoneKind
from wms.errors import NotFound, ValidationFailed
from wms.inbound import errors as e
from wms.inbound import services as po_services
from wms.inbound.models import (
    Asn,
    AsnStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    ReceiptStatus,
)
from wms.layout.models import Location, Zone
from wms.stock import operations as ops
from wms.tasks.models import Task

OPEN_TASK = (TaskStatus.OPEN, TaskStatus.ASSIGNED)


@dataclass(frozen=True)
class Receiving:
    """What a receiver declares for one scan: the code (SKU or any barcode), units, lot, date, hold."""

    code: str
    quantity: int
    lot_code: str | None = None
    best_before: dt.date | None = None
    hold_reason: str | None = None
    quarantine: str | None = None  # a quarantine location code; required with hold_reason


def _location_of_kind(warehouse_id: int, code: str, kind: ZoneKind, field: str) -> Location:
    loc = db.session.scalar(select(Location).join(Zone, Zone.id == Location.zone_id)
                            .where(Location.warehouse_id == warehouse_id, Location.code == code, Zone.kind == kind))
    if loc is None:
        what = kind.value.replace("_", " ")
        raise ValidationFailed(f"No {what} location {code!r} in this warehouse.",
                               errors=[{"field": field, "message": f"not a {what} location"}])
    return loc


def default_dock(warehouse_id: int) -> Location:
    """The first receiving-dock location of a warehouse (by code), or 422."""
    loc = db.session.scalar(select(Location).join(Zone, Zone.id == Location.zone_id)
                            .where(Location.warehouse_id == warehouse_id, Zone.kind == ZoneKind.RECEIVING_DOCK,
                                   Location.active.is_(True)).order_by(Location.code).limit(1))
    if loc is None:
        raise ValidationFailed("This warehouse has no receiving-dock location.",
                               errors=[{"field": "dock", "message": "no receiving dock"}])
    return loc


def open_receipt(po: PurchaseOrder, user: User | None, *, dock_code: str | None = None,
                 asn_number: str | None = None) -> Receipt:
    """Start receiving a receivable PO (optionally against one of its ASNs) at a receiving-dock location."""
    po = po_services.get_purchase_order(po.number, lock=True)
    if po.status not in po_services.RECEIVABLE:
        raise e.InboundStateConflict(f"Purchase order {po.number} is {po.status.value}; nothing more is received "
                                     "against it.", state=po.status.value)
    dock = (_location_of_kind(po.warehouse_id, dock_code, ZoneKind.RECEIVING_DOCK, "dock") if dock_code
            else default_dock(po.warehouse_id))
    asn = po_services.get_asn(po, asn_number) if asn_number else None
    if asn is not None:
        if asn.status in (AsnStatus.RECEIVED, AsnStatus.CANCELLED):
            raise e.InboundStateConflict(f"ASN {asn.number} is {asn.status.value}.", state=asn.status.value)
        asn.status = AsnStatus.RECEIVING
    receipt = Receipt(code="tmp-" + uuid.uuid4().hex, warehouse_id=po.warehouse_id, purchase_order_id=po.id,
                      asn_id=asn.id if asn else None, dock_location_id=dock.id, status=ReceiptStatus.OPEN,
                      received_by_id=user.id if user else None)
    db.session.add(receipt)
    db.session.flush()
    receipt.code = f"RC{receipt.id:06d}"
    db.session.flush()
    return receipt


def get_receipt(code: str, *, lock: bool = False) -> Receipt:
    """The receipt with this code (row locked when asked), or 404."""
    stmt = select(Receipt).where(Receipt.code == code)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    receipt = db.session.scalar(stmt)
    if receipt is None:
        raise NotFound(f"No receipt {code!r}.")
    return receipt


def list_receipts(warehouse_id: int, *, status: str | None = None, purchase_order_id: int | None = None,
                  limit: int = 200) -> list[Receipt]:
    """Receipts of a warehouse (or of one PO), newest first."""
    stmt = select(Receipt).where(Receipt.warehouse_id == warehouse_id)
    if status:
        stmt = stmt.where(Receipt.status == ReceiptStatus(status))
    if purchase_order_id is not None:
        stmt = stmt.where(Receipt.purchase_order_id == purchase_order_id)
    return list(db.session.scalars(stmt.order_by(Receipt.id.desc()).limit(limit)))


def product_for_code(code: str) -> Product | None:
    """The product one of whose barcodes (GTINs normalised) this is, else the product with this SKU."""
    from wms.picking.services import product_for_code as lookup

    return lookup(code)


def _po_line(po: PurchaseOrder, product: Product, code: str) -> PurchaseOrderLine:
    line = db.session.scalar(select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == po.id,
                                                             PurchaseOrderLine.product_id == product.id)
                             .order_by(PurchaseOrderLine.line_no).limit(1).with_for_update()
                             .execution_options(populate_existing=True))
    if line is None:
        raise e.UnknownItem(f"Receipt of an unknown item: {product.sku} ({product.name}) is not on purchase order "
                            f"{po.number}. Nothing was received.", sku=product.sku, code=code,
                            errors=[{"field": "code", "message": "not on the purchase order"}])
    return line


def _check_tracking(product: Product, what: Receiving) -> None:
    missing = []
    if product.lot_tracked and not (what.lot_code or "").strip():
        missing.append({"field": "lot_code", "message": f"{product.sku} is lot-tracked: give its lot"})
    if product.expiry_tracked and what.best_before is None:
        missing.append({"field": "best_before", "message": f"{product.sku} is expiry-tracked: give its best-before"})
    if missing:
        fields = " and ".join(m["field"] for m in missing)
        raise e.LotRequired(f"{product.sku} needs {fields}; nothing was received.", errors=missing)


def _check_quantity(po: PurchaseOrder, line: PurchaseOrderLine, product: Product, quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValidationFailed("The quantity received is a positive whole number.",
                               errors=[{"field": "quantity", "message": "must be > 0"}])
    pct = po_services.tolerance_pct(po)
    allowed = po_services.allowed_units(line.quantity, pct)
    if line.received + quantity > allowed:
        raise e.OverReceipt(
            f"Over-receipt: {line.quantity} {product.sku} ordered on {po.number}, {line.received} already received; "
            f"{quantity} more would make {line.received + quantity}, above the {allowed} allowed "
            f"(tolerance {pct}%). Nothing was received.",
            sku=product.sku, ordered=line.quantity, received=line.received, requested=quantity,
            tolerance_pct=pct, allowed=allowed, acceptable=max(0, allowed - line.received))


def receive(receipt: Receipt, what: Receiving, user: User | None, *, idempotency_key: str | None = None
            ) -> ReceiptLine:
    """Receive units of a PO line: +on_hand at the dock (receipt), or at a quarantine location (quarantine, held)."""
    receipt = get_receipt(receipt.code, lock=True)
    if receipt.status != ReceiptStatus.OPEN:
        raise e.InboundStateConflict(f"Receipt {receipt.code} is closed; open a new one.", state="closed")
    po = po_services.get_purchase_order(receipt.purchase_order.number, lock=True)
    if po.status not in po_services.RECEIVABLE:
        raise e.InboundStateConflict(f"Purchase order {po.number} is {po.status.value}.", state=po.status.value)
    code = (what.code or "").strip()
    product = product_for_code(code) if code else None
    if product is None:
        raise e.UnknownItem(f"Receipt of an unknown item: no product has the code {code!r}. Nothing was received.",
                            code=code, errors=[{"field": "code", "message": "no product with this SKU or barcode"}])
    line = _po_line(po, product, code)
    _check_tracking(product, what)
    _check_quantity(po, line, product, what.quantity)
    held = bool((what.hold_reason or "").strip())
    if held:
        if not what.quarantine:
            raise ValidationFailed("A held receipt goes to a quarantine location: give `quarantine`.",
                                   errors=[{"field": "quarantine", "message": "required with hold_reason"}])
        location = _location_of_kind(po.warehouse_id, what.quarantine, ZoneKind.QUARANTINE, "quarantine")
    elif what.quarantine:
        raise ValidationFailed("Say why the goods are held (`hold_reason`) to receive into quarantine.",
                               errors=[{"field": "hold_reason", "message": "required with quarantine"}])
    else:
        location = db.session.get(Location, receipt.dock_location_id)
    assert location is not None
    actor = ops.Actor(user=user, idempotency_key=idempotency_key)
    reason = StockReason.QUARANTINE if held else StockReason.RECEIPT
    ops.change(product, location, what.quantity, reason, actor, reference=f"receipt {receipt.code}",
               note=what.hold_reason.strip() if held and what.hold_reason else None)
    rline = ReceiptLine(receipt_id=receipt.id, purchase_order_line_id=line.id, product_id=product.id,
                        quantity=what.quantity, lot_code=(what.lot_code or "").strip() or None,
                        best_before=what.best_before, location_id=location.id, on_hold=held,
                        hold_reason=what.hold_reason.strip() if held and what.hold_reason else None,
                        put_away=0, scrapped=0, received_by_id=user.id if user else None)
    db.session.add(rline)
    line.received += what.quantity
    po_services.refresh_status(po)
    db.session.flush()
    return rline


def close_receipt(receipt: Receipt) -> Receipt:
    """Close a receipt (its ASN is then received); its lines stay to be put away."""
    receipt = get_receipt(receipt.code, lock=True)
    if receipt.status != ReceiptStatus.OPEN:
        raise e.InboundStateConflict(f"Receipt {receipt.code} is already closed.", state="closed")
    receipt.status = ReceiptStatus.CLOSED
    receipt.closed_at = utcnow()
    if receipt.asn_id is not None:
        asn = db.session.get(Asn, receipt.asn_id)
        if asn is not None and asn.status == AsnStatus.RECEIVING:
            asn.status = AsnStatus.RECEIVED
    db.session.flush()
    return receipt


def get_line(line_id: int, *, lock: bool = False) -> ReceiptLine:
    """A receipt line by id (row locked when asked), or 404."""
    stmt = select(ReceiptLine).where(ReceiptLine.id == line_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    line = db.session.scalar(stmt)
    if line is None:
        raise NotFound(f"No receipt line {line_id}.")
    return line


def planned_units(line: ReceiptLine) -> int:
    """Units of a receipt line promised to open put-away tasks."""
    return int(db.session.scalar(select(func.coalesce(func.sum(Task.quantity), 0)).where(
        Task.receipt_line_id == line.id, Task.kind == TaskKind.PUTAWAY, Task.status.in_(OPEN_TASK))) or 0)


def release_hold(line: ReceiptLine, user: User | None, *, idempotency_key: str | None = None) -> ReceiptLine:
    """Release held units: quarantine → the receipt's dock (two quarantine rows), ready to be put away."""
    line = get_line(line.id, lock=True)
    if not line.on_hold:
        raise e.InboundStateConflict(f"Receipt line {line.id} is not on hold.", on_hold=False)
    receipt = db.session.get(Receipt, line.receipt_id)
    assert receipt is not None
    product = db.session.get(Product, line.product_id)
    source = db.session.get(Location, line.location_id)
    dock = db.session.get(Location, receipt.dock_location_id)
    assert product is not None and source is not None and dock is not None
    units = line.remaining
    if units:
        actor = ops.Actor(user=user, idempotency_key=idempotency_key)
        reference = f"release receipt line {line.id}"
        for loc, delta in sorted([(source, -units), (dock, units)], key=lambda x: x[0].id):
            ops.change(product, loc, delta, StockReason.QUARANTINE, actor, reference=reference)
    line.on_hold = False
    line.hold_reason = None
    line.location_id = dock.id
    db.session.flush()
    return line


def scrap(line: ReceiptLine, quantity: int, reason: str, user: User | None, *,
          idempotency_key: str | None = None) -> ReceiptLine:
    """Destroy units of a receipt line where they wait (ledger scrap), e.g. damaged goods found in quarantine."""
    line = get_line(line.id, lock=True)
    if not reason or not reason.strip():
        raise ValidationFailed("Say why the units are scrapped.", errors=[{"field": "reason", "message": "required"}])
    free = line.remaining - planned_units(line)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= free:
        raise ValidationFailed(f"Receipt line {line.id} has {free} units that can be scrapped; not {quantity}.",
                               errors=[{"field": "quantity", "message": f"between 1 and {free}"}])
    product = db.session.get(Product, line.product_id)
    location = db.session.get(Location, line.location_id)
    assert product is not None and location is not None
    ops.change(product, location, -quantity, StockReason.SCRAP, ops.Actor(user=user, idempotency_key=idempotency_key),
               reference=f"receipt line {line.id}", note=reason.strip())
    line.scrapped += quantity
    db.session.flush()
    return line
