"""Suppliers, purchase orders and advance shipping notices: plain functions over the session (add/flush only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wms.catalog.models import Product
from wms.db import db, utcnow
from wms.errors import Conflict, NotFound, ValidationFailed
from wms.inbound import errors as e
from wms.inbound.models import (
    Asn,
    AsnLine,
    AsnStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
    ReceiptStatus,
    Supplier,
)
from wms.labels import gs1
from wms.labels.errors import LabelDataInvalid
from wms.layout.models import Warehouse

RECEIVABLE = (PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED)


@dataclass(frozen=True)
class LineSpec:
    sku: str
    quantity: int


@dataclass(frozen=True)
class AsnLineSpec:
    sku: str
    quantity: int
    lot_code: str | None = None
    best_before: dt.date | None = None
    sscc: str | None = None


# --- suppliers -------------------------------------------------------------------------------------------------


def create_supplier(code: str, name: str, *, email: str | None = None, over_receipt_tolerance_pct: int = 0
                    ) -> Supplier:
    """A new supplier; 409 when the code is taken."""
    if db.session.scalar(select(Supplier.id).where(Supplier.code == code)) is not None:
        raise Conflict(f"A supplier with code {code!r} already exists.", supplier=code)
    _check_tolerance(over_receipt_tolerance_pct, "over_receipt_tolerance_pct")
    supplier = Supplier(code=code, name=name, email=email, over_receipt_tolerance_pct=over_receipt_tolerance_pct)
    db.session.add(supplier)
    db.session.flush()
    return supplier


def list_suppliers() -> list[Supplier]:
    """Every supplier, by code."""
    return list(db.session.scalars(select(Supplier).order_by(Supplier.code)))


def supplier_by_code(code: str, field: str = "supplier") -> Supplier:
    """The supplier with this code, or 422 naming the field."""
    supplier = db.session.scalar(select(Supplier).where(Supplier.code == code))
    if supplier is None:
        raise ValidationFailed(f"No supplier with code {code!r}.", errors=[{"field": field, "message": "unknown"}])
    return supplier


def _check_tolerance(pct: int | None, field: str) -> None:
    if pct is not None and not 0 <= pct <= 100:
        raise ValidationFailed("An over-receipt tolerance is 0 to 100 percent.",
                               errors=[{"field": field, "message": "0..100"}])


# --- purchase orders -------------------------------------------------------------------------------------------


def _products_by_sku(skus: list[str], field: str) -> dict[str, Product]:
    found = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(set(skus))))}
    missing = [{"field": field.format(i=i), "message": f"no product with SKU {sku!r}"}
               for i, sku in enumerate(skus) if sku not in found]
    if missing:
        raise ValidationFailed("Some lines name products that do not exist; nothing was created.", errors=missing)
    return found


def create_purchase_order(warehouse: Warehouse, supplier_code: str, number: str, lines: list[LineSpec], *,
                          expected_at: dt.datetime | None = None, over_receipt_tolerance_pct: int | None = None,
                          note: str | None = None) -> PurchaseOrder:
    """A new open PO with one line per SKU; 422 on an unknown supplier or SKU, 409 on a taken number."""
    supplier = supplier_by_code(supplier_code)
    _check_tolerance(over_receipt_tolerance_pct, "over_receipt_tolerance_pct")
    if not lines:
        raise ValidationFailed("A purchase order has at least one line.", errors=[{"field": "lines", "message": "empty"}])
    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.sku in seen:
            raise ValidationFailed(f"SKU {line.sku} appears on lines {seen[line.sku]} and {i}; order it once.",
                                   errors=[{"field": f"lines.{i}.sku", "message": "duplicate"}])
        if line.quantity <= 0:
            raise ValidationFailed("An ordered quantity is a positive whole number.",
                                   errors=[{"field": f"lines.{i}.quantity", "message": "must be > 0"}])
        seen[line.sku] = i
    products = _products_by_sku([ln.sku for ln in lines], "lines.{i}.sku")
    if db.session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.number == number)) is not None:
        raise Conflict(f"A purchase order numbered {number!r} already exists.", purchase_order=number)
    po = PurchaseOrder(number=number, supplier=supplier, warehouse_id=warehouse.id, expected_at=expected_at,
                       over_receipt_tolerance_pct=over_receipt_tolerance_pct, note=note,
                       status=PurchaseOrderStatus.OPEN)
    po.lines = [PurchaseOrderLine(line_no=i + 1, product_id=products[ln.sku].id, quantity=ln.quantity, received=0)
                for i, ln in enumerate(lines)]
    db.session.add(po)
    db.session.flush()
    return po


def list_purchase_orders(warehouse: Warehouse, *, status: str | None = None, limit: int = 200
                         ) -> list[PurchaseOrder]:
    """POs of a warehouse, newest first; `status` one of the PO states or "receivable" (open or partial)."""
    stmt = (select(PurchaseOrder).where(PurchaseOrder.warehouse_id == warehouse.id)
            .options(selectinload(PurchaseOrder.lines).selectinload(PurchaseOrderLine.product),
                     selectinload(PurchaseOrder.supplier)))
    if status == "receivable":
        stmt = stmt.where(PurchaseOrder.status.in_(RECEIVABLE))
    elif status:
        stmt = stmt.where(PurchaseOrder.status == PurchaseOrderStatus(status))
    return list(db.session.scalars(stmt.order_by(PurchaseOrder.id.desc()).limit(limit)))


def get_purchase_order(number: str, *, lock: bool = False) -> PurchaseOrder:
    """The PO with this number (row locked when asked), or 404."""
    stmt = select(PurchaseOrder).where(PurchaseOrder.number == number)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    po = db.session.scalar(stmt)
    if po is None:
        raise NotFound(f"No purchase order {number!r}.")
    return po


def tolerance_pct(po: PurchaseOrder) -> int:
    """The over-receipt tolerance in force: the PO's when set, else its supplier's."""
    if po.over_receipt_tolerance_pct is not None:
        return po.over_receipt_tolerance_pct
    return po.supplier.over_receipt_tolerance_pct


def allowed_units(ordered: int, pct: int) -> int:
    """Most units a line may receive: ordered plus the tolerance, rounded down (never above twice ordered)."""
    return min(ordered + ordered * pct // 100, 2 * ordered)


def refresh_status(po: PurchaseOrder) -> None:
    """open → partially_received → received from the lines (a closed or cancelled PO keeps its state)."""
    if po.status not in RECEIVABLE + (PurchaseOrderStatus.RECEIVED,):
        return
    if all(line.received >= line.quantity for line in po.lines):
        po.status = PurchaseOrderStatus.RECEIVED
    elif any(line.received > 0 for line in po.lines):
        po.status = PurchaseOrderStatus.PARTIALLY_RECEIVED
    else:
        po.status = PurchaseOrderStatus.OPEN


def _open_receipts(po: PurchaseOrder) -> list[str]:
    return list(db.session.scalars(select(Receipt.code).where(Receipt.purchase_order_id == po.id,
                                                              Receipt.status == ReceiptStatus.OPEN)))


def close_purchase_order(po: PurchaseOrder) -> PurchaseOrder:
    """Close a PO, accepting what arrived (possibly short); refused while a receipt of it is open."""
    po = get_purchase_order(po.number, lock=True)
    if po.status in (PurchaseOrderStatus.CLOSED, PurchaseOrderStatus.CANCELLED):
        raise e.InboundStateConflict(f"Purchase order {po.number} is already {po.status.value}.",
                                     state=po.status.value)
    if receipts := _open_receipts(po):
        raise e.InboundStateConflict(f"Receipt {', '.join(receipts)} of {po.number} is still open; close it first.",
                                     receipts=receipts)
    po.status = PurchaseOrderStatus.CLOSED
    po.closed_at = utcnow()
    for asn in db.session.scalars(select(Asn).where(Asn.purchase_order_id == po.id,
                                                    Asn.status.in_((AsnStatus.EXPECTED, AsnStatus.RECEIVING)))):
        asn.status = AsnStatus.RECEIVED if asn.status == AsnStatus.RECEIVING else AsnStatus.CANCELLED
    db.session.flush()
    return po


def cancel_purchase_order(po: PurchaseOrder) -> PurchaseOrder:
    """Cancel a PO nothing was received against (its ASNs too); otherwise close it instead."""
    po = get_purchase_order(po.number, lock=True)
    if po.status != PurchaseOrderStatus.OPEN or any(line.received for line in po.lines) or _open_receipts(po):
        raise e.InboundStateConflict(f"Purchase order {po.number} is {po.status.value}; only an open PO with "
                                     "nothing received can be cancelled (close it short instead).",
                                     state=po.status.value)
    po.status = PurchaseOrderStatus.CANCELLED
    po.closed_at = utcnow()
    for asn in db.session.scalars(select(Asn).where(Asn.purchase_order_id == po.id)):
        asn.status = AsnStatus.CANCELLED
    db.session.flush()
    return po


# --- advance shipping notices ----------------------------------------------------------------------------------


def _check_asn_line(i: int, spec: AsnLineSpec) -> None:
    if spec.quantity <= 0:
        raise ValidationFailed("An ASN quantity is a positive whole number.",
                               errors=[{"field": f"lines.{i}.quantity", "message": "must be > 0"}])
    if spec.sscc is not None:
        try:
            gs1.validate_sscc(spec.sscc)
        except LabelDataInvalid as exc:
            raise ValidationFailed(f"Line {i}: {exc}", errors=[{"field": f"lines.{i}.sscc",
                                                                 "message": "not a valid SSCC-18"}]) from None


def create_asn(po: PurchaseOrder, number: str, lines: list[AsnLineSpec], *,
               expected_at: dt.datetime | None = None) -> Asn:
    """An ASN announcing units of a receivable PO, each line matched to the PO line of its SKU."""
    po = get_purchase_order(po.number, lock=True)
    if po.status not in RECEIVABLE:
        raise e.InboundStateConflict(f"Purchase order {po.number} is {po.status.value}; it expects no more goods.",
                                     state=po.status.value)
    if not lines:
        raise ValidationFailed("An ASN has at least one line.", errors=[{"field": "lines", "message": "empty"}])
    by_sku = {line.product.sku: line for line in po.lines}
    for i, spec in enumerate(lines):
        _check_asn_line(i, spec)
        if spec.sku not in by_sku:
            raise e.UnknownItem(f"Receipt of an unknown item: SKU {spec.sku!r} is not on purchase order {po.number}.",
                                errors=[{"field": f"lines.{i}.sku", "message": "not on the purchase order"}])
    if db.session.scalar(select(Asn.id).where(Asn.supplier_id == po.supplier_id, Asn.number == number)):
        raise Conflict(f"Supplier {po.supplier.code} already sent ASN {number!r}.", asn=number)
    asn = Asn(purchase_order_id=po.id, number=number, supplier_id=po.supplier_id, status=AsnStatus.EXPECTED,
              expected_at=expected_at)
    asn.lines = [AsnLine(purchase_order_line_id=by_sku[s.sku].id, quantity=s.quantity, lot_code=s.lot_code,
                         best_before=s.best_before, sscc=s.sscc) for s in lines]
    db.session.add(asn)
    db.session.flush()
    return asn


def list_asns(po: PurchaseOrder) -> list[Asn]:
    """The ASNs of a PO, oldest first."""
    return list(db.session.scalars(select(Asn).where(Asn.purchase_order_id == po.id).order_by(Asn.id)))


def get_asn(po: PurchaseOrder, number: str) -> Asn:
    """The ASN of this PO with this number, or 422 naming the field."""
    asn = db.session.scalar(select(Asn).where(Asn.purchase_order_id == po.id, Asn.number == number))
    if asn is None:
        raise ValidationFailed(f"Purchase order {po.number} has no ASN {number!r}.",
                               errors=[{"field": "asn", "message": "unknown"}])
    return asn
