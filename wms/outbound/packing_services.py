"""Packing at a pack station: tote → order → every unit verified by scan → box → weight → carrier label.

Plain functions over ``db.session`` (add/flush, never commit). Refusals raise a domain error before any write,
so a refused call changes nothing (the request rolls back). Accepted steps write a ScanEvent (flow ``pack``)
with the person and device when a ScanContext is given.

The state lives in the database: a Shipment in status ``packing`` with its parcels; the *open* parcel is the
last one not weighed yet. Scans fill the open parcel (a new one is opened after a weighed one); a box is chosen
for it, then it is weighed, which closes it. Finishing asks the carrier for tracking numbers and labels,
queues the label at the pack station's printer, and marks the shipment labelled and the order packed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select, update

from wms.catalog.barcodes import InvalidBarcode, parse
from wms.catalog.models import Barcode, Product
from wms.db import db, utcnow
from wms.enums import ResourceKind
from wms.errors import Conflict, NotFound, ValidationFailed, explain_constraint
from wms.layout.models import Resource, Warehouse
from wms.orders.models import Order, OrderLine, OrderStatus
from wms.outbound import carrier_choice
from wms.outbound import carriers_registry as registry
from wms.outbound import packing_carrier as carrier_data
from wms.outbound.models import Box, Parcel, ParcelLine, Shipment, ShipmentStatus
from wms.picking.context import ScanContext, record
from wms.picking.models import ScanOutcome
from wms.picking.text import _
from wms.printing import jobs
from wms.printing.models import DocumentKind, JobState, PrintJob
from wms.shipping import packing as rules
from wms.shipping.carrier_features import needs_customs
from wms.shipping.carriers import ZPL, Party, ShipmentLabel
from wms.shipping.carriers import Parcel as CarrierParcel
from wms.shipping.carriers import Shipment as CarrierShipment
from wms.shipping.cn23 import Cn23Document
from wms.shipping.errors import CarrierUnavailable, ShipmentRefused, ShippingInputInvalid
from wms.waves.models import PickOrder, PickOrderLine, Tote
from wms.webhooks import outbox

FLOW = "pack"
log = logging.getLogger(__name__)
DEFAULT_TOLERANCE_G = 50
DEFAULT_TOLERANCE_PCT = 5.0


class ToteUnknown(NotFound):
    slug = "tote-unknown"
    title = "No order in this tote"


class ToteAmbiguous(Conflict):
    slug = "tote-ambiguous"
    title = "This tote code names more than one order"


class PackRefused(Conflict):
    slug = "pack-refused"
    title = "Packing refused"


class MisScan(Conflict):
    slug = "pack-mis-scan"
    title = "This item is not in the order"


class OverScan(Conflict):
    slug = "pack-over-scan"
    title = "More units than the order has"


class BoxRefused(Conflict):
    slug = "pack-box-refused"
    title = "The parcel does not go in this box"


class WeightRefused(ValidationFailed):
    slug = "pack-weight-refused"
    title = "The parcel weight is not what was expected"


explain_constraint("uq_shipments_live_order", PackRefused,
                   "This order is already being packed (another packer started it at the same moment).")
explain_constraint("uq_parcels_sscc", Conflict, "This SSCC was already issued to another parcel.")
explain_constraint("uq_parcels_carrier_code_tracking_number_seq", Conflict,
                   "This tracking number was already given to another parcel of the carrier.")
explain_constraint("uq_shipments_carrier_code_tracking_number", Conflict,
                   "This tracking number was already given to another shipment of the carrier.")


# --- reading the state -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackLine:
    order_line: OrderLine
    product: Product
    barcodes: tuple[str, ...]
    to_pack: int
    packed: int

    @property
    def remaining(self) -> int:
        return self.to_pack - self.packed


@dataclass(frozen=True)
class PackState:
    shipment: Shipment
    order: Order
    lines: tuple[PackLine, ...]
    open_parcel: Parcel | None
    suggestion: rules.BoxSuggestion | None
    expected_weight_g: int | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return all(line.remaining == 0 for line in self.lines)


def _config(name: str, default: Any) -> Any:
    return current_app.config.get(name, default) if has_app_context() else default


def tolerances() -> tuple[int, float]:
    """The allowed weight gap: PACK_WEIGHT_TOLERANCE_G grams plus PACK_WEIGHT_TOLERANCE_PCT % of expected."""
    return (int(_config("PACK_WEIGHT_TOLERANCE_G", DEFAULT_TOLERANCE_G)),
            float(_config("PACK_WEIGHT_TOLERANCE_PCT", DEFAULT_TOLERANCE_PCT)))


def _barcodes(product_ids: set[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if product_ids:
        for product_id, code in db.session.execute(select(Barcode.product_id, Barcode.normalized)
                                                   .where(Barcode.product_id.in_(product_ids))):
            out.setdefault(product_id, []).append(code)
    return out


def _packed_by_line(shipment: Shipment) -> dict[int, int]:
    packed: dict[int, int] = {}
    for parcel in shipment.parcels:
        for pl in parcel.lines:
            packed[pl.order_line_id] = packed.get(pl.order_line_id, 0) + pl.quantity
    return packed


def open_parcel(shipment: Shipment) -> Parcel | None:
    """The parcel being filled: the last one, while it is not weighed."""
    if shipment.parcels and shipment.parcels[-1].weight_g is None:
        return shipment.parcels[-1]
    return None


def _items(parcel: Parcel) -> tuple[list[rules.Item], list[str]]:
    """The parcel's contents as packing items; products without dimensions or weight are named in notes."""
    items, notes = [], []
    for pl in parcel.lines:
        p = pl.product
        dims = (p.length_mm, p.width_mm, p.height_mm)
        if not all(dims) or p.weight_g is None:
            notes.append(f"{p.sku} has no dimensions or weight in the catalog: check the box by eye.")
            continue
        items.append(rules.Item(p.sku, p.length_mm, p.width_mm, p.height_mm, p.weight_g, pl.quantity))
    return items, notes


def box_rule(box: Box) -> rules.Box:
    return rules.Box(box.code, box.inner_length_mm, box.inner_width_mm, box.inner_height_mm, box.max_weight_g,
                     box.tare_weight_g)


def active_boxes() -> list[Box]:
    return list(db.session.scalars(select(Box).where(Box.active.is_(True)).order_by(Box.code)))


def expected_weight(parcel: Parcel) -> int | None:
    """Items (catalog weights) plus the box's own weight; None when a product's weight is unknown."""
    if any(pl.product.weight_g is None for pl in parcel.lines) or not parcel.lines:
        return None
    items = sum(pl.product.weight_g * pl.quantity for pl in parcel.lines)
    return items + (parcel.box.tare_weight_g if parcel.box is not None else 0)


def pack_state(shipment: Shipment) -> PackState:
    """Order lines with what is to pack and packed so far, the open parcel, the suggested box, expected weight."""
    order = shipment.order
    packed = _packed_by_line(shipment)
    codes = _barcodes({ln.product_id for ln in order.lines})
    lines = tuple(PackLine(ln, ln.product, tuple(codes.get(ln.product_id, [])), ln.picked, packed.get(ln.id, 0))
                  for ln in sorted(order.lines, key=lambda ln: ln.line_no) if ln.picked > 0)
    parcel = open_parcel(shipment)
    suggestion, notes = None, []
    if parcel is not None and parcel.lines:
        items, notes = _items(parcel)
        boxes = [box_rule(b) for b in active_boxes()]
        if items and boxes:
            suggestion = rules.suggest_box(items, boxes)
    return PackState(shipment, order, lines, parcel, suggestion,
                     expected_weight(parcel) if parcel is not None else None, tuple(notes))


# --- finding and locking ------------------------------------------------------------------------------------------


def pack_station(code: str, warehouse_ids: frozenset[int] | None) -> Resource:
    """The pack station with this code among the caller's warehouses."""
    stmt = select(Resource).where(Resource.code == code.strip(), Resource.kind == ResourceKind.PACK_STATION)
    if warehouse_ids is not None:
        stmt = stmt.where(Resource.warehouse_id.in_(warehouse_ids))
    stations = list(db.session.scalars(stmt))
    if not stations:
        raise NotFound(_("%(code)s is not a pack station of your warehouse.", code=code.strip()))
    if len(stations) > 1:
        raise ValidationFailed(f"Pack station {code.strip()} exists in several warehouses; say which one.")
    return stations[0]


def get_shipment(shipment_id: int, warehouse_ids: frozenset[int] | None = None, *, lock: bool = False) -> Shipment:
    """The shipment with this id (404 also outside the caller's warehouses); `lock` takes its row lock."""
    stmt = select(Shipment).where(Shipment.id == shipment_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    shipment = db.session.scalar(stmt)
    if shipment is None or (warehouse_ids is not None and shipment.warehouse_id not in warehouse_ids):
        raise NotFound(f"No shipment {shipment_id}.")
    return shipment


def _orders_in_tote(warehouse_id: int, tote: str) -> list[Order]:
    ids = select(OrderLine.order_id).join(PickOrderLine, PickOrderLine.order_line_id == OrderLine.id).join(
        PickOrder, PickOrder.id == PickOrderLine.pick_order_id).where(
        PickOrder.warehouse_id == warehouse_id, PickOrderLine.tote == tote, PickOrderLine.picked_quantity > 0)
    return list(db.session.scalars(select(Order).where(Order.id.in_(ids)).order_by(Order.id.desc())))


def _live_shipment(order_id: int) -> Shipment | None:
    return db.session.scalar(select(Shipment).where(Shipment.order_id == order_id,
                                                    Shipment.status != ShipmentStatus.CANCELLED))


def _event(ctx: ScanContext | None, shipment: Shipment, step: str, code: str | None, message: str,
           outcome: ScanOutcome = ScanOutcome.APPLIED, **data: Any) -> None:
    if ctx is not None:
        record(ctx, shipment.warehouse_id, FLOW, step, code, outcome, message,
               data={"shipment_id": shipment.id, "order": shipment.order.external_id, **data})


# --- the steps ---------------------------------------------------------------------------------------------------


def start_packing(station: Resource, tote: str, ctx: ScanContext | None = None) -> Shipment:
    """Open (or resume) the shipment of the picked order whose items are in this tote, at this pack station."""
    tote = (tote or "").strip()
    if not tote:
        raise ValidationFailed(_("Scan the tote's label."), errors=[{"field": "tote", "message": "required"}])
    orders = _orders_in_tote(station.warehouse_id, tote)
    if not orders:
        raise ToteUnknown(_("Tote %(tote)s holds no picked order in this warehouse.", tote=tote))
    waiting = [o for o in orders if o.status == OrderStatus.PICKED]
    if len(waiting) > 1:
        # Tote codes name their wave since totes became rows (unique while live); two waves before that both
        # labelled their first tote 000-01-A. Guessing would pack the wrong order.
        refs = [o.external_id for o in waiting]
        raise ToteAmbiguous(_("Tote %(tote)s names %(count)s picked orders (%(orders)s): none is opened, the "
                              "code does not say which one this tote holds.", tote=tote, count=len(refs),
                              orders=", ".join(refs[:10])), orders=refs)
    picked = waiting or [o for o in orders if o.status == OrderStatus.PACKED]
    if not picked:
        latest = orders[0]
        raise PackRefused(_("Order %(order)s in tote %(tote)s is %(status)s, not picked: it cannot be packed now.",
                            order=latest.external_id, tote=tote, status=latest.status.value),
                          order=latest.external_id, order_status=latest.status.value)
    order = db.session.scalar(select(Order).where(Order.id == picked[0].id).with_for_update()
                              .execution_options(populate_existing=True))
    assert order is not None
    user_id = ctx.user.id if ctx is not None else None
    shipment = _live_shipment(order.id)
    if shipment is not None:
        if shipment.status != ShipmentStatus.PACKING:
            raise PackRefused(_("Order %(order)s is already packed (shipment %(id)s, %(status)s, tracking "
                                "%(tracking)s).", order=order.external_id, id=shipment.id,
                                status=shipment.status.value, tracking=shipment.tracking_number),
                              shipment_id=shipment.id, order=order.external_id)
        if shipment.packed_by_id not in (None, user_id) and user_id is not None:
            raise PackRefused(_("Order %(order)s is being packed by someone else at another station.",
                                order=order.external_id),
                              shipment_id=shipment.id, order=order.external_id)
        shipment.pack_station_id = station.id
        shipment.tote = tote
        db.session.flush()
        return shipment
    if order.status != OrderStatus.PICKED:
        raise PackRefused(_("Order %(order)s is %(status)s: it cannot be packed now.", order=order.external_id,
                            status=order.status.value))
    carrier = carrier_choice.shipping_carrier(order)  # chosen at intake (wms.outbound.carrier_choice)
    shipment = Shipment(warehouse_id=order.warehouse_id, order_id=order.id, order=order, carrier_code=carrier,
                        service=order.carrier_service, status=ShipmentStatus.PACKING, tote=tote,
                        pack_station_id=station.id, packed_by_id=user_id)
    db.session.add(shipment)
    db.session.flush()
    _event(ctx, shipment, "tote", tote, f"Tote {tote}: order {order.external_id}.")
    return shipment


def _require_packing(shipment: Shipment) -> None:
    if shipment.status != ShipmentStatus.PACKING:
        raise PackRefused(_("Shipment %(id)s is %(status)s; cancel its label to change it.", id=shipment.id,
                            status=shipment.status.value),
                          shipment_status=shipment.status.value)


def item_for_code(code: str) -> tuple[Product, int] | None:
    """The product a scanned code names and how many units one scan counts (a pack barcode counts several)."""
    try:
        normalized = parse(code).normalized
    except InvalidBarcode:
        normalized = None
    if normalized is not None:
        barcode = db.session.scalar(select(Barcode).where(Barcode.normalized == normalized))
        if barcode is not None:
            return barcode.product, max(barcode.quantity, 1)
    product = db.session.scalar(select(Product).where(Product.sku == code.strip()))
    return (product, 1) if product is not None else None


def scan_item(shipment: Shipment, code: str, ctx: ScanContext | None = None, *, quantity: int = 1) -> PackLine:
    """Verify `quantity` scans of an item (any of its barcodes) into the open parcel; a mis- or over-scan is
    refused and changes nothing."""
    _require_packing(shipment)
    code = (code or "").strip()
    if not code:
        raise ValidationFailed(_("Scan the item's barcode."), errors=[{"field": "code", "message": "required"}])
    if isinstance(quantity, bool) or not 1 <= quantity <= 10_000:
        raise ValidationFailed("A scan counts 1 to 10000 times.", errors=[{"field": "quantity", "message": "range"}])
    found = item_for_code(code)
    if found is None:
        raise MisScan(_("%(code)s is no known item. Put it aside and call the supervisor.", code=code), code=code)
    product, per_scan = found
    state = pack_state(shipment)
    lines = [ln for ln in state.lines if ln.product.id == product.id]
    if not lines:
        raise MisScan(_("%(sku)s %(name)s is not in order %(order)s. Put it aside.", sku=product.sku,
                        name=product.name, order=state.order.external_id), code=code, sku=product.sku)
    units = per_scan * quantity
    remaining = sum(ln.remaining for ln in lines)
    if units > remaining:
        raise OverScan(_("Too many %(sku)s: order %(order)s has %(total)s, %(packed)s already packed, this scan "
                         "counts %(units)s.", sku=product.sku, order=state.order.external_id,
                         total=sum(ln.to_pack for ln in lines), packed=sum(ln.packed for ln in lines), units=units),
                       sku=product.sku, remaining=remaining, units=units)
    parcel = state.open_parcel
    if parcel is not None and parcel.box is not None:
        counts = {p.id: n for p, n in _contents(parcel)}
        counts[product.id] = counts.get(product.id, 0) + units
        _refuse_unless_fits(_contents(parcel, product, counts), parcel.box,
                            extra=" " + _("Weigh parcel %(seq)s and scan this item into the next parcel.",
                                          seq=parcel.seq))
    if parcel is None:
        parcel = Parcel(shipment=shipment, seq=len(shipment.parcels) + 1, carrier_code=shipment.carrier_code)
        db.session.add(parcel)
    left = units
    for ln in lines:
        take = min(left, ln.remaining)
        if take <= 0:
            continue
        row = next((pl for pl in parcel.lines if pl.order_line_id == ln.order_line.id), None)
        if row is None:
            parcel.lines.append(ParcelLine(order_line_id=ln.order_line.id, order_line=ln.order_line,
                                           product_id=product.id, product=product, quantity=take))
        else:
            row.quantity += take
        left -= take
    if parcel.box is not None:
        parcel.expected_weight_g = expected_weight(parcel)
    db.session.flush()
    _event(ctx, shipment, "item", code, f"{units} × {product.sku} into parcel {parcel.seq}.",
           sku=product.sku, units=units, parcel=parcel.seq)
    return next(ln for ln in pack_state(shipment).lines if ln.order_line.id == lines[0].order_line.id)


def _contents(parcel: Parcel, extra_product: Product | None = None,
              counts: dict[int, int] | None = None) -> list[tuple[Product, int]]:
    """(product, units) in the parcel, or as `counts` says it would be after a scan of `extra_product`."""
    products = {pl.product.id: pl.product for pl in parcel.lines}
    if extra_product is not None:
        products[extra_product.id] = extra_product
    if counts is None:
        counts = {}
        for pl in parcel.lines:
            counts[pl.product.id] = counts.get(pl.product.id, 0) + pl.quantity
    return [(products[pid], n) for pid, n in counts.items()]


def _refuse_unless_fits(contents: list[tuple[Product, int]], box: Box, *, extra: str = "") -> None:
    items = [rules.Item(p.sku, p.length_mm, p.width_mm, p.height_mm, p.weight_g, n) for p, n in contents
             if p.length_mm and p.width_mm and p.height_mm and p.weight_g is not None]
    if not items:
        return
    fit = rules.check_fit(items, box_rule(box))
    if not fit.fits:
        raise BoxRefused(" ".join(fit.reasons) + extra, box=box.code, reasons=list(fit.reasons))


def choose_box(shipment: Shipment, box_code: str, ctx: ScanContext | None = None) -> Parcel:
    """Put the open parcel in this box; refused when its items do not fit or would weigh over the box's limit."""
    _require_packing(shipment)
    box = db.session.scalar(select(Box).where(Box.code == (box_code or "").strip(), Box.active.is_(True)))
    if box is None:
        raise NotFound(_("%(box)s is not a box in use here.", box=(box_code or "").strip()),
                       box=(box_code or "").strip())
    parcel = open_parcel(shipment)
    if parcel is None or not parcel.lines:
        raise PackRefused(_("Scan the items of this parcel before choosing its box."))
    _refuse_unless_fits(_contents(parcel), box)
    parcel.box_id, parcel.box = box.id, box
    parcel.expected_weight_g = expected_weight(parcel)
    db.session.flush()
    _event(ctx, shipment, "box", box.code, f"Parcel {parcel.seq} in box {box.code}.", parcel=parcel.seq)
    return parcel


def weigh_parcel(shipment: Shipment, weight_g: int, ctx: ScanContext | None = None) -> rules.WeightCheck | None:
    """Weigh the open parcel: within tolerance of the expected weight it is closed; otherwise refused with the
    figures (the packer re-checks the contents). Returns None when no expected weight is known."""
    _require_packing(shipment)
    if isinstance(weight_g, bool) or not isinstance(weight_g, int) or not 1 <= weight_g <= 1_000_000:
        raise ValidationFailed("Type the weight the scale shows, in grams (1 to 1000000).",
                               errors=[{"field": "weight_g", "message": "1..1000000"}])
    parcel = open_parcel(shipment)
    if parcel is None or not parcel.lines:
        raise PackRefused(_("There is no parcel to weigh: scan its items first."))
    if parcel.box is None:
        raise PackRefused(_("Choose the box of parcel %(seq)s before weighing it.", seq=parcel.seq))
    expected = expected_weight(parcel)
    check = None
    if expected is not None:
        tolerance_g, tolerance_pct = tolerances()
        check = rules.check_parcel_weight(weight_g, expected, tolerance_g=tolerance_g, tolerance_pct=tolerance_pct,
                                          box=box_rule(parcel.box))
        if not check.accepted:
            raise WeightRefused(_weight_message(check, parcel), verdict=check.verdict.value, measured_g=weight_g,
                                expected_g=expected, tolerance_g=check.tolerance_g, parcel=parcel.seq)
    elif weight_g > parcel.box.max_weight_g:
        raise WeightRefused(_("Refused: the parcel weighs %(measured)s g, over the %(limit)s g limit of box "
                              "%(box)s. Split it or use a stronger box.", measured=weight_g,
                              limit=parcel.box.max_weight_g, box=parcel.box.code),
                            verdict="over_box_limit", measured_g=weight_g)
    parcel.weight_g = weight_g
    parcel.expected_weight_g = expected
    db.session.flush()
    _event(ctx, shipment, "weight", str(weight_g), check.message if check else f"Parcel {parcel.seq}: {weight_g} g.",
           parcel=parcel.seq, expected_g=expected)
    return check


def _weight_message(check: rules.WeightCheck, parcel: Parcel) -> str:
    figures = dict(measured=check.measured_g, expected=check.expected_g, allowed=check.tolerance_g)
    if check.verdict is rules.WeightVerdict.OVER_BOX_LIMIT:
        assert parcel.box is not None
        return _("Refused: the parcel weighs %(measured)s g, over the %(limit)s g limit of box %(box)s. Split it "
                 "or use a stronger box.", measured=check.measured_g, limit=parcel.box.max_weight_g,
                 box=parcel.box.code)
    if check.verdict is rules.WeightVerdict.TOO_HEAVY:
        return _("Refused: %(gap)s g too heavy; the scale says %(measured)s g, we expected %(expected)s g "
                 "(± %(allowed)s g). Check for an extra or wrong item.", gap=check.difference_g, **figures)
    return _("Refused: %(gap)s g too light; the scale says %(measured)s g, we expected %(expected)s g "
             "(± %(allowed)s g). Check for a missing item.", gap=-check.difference_g, **figures)


# --- the label -------------------------------------------------------------------------------------------------


def _ship_from(warehouse: Warehouse) -> Party:
    from wms.labels.documents.shipping import Address

    lines = [ln.strip() for ln in (warehouse.address or "").splitlines() if ln.strip()]
    if len(lines) >= 2:
        street, last = tuple(lines[:-1]), lines[-1]
    else:
        street = (str(_config("SHIP_FROM_STREET", "1 rue de la Logistique")),)
        last = str(_config("SHIP_FROM_CITY_LINE", "93200 Saint-Denis FR"))
    parts = last.split()
    country = parts.pop() if len(parts) > 2 and len(parts[-1]) == 2 and parts[-1].isalpha() else "FR"
    postal = parts.pop(0) if parts and any(c.isdigit() for c in parts[0]) else ""
    return Party(Address(warehouse.name, street[:2], postal, " ".join(parts) or warehouse.name, country.upper()))


def _ship_to(order: Order) -> Party:
    from wms.labels.documents.shipping import Address

    to = order.ship_to or {}
    if not to.get("name") or not to.get("line1") or not to.get("city"):
        raise ShipmentRefused(_("Order %(order)s has no delivery address (name, street, city): ask the channel to "
                                "send it.", order=order.external_id), order=order.external_id)
    street = tuple(s for s in (to.get("line1"), to.get("line2")) if s)
    return Party(Address(to["name"], street, str(to.get("postcode") or ""), to["city"],
                         str(to.get("country") or "FR")), phone=str(to.get("phone") or ""),
                 email=str(to.get("email") or ""))


def finish_packing(shipment: Shipment, ctx: ScanContext | None = None, *, carrier_code: str | None = None,
                   idempotency_key: str | None = None) -> Shipment:
    """Every unit packed and every parcel weighed: the carrier gives tracking numbers and labels, the label is
    queued at the pack station's printer, the shipment becomes labelled and the order packed (webhook)."""
    if shipment.status == ShipmentStatus.LABELLED and carrier_code in (None, shipment.carrier_code):
        return shipment  # finishing twice is the same finish
    _require_packing(shipment)
    state = pack_state(shipment)
    missing = [f"{ln.remaining} × {ln.product.sku}" for ln in state.lines if ln.remaining > 0]
    if missing:
        raise PackRefused(_("Not everything is packed yet: %(missing)s.", missing=", ".join(missing)),
                          missing=missing)
    parcel = open_parcel(shipment)
    if parcel is not None and parcel.lines:
        raise PackRefused(_("Parcel %(seq)s is not weighed yet: choose its box and weigh it.", seq=parcel.seq))
    if parcel is not None:
        shipment.parcels.remove(parcel)  # an empty parcel opened by nothing: drop it
        db.session.flush()
    if not shipment.parcels:
        raise PackRefused("There is no parcel in this shipment.")
    overridden = carrier_code is not None and carrier_code != shipment.carrier_code
    if overridden:
        registry.carrier_for(carrier_code)
        shipment.carrier_code = carrier_code
        shipment.service = None  # the chosen service and relay point belong to the chosen carrier's network
        for p in shipment.parcels:
            p.carrier_code = carrier_code
    if shipment.pack_station_id is None:
        raise PackRefused("Start packing at a pack station so the label has a printer.")
    warehouse = db.session.get(Warehouse, shipment.warehouse_id)
    carrier = registry.carrier_for(shipment.carrier_code, warehouse)
    printer = jobs.resolve_printer(shipment.warehouse_id, DocumentKind.CARRIER_LABEL,
                                   resource_id=shipment.pack_station_id)
    order = state.order
    ship_from, ship_to = _ship_from(warehouse), _ship_to(order)
    customs = None
    if needs_customs(ship_from.address, ship_to.address):
        customs = carrier_data.customs_for(shipment.parcels, order.currency)  # refused here, before the carrier
    value = customs.value if customs is not None else carrier_data.goods_value(shipment.parcels)
    try:
        request = CarrierShipment(
            reference=order.external_id, ship_from=ship_from, ship_to=ship_to,
            service=shipment.service or (None if overridden else order.carrier_service) or "standard",
            relay_point_id=None if overridden else order.relay_point_id, customs=customs, value=value,
            options=carrier_data.options_for(carrier, value),
            parcels=tuple(CarrierParcel(p.weight_g or 1, *(_box_dims(p.box))) for p in shipment.parcels))
        if request.relay_point_id:
            carrier_data.check_relay_point(carrier, order, ship_to.address.country, shipment.parcels)
        label = carrier.create_shipment(request)
    except (ShippingInputInvalid, CarrierUnavailable) as exc:
        raise carrier_data.packer_problem(exc, carrier, order) from exc
    try:
        _store_label(shipment, label)
        shipment.service = label.service[:40] if label.service else None
        payload = label.label
        if customs is not None and label.content_type == ZPL:
            payload += Cn23Document(customs, label.tracking_number, order.external_id,
                                    sender=ship_from.address.name, addressee=ship_to.address.name
                                    ).to_zpl().encode("utf-8")
        job = jobs.enqueue_job(
            warehouse_id=shipment.warehouse_id, kind=DocumentKind.CARRIER_LABEL,
            reference=f"{order.external_id} {label.tracking_number}"[:120], payload=payload,
            content_type=label.content_type, printer=printer,
            idempotency_key=f"carrier-label:{shipment.id}:{label.tracking_number}",
            created_by_id=ctx.user.id if ctx is not None else None,
            actor=ctx.user.username if ctx is not None else None)
    except Exception:
        _cancel_quietly(carrier, label)  # what the carrier made must not outlive the refused request
        raise
    for p in shipment.parcels:
        p.label_print_job_id = job.id
    order.status = OrderStatus.PACKED
    db.session.execute(update(Tote).where(Tote.order_id == order.id, Tote.live.is_(True)).values(live=False)
                       .execution_options(synchronize_session=False))  # emptied: its code names no tote now
    db.session.flush()
    outbox.order_status_changed(order)
    _event(ctx, shipment, "label", label.tracking_number,
           f"Labelled by {carrier.name}: {label.tracking_number}, printing at {printer.code}.",
           tracking_numbers=[p.tracking_number for p in label.parcels], print_job_id=job.id)
    return shipment


def _cancel_quietly(carrier: Any, label: ShipmentLabel) -> None:
    try:
        carrier.cancel(label.tracking_number, carrier_reference=label.carrier_reference)
    except Exception:  # noqa: BLE001 - the first error is the one to report; this one is logged
        log.exception("could not cancel %s %s after a refused finish", carrier.code, label.tracking_number)


def _box_dims(box: Box | None) -> tuple[int, int, int]:
    return (box.inner_length_mm, box.inner_width_mm, box.inner_height_mm) if box is not None else (0, 0, 0)


def _store_label(shipment: Shipment, label: ShipmentLabel) -> None:
    if len(label.parcels) != len(shipment.parcels):
        raise ShipmentRefused(f"The carrier labelled {len(label.parcels)} parcels, not {len(shipment.parcels)}.")
    shipment.tracking_number = label.tracking_number
    shipment.carrier_reference = label.carrier_reference
    shipment.status = ShipmentStatus.LABELLED
    shipment.labelled_at = utcnow()
    for parcel, given in zip(shipment.parcels, label.parcels, strict=True):
        parcel.tracking_number = given.tracking_number
        parcel.sscc = given.sscc
    db.session.flush()


def cancel_label(shipment: Shipment, ctx: ScanContext | None = None) -> Shipment:
    """Cancel a labelled shipment with its carrier: back to packing (parcels kept), order back to picked."""
    if shipment.status == ShipmentStatus.PACKING:
        return shipment  # already cancelled back to packing
    if shipment.status != ShipmentStatus.LABELLED:
        raise PackRefused(f"Shipment {shipment.id} is {shipment.status.value}: only a labelled shipment not yet "
                          "staged can have its label cancelled.", shipment_status=shipment.status.value)
    carrier = registry.carrier_for(shipment.carrier_code)
    assert shipment.tracking_number is not None
    cancellation = carrier.cancel(shipment.tracking_number, carrier_reference=shipment.carrier_reference)
    old = [{"seq": p.seq, "tracking_number": p.tracking_number, "sscc": p.sscc} for p in shipment.parcels]
    job_ids = {p.label_print_job_id for p in shipment.parcels if p.label_print_job_id}
    for job in db.session.scalars(select(PrintJob).where(PrintJob.id.in_(job_ids))):
        if job.state in (JobState.QUEUED, JobState.CLAIMED):
            jobs.cancel(job, ctx.user if ctx is not None else None)
    for p in shipment.parcels:
        p.tracking_number = p.sscc = p.label_print_job_id = None
    shipment.tracking_number = shipment.carrier_reference = None
    shipment.labelled_at = None
    shipment.status = ShipmentStatus.PACKING
    order = shipment.order
    order.status = OrderStatus.PICKED
    db.session.flush()
    outbox.order_status_changed(order)
    _event(ctx, shipment, "cancel", old[0]["tracking_number"] if old else None, cancellation.detail, cancelled=old)
    return shipment

