"""Suppliers, purchase orders, ASNs, receiving, quality hold, put-away and receipt labels over the JSON API."""

from __future__ import annotations

from flask import request

from wms.api.framework import caller as _principal
from wms.api.framework import operation
from wms.api.framework import warehouse_in_scope as _warehouse
from wms.auth.models import User
from wms.catalog.models import Product
from wms.db import db
from wms.errors import Forbidden, NotFound
from wms.inbound import labels, putaway, receiving, services
from wms.inbound import schemas as s
from wms.inbound.models import Asn, PurchaseOrder, Receipt, ReceiptLine, Supplier
from wms.layout.models import Location, Warehouse
from wms.picking.faces import replenish_face_code
from wms.printing.models import PrintJob
from wms.tasks.models import Task

TAGS = ["inbound"]
PLANNERS = ("supervisor",)
RECEIVING = ("supervisor", "receiver")


def _user() -> User | None:
    p = _principal()
    return db.session.get(User, p.user_id) if p.user_id else None


def _key() -> str | None:
    return request.headers.get("Idempotency-Key")


def _po(number: str) -> PurchaseOrder:
    po = services.get_purchase_order(number)
    if not _principal().can_see_warehouse(po.warehouse_id):
        raise NotFound(f"No purchase order {number!r}.")
    return po


def _receipt(code: str) -> Receipt:
    receipt = receiving.get_receipt(code)
    if not _principal().can_see_warehouse(receipt.warehouse_id):
        raise NotFound(f"No receipt {code!r}.")
    return receipt


def _line(line_id: int) -> ReceiptLine:
    line = receiving.get_line(line_id)
    if not _principal().can_see_warehouse(line.receipt.warehouse_id):
        raise NotFound(f"No receipt line {line_id}.")
    return line


def supplier_out(supplier: Supplier) -> s.SupplierOut:
    return s.SupplierOut(code=supplier.code, name=supplier.name, email=supplier.email,
                         over_receipt_tolerance_pct=supplier.over_receipt_tolerance_pct, active=supplier.active)


def po_out(po: PurchaseOrder) -> s.PurchaseOrderOut:
    pct = services.tolerance_pct(po)
    warehouse = db.session.get(Warehouse, po.warehouse_id)
    return s.PurchaseOrderOut(
        number=po.number, supplier=po.supplier.code, warehouse=warehouse.code if warehouse else "",
        status=po.status.value, expected_at=po.expected_at, over_receipt_tolerance_pct=pct,  # type: ignore[arg-type]
        note=po.note, created_at=po.created_at, closed_at=po.closed_at,
        lines=[s.PoLineOut(line_no=ln.line_no, sku=ln.product.sku, name=ln.product.name, quantity=ln.quantity,
                           received=ln.received, allowed=services.allowed_units(ln.quantity, pct))
               for ln in po.lines])


def asn_out(asn: Asn) -> s.AsnOut:
    return s.AsnOut(number=asn.number, purchase_order=asn.purchase_order.number,
                    status=asn.status.value, expected_at=asn.expected_at,  # type: ignore[arg-type]
                    lines=[s.AsnLineOut(sku=ln.purchase_order_line.product.sku, quantity=ln.quantity,
                                        lot_code=ln.lot_code, best_before=ln.best_before, sscc=ln.sscc)
                           for ln in asn.lines])


def line_out(line: ReceiptLine) -> s.ReceiptLineOut:
    product = db.session.get(Product, line.product_id)
    location = db.session.get(Location, line.location_id)
    assert product is not None and location is not None
    return s.ReceiptLineOut(id=line.id, sku=product.sku, name=product.name, quantity=line.quantity,
                            lot_code=line.lot_code, best_before=line.best_before, location=location.code,
                            on_hold=line.on_hold, hold_reason=line.hold_reason, put_away=line.put_away,
                            scrapped=line.scrapped, remaining=line.remaining,
                            planned=receiving.planned_units(line))


def receipt_out(receipt: Receipt) -> s.ReceiptOut:
    warehouse = db.session.get(Warehouse, receipt.warehouse_id)
    dock = db.session.get(Location, receipt.dock_location_id)
    return s.ReceiptOut(code=receipt.code, purchase_order=receipt.purchase_order.number,
                        purchase_order_status=receipt.purchase_order.status.value,
                        asn=receipt.asn.number if receipt.asn else None,
                        warehouse=warehouse.code if warehouse else "", dock=dock.code if dock else "",
                        status=receipt.status.value, created_at=receipt.created_at,  # type: ignore[arg-type]
                        closed_at=receipt.closed_at, lines=[line_out(ln) for ln in receipt.lines])


def task_out(task: Task) -> s.PutawayTaskOut:
    lane = db.session.get(Location, task.location_id)
    source = db.session.get(Location, task.source_location_id) if task.source_location_id else None
    product = db.session.get(Product, task.product_id) if task.product_id else None
    line = db.session.get(ReceiptLine, task.receipt_line_id) if task.receipt_line_id else None
    assignee = db.session.get(User, task.assignee_id) if task.assignee_id else None
    lane_code = lane.code if lane else str(task.location_id)
    return s.PutawayTaskOut(id=task.id, status=task.status.value, receipt=line.receipt.code if line else None,
                            receipt_line=line.id if line else None, sku=product.sku if product else None,
                            lane=lane_code, lane_scan=replenish_face_code(lane_code),
                            source=source.code if source else None, quantity=task.quantity,
                            done_quantity=task.done_quantity, assignee=assignee.username if assignee else None,
                            note=task.note, created_at=task.created_at, finished_at=task.finished_at)


# --- suppliers -------------------------------------------------------------------------------------------------


@operation("/suppliers", "POST", summary="Create a supplier", tags=TAGS, body=s.SupplierIn,
           response=s.SupplierOut, status=201, roles=PLANNERS, idempotent=True)
def create_supplier(body: s.SupplierIn) -> s.SupplierOut:
    """A supplier with its over-receipt tolerance (percent, 0 to 100). 409 when the code is taken."""
    return supplier_out(services.create_supplier(body.code, body.name, email=body.email,
                                                 over_receipt_tolerance_pct=body.over_receipt_tolerance_pct))


@operation("/suppliers", "GET", summary="List suppliers", tags=TAGS, response=list[s.SupplierOut], roles=RECEIVING)
def list_suppliers() -> list[s.SupplierOut]:
    """Every supplier, by code."""
    return [supplier_out(x) for x in services.list_suppliers()]


# --- purchase orders -------------------------------------------------------------------------------------------


@operation("/warehouses/<code>/purchase-orders", "POST", summary="Create a purchase order", tags=TAGS,
           body=s.PurchaseOrderIn, response=s.PurchaseOrderOut, status=201, roles=PLANNERS, idempotent=True)
def create_purchase_order(code: str, body: s.PurchaseOrderIn) -> s.PurchaseOrderOut:
    """An open PO with one line per SKU (a SKU once). 422 on an unknown supplier or SKU, 409 on a taken number."""
    warehouse = _warehouse(code)
    po = services.create_purchase_order(
        warehouse, body.supplier, body.number, [services.LineSpec(ln.sku, ln.quantity) for ln in body.lines],
        expected_at=body.expected_at, over_receipt_tolerance_pct=body.over_receipt_tolerance_pct, note=body.note)
    return po_out(po)


@operation("/warehouses/<code>/purchase-orders", "GET", summary="List purchase orders", tags=TAGS,
           query=s.PurchaseOrderQuery, response=list[s.PurchaseOrderOut], roles=RECEIVING)
def list_purchase_orders(code: str, query: s.PurchaseOrderQuery) -> list[s.PurchaseOrderOut]:
    """Newest first; `status` filters (`receivable`: open or partially received)."""
    return [po_out(po) for po in services.list_purchase_orders(_warehouse(code), status=query.status,
                                                                limit=query.limit)]


@operation("/purchase-orders/<number>", "GET", summary="A purchase order", tags=TAGS,
           response=s.PurchaseOrderOut, roles=RECEIVING)
def get_purchase_order(number: str) -> s.PurchaseOrderOut:
    """Lines with ordered, received and allowed (ordered plus tolerance) units."""
    return po_out(_po(number))


@operation("/purchase-orders/<number>/close", "POST", summary="Close a purchase order (short)", tags=TAGS,
           response=s.PurchaseOrderOut, roles=PLANNERS, idempotent=True)
def close_purchase_order(number: str) -> s.PurchaseOrderOut:
    """Accept what arrived, possibly short. 409 when already closed or cancelled, or while a receipt is open."""
    return po_out(services.close_purchase_order(_po(number)))


@operation("/purchase-orders/<number>/cancel", "POST", summary="Cancel a purchase order", tags=TAGS,
           response=s.PurchaseOrderOut, roles=PLANNERS, idempotent=True)
def cancel_purchase_order(number: str) -> s.PurchaseOrderOut:
    """Only an open PO with nothing received (409 otherwise); its ASNs are cancelled too."""
    return po_out(services.cancel_purchase_order(_po(number)))


@operation("/purchase-orders/<number>/asns", "POST", summary="Record an advance shipping notice", tags=TAGS,
           body=s.AsnIn, response=s.AsnOut, status=201, roles=PLANNERS, idempotent=True)
def create_asn(number: str, body: s.AsnIn) -> s.AsnOut:
    """Lines by SKU (each on the PO, else 422 unknown item) with lot, best-before and SSCC (check digit verified).
    409 when the supplier already sent this number or the PO expects no more goods."""
    asn = services.create_asn(_po(number), body.number, [
        services.AsnLineSpec(ln.sku, ln.quantity, ln.lot_code, ln.best_before, ln.sscc) for ln in body.lines],
        expected_at=body.expected_at)
    return asn_out(asn)


@operation("/purchase-orders/<number>/asns", "GET", summary="ASNs of a purchase order", tags=TAGS,
           response=list[s.AsnOut], roles=RECEIVING)
def list_asns(number: str) -> list[s.AsnOut]:
    """Oldest first."""
    return [asn_out(a) for a in services.list_asns(_po(number))]


# --- receipts --------------------------------------------------------------------------------------------------


@operation("/purchase-orders/<number>/receipts", "POST", summary="Open a receipt", tags=TAGS, body=s.ReceiptIn,
           response=s.ReceiptOut, status=201, roles=RECEIVING, idempotent=True)
def open_receipt(number: str, body: s.ReceiptIn) -> s.ReceiptOut:
    """Start receiving a PO (open or partially received) at a receiving-dock location, optionally against an ASN."""
    return receipt_out(receiving.open_receipt(_po(number), _user(), dock_code=body.dock, asn_number=body.asn))


@operation("/warehouses/<code>/receipts", "GET", summary="List receipts", tags=TAGS, query=s.ReceiptQuery,
           response=list[s.ReceiptOut], roles=RECEIVING)
def list_receipts(code: str, query: s.ReceiptQuery) -> list[s.ReceiptOut]:
    """Newest first."""
    return [receipt_out(r) for r in receiving.list_receipts(_warehouse(code).id, status=query.status,
                                                            limit=query.limit)]


@operation("/receipts/<code>", "GET", summary="A receipt with its lines", tags=TAGS, response=s.ReceiptOut,
           roles=RECEIVING)
def get_receipt(code: str) -> s.ReceiptOut:
    """Lines with lot, best-before, hold, units put away, scrapped, remaining and planned."""
    return receipt_out(_receipt(code))


@operation("/receipts/<code>/lines", "POST", summary="Receive units", tags=TAGS, body=s.ReceiveIn,
           response=s.ReceiptLineOut, status=201, roles=RECEIVING, idempotent=True)
def receive(code: str, body: s.ReceiveIn) -> s.ReceiptLineOut:
    """Units of a product scanned by SKU or barcode: +on_hand at the dock (ledger `receipt`), or with `hold_reason`
    and `quarantine` into a quarantine location (ledger `quarantine`, line on hold). Refused, changing nothing:
    422 `unknown-item` (no such product, or not on the PO), 422 `lot-required` (lot_code / best_before missing
    for a tracked product), 409 `over-receipt` (beyond ordered + tolerance; the body gives ordered, received,
    requested, allowed, tolerance_pct)."""
    receipt = _receipt(code)
    line = receiving.receive(receipt, receiving.Receiving(
        code=body.code, quantity=body.quantity, lot_code=body.lot_code, best_before=body.best_before,
        hold_reason=body.hold_reason, quarantine=body.quarantine), _user(), idempotency_key=_key())
    return line_out(line)


@operation("/receipts/<code>/close", "POST", summary="Close a receipt", tags=TAGS, response=s.ReceiptOut,
           roles=RECEIVING, idempotent=True)
def close_receipt(code: str) -> s.ReceiptOut:
    """No more lines; its ASN becomes received. The lines stay to be put away. 409 when already closed."""
    return receipt_out(receiving.close_receipt(_receipt(code)))


@operation("/receipts/<code>/labels", "POST", summary="Print receipt labels", tags=TAGS, body=s.ReceiptLabelsIn,
           response=list[s.ReceiptLabelJobOut], status=201, roles=RECEIVING, idempotent=True)
def print_receipt_labels(code: str, body: s.ReceiptLabelsIn) -> list[s.ReceiptLabelJobOut]:
    """One label per line (or per line named in `line_ids`) at the receiving dock's printer (route for
    `receipt_label`). 409 `no-printer` when none is set up."""
    receipt = _receipt(code)
    jobs: list[PrintJob] = labels.print_labels(receipt, _user(), key=_key() or "api", line_ids=body.line_ids)
    return [s.ReceiptLabelJobOut(id=j.id, printer=j.printer.code, reference=j.reference, state=j.state.value)
            for j in jobs]


@operation("/receipt-lines/<int:line_id>/release", "POST", summary="Release a quality hold", tags=TAGS,
           response=s.ReceiptLineOut, roles=PLANNERS, idempotent=True)
def release_hold(line_id: int) -> s.ReceiptLineOut:
    """Held units move from quarantine to the receipt's dock (two `quarantine` ledger rows), ready for put-away."""
    return line_out(receiving.release_hold(_line(line_id), _user(), idempotency_key=_key()))


@operation("/receipt-lines/<int:line_id>/scrap", "POST", summary="Scrap received units", tags=TAGS,
           body=s.ReceiptScrapIn, response=s.ReceiptLineOut, roles=PLANNERS, idempotent=True)
def scrap(line_id: int, body: s.ReceiptScrapIn) -> s.ReceiptLineOut:
    """Destroy units where they wait (ledger `scrap`) with a reason; at most the units not put away nor planned."""
    return line_out(receiving.scrap(_line(line_id), body.quantity, body.reason, _user(), idempotency_key=_key()))


# --- put-away --------------------------------------------------------------------------------------------------


@operation("/receipt-lines/<int:line_id>/putaway-suggestions", "GET", summary="Where to put received units",
           tags=TAGS, response=s.PutawaySuggestionsOut, roles=RECEIVING)
def putaway_suggestions(line_id: int) -> s.PutawaySuggestionsOut:
    """Rack lanes of the zone(s) holding the product (else any rack zone) with a replenish face: lanes already
    holding it first, then empty lanes, each up to its free capacity (capacity − on hand − open tasks)."""
    line = _line(line_id)
    suggestions, unplaced = putaway.suggest(line)
    return s.PutawaySuggestionsOut(
        receipt_line=line.id, units=line.remaining - receiving.planned_units(line), unplaced=unplaced,
        suggestions=[s.PutawaySuggestionOut(lane=x.lane, zone=x.zone, quantity=x.quantity, holds_product=x.holds_product,
                                     free=x.free) for x in suggestions])


@operation("/receipt-lines/<int:line_id>/putaway-tasks", "POST", summary="Plan the put-away of a receipt line",
           tags=TAGS, response=s.PutawayPlanOut, status=201, roles=RECEIVING, idempotent=True)
def plan_putaway(line_id: int) -> s.PutawayPlanOut:
    """Open put-away tasks (replenish face, source = where the goods wait) on the suggested lanes. 409 when the
    line is held, fully planned, or no lane has room."""
    tasks, unplaced = putaway.create_putaway_tasks(_line(line_id))
    return s.PutawayPlanOut(tasks=[task_out(t) for t in tasks], unplaced=unplaced)


@operation("/warehouses/<code>/putaway-tasks", "GET", summary="Put-away tasks", tags=TAGS, query=s.PutawayQuery,
           response=list[s.PutawayTaskOut], roles=RECEIVING)
def list_putaway_tasks(code: str, query: s.PutawayQuery) -> list[s.PutawayTaskOut]:
    """`status` open (default), done or all; `receipt` filters by receipt code."""
    warehouse = _warehouse(code)
    receipt_id = None
    if query.receipt:
        receipt_id = _receipt(query.receipt).id
    return [task_out(t) for t in putaway.list_tasks(warehouse.id, status=query.status, receipt_id=receipt_id,
                                                    limit=query.limit)]


@operation("/putaway-tasks/<int:task_id>/complete", "POST", summary="Complete a put-away task", tags=TAGS,
           body=s.PutawayCompleteIn, response=s.PutawayTaskOut, roles=("receiver",), idempotent=True)
def complete_putaway(task_id: int, body: s.PutawayCompleteIn) -> s.PutawayTaskOut:
    """The receiver scanned the lane from its replenish face (`R:<code>`; the pick-face label is refused, 409
    `lane-on-wrong-face`), the item (SKU or barcode) and reports the units: dock → lane (two `putaway` ledger
    rows), counted on the receipt line. 409 `lane-full` over capacity; nothing is moved on any refusal."""
    task = db.session.get(Task, task_id)
    if task is None or task.kind.value != "putaway" or not _principal().can_see_warehouse(task.warehouse_id):
        raise NotFound(f"No put-away task {task_id}.")
    user = _user()
    if user is None:
        raise Forbidden("Only people put goods away.")
    done = putaway.complete_putaway(task, user, lane_scan=body.lane, item_scan=body.item, quantity=body.quantity,
                                    note=body.note, idempotency_key=_key())
    return task_out(done)

