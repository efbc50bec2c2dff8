"""Returns: authorise what was shipped, receive it at the returns zone, inspect each unit (restock, quarantine,
scrap), report the refund. Plain functions over the session: they add and flush, the request commits once."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from wms.catalog.models import Product
from wms.db import db, utcnow
from wms.enums import StockReason, ZoneKind
from wms.errors import Conflict, NotFound, ValidationFailed, explain_constraint
from wms.layout.models import Location, Warehouse, Zone
from wms.orders.models import Channel, Order, OrderLine, OrderStatus
from wms.outbound.models import Parcel, ParcelLine, Shipment, ShipmentStatus
from wms.returns.models import Disposition, RefundStatus, Rma, RmaLine, RmaStatus
from wms.stock import operations as ops
from wms.stock.availability import lock_stock
from wms.stock.models import LedgerEntry, Quant
from wms.webhooks import outbox

REASONS = ("damaged", "defective", "wrong_item", "not_wanted", "other")
# The seller's fault: the customer is refunded even for a unit that must be scrapped.
SELLER_FAULT_REASONS = frozenset({"damaged", "defective", "wrong_item"})
SHIPPED_STATUSES = (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED)
# in transit: the customer's return parcel is with the carrier; the returns zone receives it as it does any other
OPEN_STATUSES = (RmaStatus.AUTHORIZED, RmaStatus.IN_TRANSIT, RmaStatus.RECEIVED, RmaStatus.INSPECTED)

explain_constraint("ck_rma_lines_received_within_quantity", Conflict,
                   "More units would be received on a return line than were authorised; nothing was changed.")
explain_constraint("ck_rma_lines_disposed_within_received", Conflict,
                   "More units would be disposed of on a return line than were received; nothing was changed.")
explain_constraint("uq_rmas_channel_id_external_id", Conflict,
                   "The channel already has a return with this id; nothing was changed.")


class ReturnRefused(Conflict):
    """The return breaks a rule about what was shipped, received or inspected."""

    slug = "return-refused"
    title = "This return is not possible"


@dataclass(frozen=True)
class LineRequest:
    """One line of a return: the order line by its number or its SKU, how many units, why."""

    quantity: int
    reason: str = "other"
    line_no: int | None = None
    sku: str | None = None


@dataclass(frozen=True)
class Disposal:
    """What inspection decided for some received units of one return line."""

    line: LineRequest
    disposition: Disposition
    location: str | None = None
    note: str | None = None


# --- rules without the database ---------------------------------------------------------------------------------

def refundable_units(reason: str, restocked: int, quarantined: int, scrapped: int) -> int:
    """Units refunded: every unit restocked or quarantined, and scrapped units only when the seller was at fault."""
    return restocked + quarantined + (scrapped if reason in SELLER_FAULT_REASONS else 0)


def refund_status(lines: Iterable[tuple[str, int, int, int, int]]) -> RefundStatus:
    """(reason, authorised, restocked, quarantined, scrapped) per line → approved, partial or refused."""
    authorised = refunded = 0
    for reason, quantity, restocked, quarantined, scrapped in lines:
        authorised += quantity
        refunded += refundable_units(reason, restocked, quarantined, scrapped)
    if refunded == 0:
        return RefundStatus.REFUSED
    return RefundStatus.APPROVED if refunded >= authorised else RefundStatus.PARTIAL


# --- reads ------------------------------------------------------------------------------------------------------

def shipped_units(order: Order) -> dict[int, int]:
    """Units of each order line that left in parcels of shipped (or delivered) shipments."""
    rows = db.session.execute(
        select(ParcelLine.order_line_id, func.sum(ParcelLine.quantity))
        .join(Parcel, Parcel.id == ParcelLine.parcel_id).join(Shipment, Shipment.id == Parcel.shipment_id)
        .where(Shipment.order_id == order.id, Shipment.status.in_(SHIPPED_STATUSES))
        .group_by(ParcelLine.order_line_id)).all()
    return {line_id: int(units) for line_id, units in rows}


def authorised_units(order: Order, *, exclude_rma_id: int | None = None) -> dict[int, int]:
    """Units of each order line already on returns that are not cancelled."""
    stmt = (select(RmaLine.order_line_id, func.sum(RmaLine.quantity)).join(Rma, Rma.id == RmaLine.rma_id)
            .where(Rma.order_id == order.id, Rma.status != RmaStatus.CANCELLED).group_by(RmaLine.order_line_id))
    if exclude_rma_id is not None:
        stmt = stmt.where(Rma.id != exclude_rma_id)
    return {line_id: int(units) for line_id, units in db.session.execute(stmt).all()}


def returnable_units(order: Order) -> dict[int, int]:
    """Units of each order line that may still be returned: shipped minus already authorised."""
    taken = authorised_units(order)
    return {line_id: units - taken.get(line_id, 0) for line_id, units in shipped_units(order).items()}


def get_rma(warehouse: Warehouse, code: str, *, lock: bool = False) -> Rma:
    """The warehouse's return with this code, or NotFound."""
    stmt = select(Rma).where(Rma.warehouse_id == warehouse.id, Rma.code == code)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    rma = db.session.scalar(stmt)
    if rma is None:
        raise NotFound(f"No return {code!r} in warehouse {warehouse.code}.")
    return rma


def get_channel_rma(channel: Channel, external_id: str, *, lock: bool = False) -> Rma:
    """The channel's return with its own id, or NotFound."""
    stmt = select(Rma).where(Rma.channel_id == channel.id, Rma.external_id == external_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    rma = db.session.scalar(stmt)
    if rma is None:
        raise NotFound(f"Channel {channel.code} has no return {external_id!r}.")
    return rma


def list_rmas(warehouse: Warehouse, *, status: str | None = None, channel: Channel | None = None,
              limit: int = 100) -> list[Rma]:
    """Returns of a warehouse (or of one channel), newest first."""
    stmt = select(Rma).where(Rma.warehouse_id == warehouse.id)
    if status:
        stmt = stmt.where(Rma.status == RmaStatus(status))
    if channel is not None:
        stmt = stmt.where(Rma.channel_id == channel.id)
    return list(db.session.scalars(stmt.order_by(Rma.id.desc()).limit(limit)))


def rma_payload(rma: Rma) -> dict[str, Any]:
    """The return as channels see it in the `return.updated` webhook (and the API)."""
    order = rma.order or db.session.get(Order, rma.order_id)
    return {
        "code": rma.code, "external_id": rma.external_id, "order_id": order.external_id,
        "status": rma.status.value, "refund_status": rma.refund_status.value, "reason": rma.reason,
        "lines": [{"line_no": ln.order_line.line_no, "sku": ln.product.sku, "quantity": ln.quantity,
                   "reason": ln.reason, "received": ln.received, "restocked": ln.restocked,
                   "quarantined": ln.quarantined, "scrapped": ln.scrapped,
                   "refundable": refundable_units(ln.reason, ln.restocked, ln.quarantined, ln.scrapped)}
                  for ln in rma.lines],
        "return_label": _label_payload(rma),
    }


def _label_payload(rma: Rma) -> dict[str, Any] | None:
    """The return label the customer sends the parcel with (the latest not cancelled), if it has one."""
    from wms.outbound.carriers_registry import tracking_url
    from wms.returns.labels import live_label

    label = live_label(rma)
    if label is None:
        return None
    return {"id": label.id, "carrier": label.carrier_code, "tracking_number": label.tracking_number, "status": label.status.value,
            "tracking_url": tracking_url(label.carrier_code, label.tracking_number)}


def _announce(rma: Rma) -> None:
    db.session.flush()
    channel = db.session.get(Channel, rma.channel_id)
    outbox.emit(channel, "return.updated", f"rma:{rma.id}", rma_payload(rma))


# --- authorise --------------------------------------------------------------------------------------------------

def _order_line_for(order: Order, req: LineRequest, index: int) -> OrderLine:
    field = f"lines.{index}"
    if req.line_no is None and not req.sku:
        raise ValidationFailed("Name each returned line by `line_no` or `sku`.",
                               errors=[{"field": field, "message": "line_no or sku required"}])
    candidates = [ln for ln in order.lines
                  if (req.line_no is None or ln.line_no == req.line_no) and (not req.sku or ln.product.sku == req.sku)]
    if not candidates:
        what = " ".join(filter(None, (f"line {req.line_no}" if req.line_no is not None else None,
                                      f"SKU {req.sku}" if req.sku else None)))
        raise ReturnRefused(f"Order {order.external_id} has no {what}: it was never sold on this order.",
                            errors=[{"field": field, "message": "not in the order"}])
    if len(candidates) > 1:
        raise ValidationFailed(f"SKU {req.sku} is on several lines of order {order.external_id}; give `line_no`.",
                               errors=[{"field": f"{field}.line_no", "message": "ambiguous SKU"}])
    return candidates[0]


def _lock_order(order: Order) -> Order:
    return db.session.scalars(select(Order).where(Order.id == order.id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def _planned_lines(order: Order, lines: list[LineRequest]) -> list[tuple[OrderLine, int, str]]:
    """Check every requested line against what was shipped and not yet authorised; all errors at once."""
    if not lines:
        raise ValidationFailed("A return needs at least one line.", errors=[{"field": "lines", "message": "empty"}])
    shipped = shipped_units(order)
    if not shipped:
        raise ReturnRefused(f"Order {order.external_id} has not been shipped: nothing of it can be returned.",
                            order_status=order.status.value)
    returnable = returnable_units(order)
    wanted: dict[int, int] = {}
    planned: list[tuple[OrderLine, int, str]] = []
    for i, req in enumerate(lines):
        if req.reason not in REASONS:
            raise ValidationFailed(f"Unknown return reason {req.reason!r}; use one of {', '.join(REASONS)}.",
                                   errors=[{"field": f"lines.{i}.reason", "message": "unknown reason"}])
        if req.quantity <= 0:
            raise ValidationFailed("Return a whole number of units, at least 1.",
                                   errors=[{"field": f"lines.{i}.quantity", "message": "must be positive"}])
        line = _order_line_for(order, req, i)
        if line.id in wanted:
            raise ValidationFailed(f"Line {line.line_no} appears twice in the return; give it once.",
                                   errors=[{"field": f"lines.{i}", "message": "duplicate line"}])
        wanted[line.id] = req.quantity
        planned.append((line, req.quantity, req.reason))
    too_many = []
    for i, (line, quantity, _reason) in enumerate(planned):
        left = returnable.get(line.id, 0)
        if quantity > left:
            too_many.append({"field": f"lines.{i}.quantity",
                             "message": f"{line.product.sku}: {shipped.get(line.id, 0)} shipped, "
                                        f"{shipped.get(line.id, 0) - left} already on returns, {quantity} asked"})
    if too_many:
        raise ReturnRefused(f"Order {order.external_id}: more units asked back than were shipped and not yet "
                            "returned; nothing was authorised.", errors=too_many)
    return planned


def _same_content(rma: Rma, planned: list[tuple[OrderLine, int, str]], reason: str | None) -> bool:
    have = sorted((ln.order_line_id, ln.quantity, ln.reason) for ln in rma.lines)
    return have == sorted((line.id, qty, why) for line, qty, why in planned) and (rma.reason or None) == (reason or None)


def authorize_return(order: Order, lines: list[LineRequest], *, external_id: str | None = None,
                     reason: str | None = None, created_by_id: int | None = None) -> tuple[Rma, bool]:
    """Authorise units of a shipped order to come back; (rma, created). The same channel return id with the same
    content returns the existing return; with other content it is refused."""
    order = _lock_order(order)
    if external_id is not None:
        existing = db.session.scalar(select(Rma).where(Rma.channel_id == order.channel_id,
                                                       Rma.external_id == external_id))
        if existing is not None:
            if existing.order_id == order.id and _replays(existing, order, lines, reason):
                return existing, False
            raise Conflict(f"Return {external_id!r} already exists with different content (code {existing.code}).",
                           code=existing.code)
    planned = _planned_lines(order, lines)
    rma = Rma(code=uuid.uuid4().hex[:32], warehouse_id=order.warehouse_id, order_id=order.id,
              channel_id=order.channel_id, external_id=external_id, status=RmaStatus.AUTHORIZED,
              refund_status=RefundStatus.PENDING, reason=reason, created_by_id=created_by_id)
    rma.lines = [RmaLine(order_line_id=line.id, product_id=line.product_id, quantity=qty, reason=why)
                 for line, qty, why in planned]
    db.session.add(rma)
    db.session.flush()
    rma.code = f"RMA{rma.id:06d}"
    _announce(rma)
    return rma, True


def _replays(rma: Rma, order: Order, lines: list[LineRequest], reason: str | None) -> bool:
    """The same return sent again: same order lines, units and reasons."""
    try:
        planned = [(_order_line_for(order, req, i), req.quantity, req.reason) for i, req in enumerate(lines)]
    except (ValidationFailed, ReturnRefused):
        return False
    return _same_content(rma, planned, reason)


def cancel_return(rma: Rma) -> Rma:
    """Cancel a return before anything of it was received; its units may be authorised again."""
    if rma.status == RmaStatus.CANCELLED:
        return rma
    if rma.status == RmaStatus.IN_TRANSIT:
        raise ReturnRefused(f"Return {rma.code} is in transit: the carrier has the customer's parcel, it cannot be "
                            "cancelled.", rma_status=rma.status.value)
    if rma.status != RmaStatus.AUTHORIZED or any(ln.received for ln in rma.lines):
        raise ReturnRefused(f"Return {rma.code} is {rma.status.value}: units already arrived, it cannot be "
                            "cancelled.", rma_status=rma.status.value)
    rma.status = RmaStatus.CANCELLED
    rma.refund_status = RefundStatus.NOT_APPLICABLE
    rma.closed_at = utcnow()
    _announce(rma)
    return rma


def close_return(rma: Rma) -> Rma:
    """Close an inspected return: its refund status is final and nothing more can be received on it."""
    if rma.status == RmaStatus.CLOSED:
        return rma
    if rma.status != RmaStatus.INSPECTED:
        raise ReturnRefused(f"Return {rma.code} is {rma.status.value}; only an inspected return can be closed.",
                            rma_status=rma.status.value)
    rma.status = RmaStatus.CLOSED
    rma.closed_at = utcnow()
    _announce(rma)
    return rma


# --- receive ----------------------------------------------------------------------------------------------------

def _zone_location(warehouse: Warehouse, kind: ZoneKind, code: str | None, field: str) -> Location:
    if code:
        location = ops.location_in(warehouse, code)
        zone = db.session.get(Zone, location.zone_id)
        if zone.kind != kind:
            raise ReturnRefused(f"{location.code} is not in a {kind.value} zone.",
                                errors=[{"field": field, "message": f"not a {kind.value} location"}])
        return location
    locations = list(db.session.scalars(
        select(Location).join(Zone, Zone.id == Location.zone_id)
        .where(Location.warehouse_id == warehouse.id, Zone.kind == kind, Location.active.is_(True))
        .order_by(Location.code).limit(1)))
    if not locations:
        raise ReturnRefused(f"Warehouse {warehouse.code} has no {kind.value} location.",
                            errors=[{"field": field, "message": f"no {kind.value} location"}])
    return locations[0]


def returns_location(warehouse: Warehouse, code: str | None = None) -> Location:
    """The returns-zone location named, or the warehouse's first one by code."""
    return _zone_location(warehouse, ZoneKind.RETURNS, code, "location")


def _received_into(rma: Rma) -> Location | None:
    """The returns-zone location this return's units were last received into."""
    location_id = db.session.scalar(
        select(LedgerEntry.location_id).where(LedgerEntry.reference == f"rma:{rma.code}",
                                              LedgerEntry.reason == StockReason.RETURN)
        .order_by(LedgerEntry.id.desc()).limit(1))
    return db.session.get(Location, location_id) if location_id else None


def _rma_line(rma: Rma, req: LineRequest, field: str) -> RmaLine:
    matches = [ln for ln in rma.lines
               if (req.line_no is None or ln.order_line.line_no == req.line_no)
               and (not req.sku or ln.product.sku == req.sku)]
    if req.line_no is None and not req.sku:
        raise ValidationFailed("Name each line by `line_no` or `sku`.",
                               errors=[{"field": field, "message": "line_no or sku required"}])
    if not matches:
        what = f"line {req.line_no}" if req.line_no is not None else f"SKU {req.sku}"
        raise ReturnRefused(f"Return {rma.code} has no {what}.", errors=[{"field": field, "message": "not on the return"}])
    if len(matches) > 1:
        raise ValidationFailed(f"SKU {req.sku} is on several lines of return {rma.code}; give `line_no`.",
                               errors=[{"field": f"{field}.line_no", "message": "ambiguous SKU"}])
    return matches[0]


def _product_for_scan(scan: str) -> Product | None:
    from wms.catalog.services import find_by_scan
    from wms.errors import DomainError

    product = db.session.scalar(select(Product).where(Product.sku == scan))
    if product is not None:
        return product
    try:
        return find_by_scan(scan)[0]
    except DomainError:
        return None


def resolve_scan(scan: str) -> str | None:
    """The SKU of a product named by its SKU or any of its barcodes (None: unknown)."""
    product = _product_for_scan(scan.strip())
    return product.sku if product else None


def _check_open(rma: Rma, doing: str) -> None:
    if rma.status not in OPEN_STATUSES:
        raise ReturnRefused(f"Return {rma.code} is {rma.status.value}: nothing can be {doing}.",
                            rma_status=rma.status.value)


def receive_return(rma: Rma, lines: list[LineRequest], actor: ops.Actor, *, location_code: str | None = None) -> Rma:
    """Units arrived at the returns zone: +on hand there (ledger `return`) and on each line; all lines or none."""
    _check_open(rma, "received")
    warehouse = db.session.get(Warehouse, rma.warehouse_id)
    location = returns_location(warehouse, location_code)
    if not lines:
        raise ValidationFailed("Receive at least one line.", errors=[{"field": "lines", "message": "empty"}])
    batch: dict[int, int] = {}
    targets: dict[int, RmaLine] = {}
    for i, req in enumerate(lines):
        if req.quantity <= 0:
            raise ValidationFailed("Receive a whole number of units, at least 1.",
                                   errors=[{"field": f"lines.{i}.quantity", "message": "must be positive"}])
        line = _rma_line(rma, req, f"lines.{i}")
        batch[line.id] = batch.get(line.id, 0) + req.quantity
        targets[line.id] = line
    over = [{"field": targets[lid].product.sku,
             "message": f"{targets[lid].quantity} authorised, {targets[lid].received} received, {units} more"}
            for lid, units in batch.items() if targets[lid].received + units > targets[lid].quantity]
    if over:
        raise ReturnRefused(f"Return {rma.code}: more units than were authorised; nothing was received.", errors=over)
    # every product's stock lock at once, in product order (docs/stock.md "Lock order"), not line by line
    lock_stock([ln.product_id for ln in targets.values()], [warehouse.id], location_ids=[location.id])
    for lid, units in batch.items():
        line = targets[lid]
        ops.change(line.product, location, units, StockReason.RETURN, actor, reference=f"rma:{rma.code}")
        line.received += units
    rma.status = RmaStatus.RECEIVED
    rma.refund_status = RefundStatus.PENDING
    rma.received_at = rma.received_at or utcnow()
    _mark_order_returned_if_complete(rma)
    _announce(rma)
    return rma


def _mark_order_returned_if_complete(rma: Rma) -> None:
    order = _lock_order(db.session.get(Order, rma.order_id))
    if order.status == OrderStatus.RETURNED:
        return
    shipped = shipped_units(order)
    db.session.flush()
    received = dict(db.session.execute(
        select(RmaLine.order_line_id, func.sum(RmaLine.received)).join(Rma, Rma.id == RmaLine.rma_id)
        .where(Rma.order_id == order.id, Rma.status != RmaStatus.CANCELLED).group_by(RmaLine.order_line_id)).all())
    if shipped and all(int(received.get(lid, 0) or 0) >= units for lid, units in shipped.items()):
        order.status = OrderStatus.RETURNED
        db.session.flush()
        outbox.order_status_changed(order)


# --- inspect ----------------------------------------------------------------------------------------------------

def _lane_rows(warehouse_id: int, product_id: int) -> list[tuple[Location, int, bool]]:
    """Active rack lanes with (lane, units held of any product, holds this product), locked for the move."""
    lanes = list(db.session.scalars(
        select(Location).join(Zone, Zone.id == Location.zone_id)
        .where(Location.warehouse_id == warehouse_id, Zone.kind == ZoneKind.RACK, Location.active.is_(True))
        .order_by(Location.code)))
    held: dict[int, int] = {}
    mine: set[int] = set()
    others: set[int] = set()
    for location_id, pid, on_hand in db.session.execute(
            select(Quant.location_id, Quant.product_id, Quant.on_hand)
            .where(Quant.location_id.in_([ln.id for ln in lanes]), Quant.on_hand > 0)):
        held[location_id] = held.get(location_id, 0) + on_hand
        (mine if pid == product_id else others).add(location_id)
    return [(lane, held.get(lane.id, 0), lane.id in mine) for lane in lanes
            if lane.id in mine or lane.id not in others]


def _picked_from(order_line_id: int) -> set[int]:
    from wms.waves.models import PickOrderLine

    return set(db.session.scalars(select(PickOrderLine.location_id).where(PickOrderLine.order_line_id == order_line_id)))


def restock_plan(line: RmaLine, units: int) -> list[tuple[Location, int]]:
    """Pick lanes for restocked units: the lane it was picked from, lanes holding the product, then empty lanes;
    never beyond a lane's capacity nor into a lane of another product."""
    picked = _picked_from(line.order_line_id)
    rows = _lane_rows(db.session.get(Rma, line.rma_id).warehouse_id, line.product_id)
    rows.sort(key=lambda r: (r[0].id not in picked, not r[2], r[0].code))
    plan, left = [], units
    for lane, held, _mine in rows:
        room = left if lane.capacity_units is None else min(left, max(0, lane.capacity_units - held))
        if room > 0:
            plan.append((lane, room))
            left -= room
        if left == 0:
            return plan
    raise ReturnRefused(f"No pick lane has room for {units} units of {line.product.sku}; name a lane or quarantine "
                        "them.", errors=[{"field": "lane", "message": f"{left} units without room"}])


def _restock_to(line: RmaLine, units: int, lane_code: str | None, field: str) -> list[tuple[Location, int]]:
    if not lane_code:
        return restock_plan(line, units)
    warehouse = db.session.get(Warehouse, db.session.get(Rma, line.rma_id).warehouse_id)
    lane = _zone_location(warehouse, ZoneKind.RACK, lane_code, field)
    rows = {loc.id: (held, mine) for loc, held, mine in _lane_rows(warehouse.id, line.product_id)}
    if lane.id not in rows:
        raise ReturnRefused(f"Lane {lane.code} holds another product.",
                            errors=[{"field": field, "message": "holds another product"}])
    held = rows[lane.id][0]
    if lane.capacity_units is not None and held + units > lane.capacity_units:
        raise ReturnRefused(f"Lane {lane.code} holds {held} of {lane.capacity_units} units; {units} more do not fit.",
                            errors=[{"field": field, "message": "no room"}])
    return [(lane, units)]


def inspect_return(rma: Rma, disposals: list[Disposal], actor: ops.Actor, *,
                   location_code: str | None = None) -> Rma:
    """Dispose of received units: restock to pick lanes, quarantine or scrap; all disposals or none."""
    _check_open(rma, "inspected")
    warehouse = db.session.get(Warehouse, rma.warehouse_id)
    source = returns_location(warehouse, location_code) if location_code else (
        _received_into(rma) or returns_location(warehouse))
    if not disposals:
        raise ValidationFailed("Give at least one disposition.", errors=[{"field": "lines", "message": "empty"}])
    asked: dict[int, int] = {}
    resolved: list[tuple[RmaLine, Disposal]] = []
    for i, d in enumerate(disposals):
        if d.line.quantity <= 0:
            raise ValidationFailed("Dispose of a whole number of units, at least 1.",
                                   errors=[{"field": f"lines.{i}.quantity", "message": "must be positive"}])
        line = _rma_line(rma, d.line, f"lines.{i}")
        asked[line.id] = asked.get(line.id, 0) + d.line.quantity
        resolved.append((line, d))
    over = [{"field": line.product.sku, "message": f"{line.received} received, {line.uninspected} not yet inspected, "
                                                   f"{asked[line.id]} disposed"}
            for line in {ln.id: ln for ln, _d in resolved}.values() if asked[line.id] > line.uninspected]
    if over:
        raise ReturnRefused(f"Return {rma.code}: more units disposed of than were received and not yet inspected; "
                            "nothing was changed.", errors=over)
    reference = f"rma:{rma.code}"
    # every product's stock lock at once, in product order (docs/stock.md "Lock order"), not line by line
    lock_stock([ln.product_id for ln, _d in resolved], [warehouse.id], location_ids=[source.id])
    for i, (line, d) in enumerate(resolved):
        units = d.line.quantity
        if d.disposition == Disposition.RESTOCK:
            for lane, n in _restock_to(line, units, d.location, f"lines.{i}.location"):
                ops.change(line.product, source, -n, StockReason.TRANSFER, actor, reference=reference, note=d.note)
                ops.change(line.product, lane, n, StockReason.TRANSFER, actor, reference=reference, note=d.note)
            line.restocked += units
        elif d.disposition == Disposition.QUARANTINE:
            hold = _zone_location(warehouse, ZoneKind.QUARANTINE, d.location, f"lines.{i}.location")
            ops.change(line.product, source, -units, StockReason.QUARANTINE, actor, reference=reference, note=d.note)
            ops.change(line.product, hold, units, StockReason.QUARANTINE, actor, reference=reference, note=d.note)
            line.quarantined += units
        else:
            ops.change(line.product, source, -units, StockReason.SCRAP, actor, reference=reference, note=d.note)
            line.scrapped += units
        if d.note:
            entry = f"{d.disposition.value} {units}: {d.note.strip()}"
            line.inspection_note = f"{line.inspection_note}\n{entry}" if line.inspection_note else entry
    if all(ln.uninspected == 0 for ln in rma.lines):
        rma.status = RmaStatus.INSPECTED
        rma.refund_status = refund_status((ln.reason, ln.quantity, ln.restocked, ln.quarantined, ln.scrapped)
                                          for ln in rma.lines)
    _announce(rma)
    return rma
