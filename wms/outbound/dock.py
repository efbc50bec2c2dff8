"""The shipping dock: parcels staged to a door's sas, carrier pick-ups booked on dock doors, the end-of-day
manifest per carrier, the truck's departure (shipped) and the delivery.

Plain functions over ``db.session`` (add/flush, never commit). Every refusal is raised before anything is
written, so the request's rollback leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select

from wms.db import db, utcnow
from wms.enums import PrinterPlace, ResourceKind, ZoneKind
from wms.errors import Conflict, NoPrinter, NotFound, ValidationFailed, explain_constraint
from wms.layout.models import Location, Resource, Warehouse, Zone
from wms.orders.models import Order, OrderStatus
from wms.outbound.models import CarrierPickup, Manifest, Parcel, PickupStatus, Shipment, ShipmentStatus
from wms.printing.models import DocumentKind, Printer, PrintJob
from wms.shipping import carriers as shipping
from wms.shipping import sscc as sscc_rules
from wms.shipping.errors import ShippingInputInvalid
from wms.waves import slots
from wms.waves.models import SlotKind, TimeSlot

STAGING_ZONE_KINDS = (ZoneKind.SHIP_DOCK, ZoneKind.SAS)
MAX_ID = 2**31 - 1  # PostgreSQL integer keys: a bigger id names nothing

explain_constraint("uq_manifests_reference", Conflict,
                   "A manifest with this reference already exists (the same parcels were manifested already).")
explain_constraint("uq_carrier_pickups_time_slot_id", Conflict, "That time slot already belongs to another pick-up.")


class ParcelUnknown(NotFound):
    slug = "parcel-unknown"
    title = "Unknown parcel"


class ParcelNotStageable(Conflict):
    slug = "parcel-not-stageable"
    title = "Parcel cannot be staged"


class NotAStagingLocation(ValidationFailed):
    slug = "not-a-staging-location"
    title = "Not a shipping sas"


class NothingToManifest(Conflict):
    slug = "nothing-to-manifest"
    title = "Nothing to manifest"


class PickupClosed(Conflict):
    slug = "pickup-closed"
    title = "Pick-up closed"


def _registry():  # type: ignore[no-untyped-def]
    from wms.outbound import carriers_registry

    return carriers_registry


def carrier_for(code: str, warehouse: Warehouse | None = None) -> shipping.Carrier:
    """The configured carrier with this code (UnknownCarrier 404 when it is not configured here)."""
    return _registry().carrier_for(code, warehouse)


def local_day(warehouse: Warehouse, moment: dt.datetime | None = None) -> dt.date:
    """The warehouse's calendar day at a moment (now by default)."""
    return (moment or utcnow()).astimezone(slots.warehouse_zone(warehouse)).date()


def day_window(warehouse: Warehouse, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Midnight to midnight of a local day, in UTC."""
    tz = slots.warehouse_zone(warehouse)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


# --- staging -----------------------------------------------------------------------------------------------

def find_parcel(warehouse: Warehouse, scan: str) -> Parcel:
    """The parcel whose SSCC (any scan form: `]C100…`, `(00)…`, `00…`, 18 digits) or tracking number was read."""
    text = "".join((scan or "").split())
    if not text:
        raise ValidationFailed("Scan the parcel's SSCC or tracking number.",
                               errors=[{"field": "parcel", "message": "empty"}])
    stmt = select(Parcel).join(Shipment, Shipment.id == Parcel.shipment_id).where(
        Shipment.warehouse_id == warehouse.id)
    try:
        code = sscc_rules.from_scan(text)
    except ShippingInputInvalid:
        code = None
    if code is not None:
        parcel = db.session.scalar(stmt.where(Parcel.sscc == code))
        if parcel is not None:
            return parcel
    found = list(db.session.scalars(stmt.where(Parcel.tracking_number.in_({text, text.upper()}))
                                    .order_by(Parcel.staged_location_id.is_not(None), Parcel.seq).limit(50)))
    if len({p.shipment_id for p in found}) > 1:
        raise Conflict(f"Two parcels carry the tracking number {text}: scan the SSCC instead.")
    # Parcels of one shipment sharing its number (Mondial Relay): the first one not staged yet is the one scanned.
    if not found:
        raise ParcelUnknown(f"No parcel {text} in warehouse {warehouse.code}: is it one of ours, labelled here?",
                            errors=[{"field": "parcel", "message": "unknown"}])
    return found[0]


def staging_location(warehouse: Warehouse, code: str) -> Location:
    """A location of a shipping dock or sas zone of the warehouse, by code."""
    row = db.session.execute(select(Location, Zone).join(Zone, Zone.id == Location.zone_id).where(
        Location.warehouse_id == warehouse.id, Location.code == (code or "").strip())).first()
    if row is None:
        raise NotFound(f"No location {code!r} in warehouse {warehouse.code}.",
                       errors=[{"field": "location", "message": "unknown"}])
    location, zone = row
    if zone.kind not in STAGING_ZONE_KINDS or not location.active:
        raise NotAStagingLocation(
            f"{location.code} is in zone {zone.code} ({zone.kind.value.replace('_', ' ')}): parcels are staged in "
            "a shipping dock or its sas.", errors=[{"field": "location", "message": "not a shipping sas"}])
    return location


def _lock_shipment(shipment_id: int) -> Shipment:
    return db.session.scalars(select(Shipment).where(Shipment.id == shipment_id).with_for_update()
                              .execution_options(populate_existing=True)).one()


@dataclass(frozen=True)
class StagingResult:
    parcel: Parcel
    shipment: Shipment
    location: Location
    moved: bool  # False when the parcel was already there (a repeated scan)
    shipment_staged: bool  # every parcel of the shipment is in a shipping sas


def stage_parcel(warehouse: Warehouse, scan: str, location_code: str) -> StagingResult:
    """Scan a parcel into a shipping sas; the shipment becomes STAGED when its last parcel is there."""
    location = staging_location(warehouse, location_code)
    parcel = find_parcel(warehouse, scan)
    shipment = _lock_shipment(parcel.shipment_id)
    name = parcel.sscc or parcel.tracking_number
    if shipment.status == ShipmentStatus.CANCELLED:
        raise ParcelNotStageable(f"Parcel {name} belongs to a cancelled shipment: take it back to packing.")
    if shipment.status == ShipmentStatus.PACKING:
        raise ParcelNotStageable(f"Parcel {name} has no carrier label yet: finish packing it first.")
    if shipment.status not in (ShipmentStatus.LABELLED, ShipmentStatus.STAGED):
        if parcel.staged_location_id == location.id and shipment.status == ShipmentStatus.MANIFESTED:
            return StagingResult(parcel, shipment, location, False, True)
        raise ParcelNotStageable(f"Parcel {name} is already {shipment.status.value}: it cannot be staged again.")
    moved = parcel.staged_location_id != location.id
    if moved:
        parcel.staged_location_id, parcel.staged_at = location.id, utcnow()
    complete = all(p.staged_location_id is not None for p in shipment.parcels)
    if complete and shipment.status == ShipmentStatus.LABELLED:
        shipment.status = ShipmentStatus.STAGED
    db.session.flush()
    return StagingResult(parcel, shipment, location, moved, complete)


def staged_shipments(warehouse: Warehouse, carrier_code: str | None = None) -> list[Shipment]:
    """Shipments waiting in a shipping sas (STAGED) or partly there (LABELLED with a parcel staged)."""
    partly = select(Parcel.shipment_id).where(Parcel.staged_location_id.is_not(None))
    stmt = select(Shipment).where(Shipment.warehouse_id == warehouse.id, or_(
        Shipment.status == ShipmentStatus.STAGED,
        (Shipment.status == ShipmentStatus.LABELLED) & Shipment.id.in_(partly)))
    if carrier_code:
        stmt = stmt.where(Shipment.carrier_code == carrier_code)
    return list(db.session.scalars(stmt.order_by(Shipment.carrier_code, Shipment.id)))


# --- pick-ups ----------------------------------------------------------------------------------------------

def shipping_door(warehouse: Warehouse, code: str) -> Resource:
    """A dock door of a shipping dock zone of the warehouse, by code."""
    door = slots.get_resource(warehouse, code)
    zone = db.session.get(Zone, door.zone_id) if door.zone_id else None
    if door.kind != ResourceKind.DOCK_DOOR or zone is None or zone.kind != ZoneKind.SHIP_DOCK:
        raise ValidationFailed(f"{slots.resource_title(door)} is not a door of a shipping dock: carriers collect "
                               "parcels at a shipping dock door.", errors=[{"field": "door", "message": "not a "
                                                                             "shipping dock door"}])
    return door


def pickup_label(carrier: shipping.Carrier) -> str:
    """What the door's timeline shows for the booking."""
    return f"Pick-up {carrier.name} ({carrier.code})"[:120]


def book_pickup(warehouse: Warehouse, carrier_code: str, door_code: str, starts_at: dt.datetime,
                ends_at: dt.datetime, *, created_by_id: int | None = None) -> CarrierPickup:
    """Book a carrier's truck at a shipping door; SlotClash (409) naming the booking that holds the time."""
    carrier = carrier_for(carrier_code, warehouse)
    door = shipping_door(warehouse, door_code)
    slot = slots.book_slot(door, starts_at, ends_at, SlotKind.DOCK, pickup_label(carrier),
                           created_by_id=created_by_id)
    pickup = CarrierPickup(warehouse_id=warehouse.id, carrier_code=carrier_code, dock_resource_id=door.id,
                           time_slot_id=slot.id, status=PickupStatus.BOOKED)
    db.session.add(pickup)
    db.session.flush()
    return pickup


def get_pickup(pickup_id: int, warehouse_ids: frozenset[int] | None = None, *, lock: bool = False) -> CarrierPickup:
    """The pick-up with this id (NotFound also outside the given warehouses)."""
    if not 1 <= pickup_id <= MAX_ID:
        raise NotFound(f"No pick-up {pickup_id}.")
    stmt = select(CarrierPickup).where(CarrierPickup.id == pickup_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    pickup = db.session.scalar(stmt)
    if pickup is None or (warehouse_ids is not None and pickup.warehouse_id not in warehouse_ids):
        raise NotFound(f"No pick-up {pickup_id}.")
    return pickup


def pickups_of_day(warehouse: Warehouse, day: dt.date) -> list[CarrierPickup]:
    """Booked and departed pick-ups whose slot overlaps the warehouse's day, by door then time."""
    start, end = day_window(warehouse, day)
    return list(db.session.scalars(
        select(CarrierPickup).join(TimeSlot, TimeSlot.id == CarrierPickup.time_slot_id)
        .where(CarrierPickup.warehouse_id == warehouse.id, TimeSlot.starts_at < end, TimeSlot.ends_at > start)
        .order_by(CarrierPickup.dock_resource_id, TimeSlot.starts_at)))


def cancel_pickup(pickup: CarrierPickup) -> CarrierPickup:
    """Cancel a booked pick-up and free its slot; shipments manifested for it wait for the carrier's next truck."""
    if pickup.status == PickupStatus.CANCELLED:
        return pickup
    if pickup.status == PickupStatus.DEPARTED:
        raise PickupClosed(f"Pick-up {pickup.id} has left the dock: it cannot be cancelled.")
    for shipment in db.session.scalars(select(Shipment).where(Shipment.pickup_id == pickup.id)
                                       .with_for_update()):
        shipment.pickup_id = None
    slot = db.session.get(TimeSlot, pickup.time_slot_id) if pickup.time_slot_id else None
    pickup.time_slot_id = None
    pickup.status = PickupStatus.CANCELLED
    db.session.flush()
    if slot is not None:
        slots.free_slot(slot)
    return pickup


# --- manifests ---------------------------------------------------------------------------------------------

def _destination(order: Order | None) -> str:
    to = (order.ship_to or {}) if order is not None else {}
    return " ".join(str(to.get(k) or "") for k in ("postcode", "city", "country")).strip()


def _route(carrier: shipping.Carrier, order: Order | None) -> tuple[str, str]:
    """The own fleet's round and driver for the order's address, when the carrier has rounds."""
    route_for = getattr(carrier, "route_for", None)
    to = (order.ship_to or {}) if order is not None else {}
    if route_for is None or not to:
        return "", ""
    from wms.labels.documents.shipping import Address

    try:
        route = route_for(Address(name=str(to.get("name") or "-"), street=(str(to.get("line1") or "-"),),
                                  postal_code=str(to.get("postcode") or ""), city=str(to.get("city") or "-"),
                                  country=str(to.get("country") or "")))
    except (ShippingInputInvalid, ValueError, TypeError):
        return "", ""
    return route.code, route.driver


def shipment_label(carrier: shipping.Carrier, shipment: Shipment) -> shipping.ShipmentLabel:
    """The stored shipment as the carrier's manifest needs it (no label bytes: the labels are printed)."""
    order = shipment.order
    route, driver = _route(carrier, order)
    return shipping.ShipmentLabel(
        carrier=carrier.code, service="standard",
        shipment_reference=order.external_id if order is not None else f"S{shipment.id}",
        tracking_number=shipment.tracking_number or "",
        parcels=tuple(shipping.ParcelLabel(p.tracking_number or shipment.tracking_number or "", p.sscc,
                                           int(p.weight_g or p.expected_weight_g or 0)) for p in shipment.parcels),
        label=b"", destination=_destination(order), carrier_reference=shipment.carrier_reference,
        route=route, driver=driver)


def ship_dock_zone(warehouse: Warehouse, pickup: CarrierPickup | None = None) -> Zone | None:
    """Where the manifest prints: the pick-up door's zone, else the warehouse's first shipping dock."""
    if pickup is not None:
        door = db.session.get(Resource, pickup.dock_resource_id)
        if door is not None and door.zone_id is not None:
            return db.session.get(Zone, door.zone_id)
    return db.session.scalar(select(Zone).where(Zone.warehouse_id == warehouse.id, Zone.kind == ZoneKind.SHIP_DOCK)
                             .order_by(Zone.seq, Zone.code).limit(1))


@dataclass(frozen=True)
class ManifestResult:
    manifest: Manifest
    shipments: list[Shipment]
    created: bool
    print_job: PrintJob | None
    print_message: str  # why it did not print, or where it went


def _print(manifest: Manifest, document: shipping.Manifest, zone: Zone | None, *, created_by_id: int | None,
           reprint_of_id: int | None = None, key: str | None = None) -> tuple[PrintJob | None, str]:
    from wms.printing.jobs import enqueue_job, resolve_printer

    try:
        try:
            printer = resolve_printer(manifest.warehouse_id, DocumentKind.MANIFEST,
                                      zone_id=zone.id if zone is not None else None)
        except NoPrinter:
            printer = _printer_standing_in(zone)
            if printer is None:
                raise
        job = enqueue_job(warehouse_id=manifest.warehouse_id, kind=DocumentKind.MANIFEST,
                          reference=manifest.reference, payload=document.document, printer=printer,
                          content_type=document.content_type, idempotency_key=key or f"manifest:{manifest.reference}",
                          created_by_id=created_by_id, reprint_of_id=reprint_of_id)
    except NoPrinter as exc:
        return None, f"Not printed: {exc.detail}"
    return job, f"Sent to printer {job.printer.code}."


def _printer_standing_in(zone: Zone | None) -> Printer | None:
    """With no print route, the enabled printer placed at the shipping dock itself takes the manifest."""
    if zone is None:
        return None
    return db.session.scalar(select(Printer).where(
        Printer.warehouse_id == zone.warehouse_id, Printer.zone_id == zone.id, Printer.place == PrinterPlace.SHIP_DOCK,
        Printer.enabled.is_(True)).order_by(Printer.code).limit(1))


def create_manifest(warehouse: Warehouse, carrier_code: str, *, day: dt.date | None = None,
                    pickup: CarrierPickup | None = None, created_by_id: int | None = None) -> ManifestResult:
    """The carrier's end-of-day manifest of its STAGED shipments: stored, shipments MANIFESTED, printed at the
    shipping dock (a missing printer does not stop it: the result says it was not printed)."""
    carrier = carrier_for(carrier_code, warehouse)
    if pickup is not None:
        if pickup.carrier_code != carrier_code or pickup.warehouse_id != warehouse.id:
            raise ValidationFailed(f"Pick-up {pickup.id} is for {pickup.carrier_code}, not {carrier_code}.",
                                   errors=[{"field": "pickup_id", "message": "another carrier"}])
        if pickup.status != PickupStatus.BOOKED:
            raise PickupClosed(f"Pick-up {pickup.id} is {pickup.status.value}: no manifest can be added to it.")
    if day is None:  # a pick-up's manifest belongs to the day the truck comes; otherwise today
        slot = pickup.time_slot if pickup is not None else None
        day = local_day(warehouse, slot.starts_at) if slot is not None else local_day(warehouse)
    shipments = list(db.session.scalars(
        select(Shipment).where(Shipment.warehouse_id == warehouse.id, Shipment.carrier_code == carrier_code,
                               Shipment.status == ShipmentStatus.STAGED)
        .order_by(Shipment.id).with_for_update().execution_options(populate_existing=True)))
    if not shipments:
        raise NothingToManifest(f"No {carrier.name} shipment is staged in warehouse {warehouse.code}: scan the "
                                "parcels into the shipping sas first.")
    document = carrier.manifest([shipment_label(carrier, s) for s in shipments], day)
    if db.session.scalar(select(Manifest.id).where(Manifest.reference == document.reference)) is not None:
        raise Conflict(f"Manifest {document.reference} already exists for these parcels.")
    manifest = Manifest(warehouse_id=warehouse.id, carrier_code=carrier_code, day=day, reference=document.reference,
                        parcel_count=document.parcel_count, total_weight_g=document.weight_grams,
                        created_by_id=created_by_id)
    db.session.add(manifest)
    db.session.flush()
    for shipment in shipments:
        shipment.status = ShipmentStatus.MANIFESTED
        shipment.manifest_id = manifest.id
        if pickup is not None:
            shipment.pickup_id = pickup.id
    if pickup is not None:
        pickup.manifest_id = manifest.id
    job, message = _print(manifest, document, ship_dock_zone(warehouse, pickup), created_by_id=created_by_id)
    manifest.print_job_id = job.id if job is not None else None
    db.session.flush()
    return ManifestResult(manifest, shipments, True, job, message)


def get_manifest(manifest_id: int, warehouse_ids: frozenset[int] | None = None) -> Manifest:
    """The manifest with this id (NotFound also outside the given warehouses)."""
    manifest = db.session.get(Manifest, manifest_id) if 1 <= manifest_id <= MAX_ID else None
    if manifest is None or (warehouse_ids is not None and manifest.warehouse_id not in warehouse_ids):
        raise NotFound(f"No manifest {manifest_id}.")
    return manifest


def manifest_shipments(manifest: Manifest) -> list[Shipment]:
    """The shipments on a manifest."""
    return list(db.session.scalars(select(Shipment).where(Shipment.manifest_id == manifest.id).order_by(Shipment.id)))


def manifests_of(warehouse: Warehouse, *, day: dt.date | None = None, carrier_code: str | None = None,
                 limit: int = 100) -> list[Manifest]:
    """Manifests of the warehouse, newest first."""
    stmt = select(Manifest).where(Manifest.warehouse_id == warehouse.id)
    if day is not None:
        stmt = stmt.where(Manifest.day == day)
    if carrier_code:
        stmt = stmt.where(Manifest.carrier_code == carrier_code)
    return list(db.session.scalars(stmt.order_by(Manifest.id.desc()).limit(limit)))


def manifest_document(manifest: Manifest) -> tuple[bytes, str]:
    """The manifest as printed: the queued job's bytes, or the built-in carrier's document made again."""
    if manifest.print_job_id is not None:
        job = db.session.get(PrintJob, manifest.print_job_id)
        if job is not None:
            return bytes(job.payload), job.content_type
    document = _document_again(manifest)
    return document.document, document.content_type


def _document_again(manifest: Manifest) -> shipping.Manifest:
    warehouse = db.session.get(Warehouse, manifest.warehouse_id)
    carrier = carrier_for(manifest.carrier_code, warehouse)
    shipments = manifest_shipments(manifest)
    if not shipments:
        raise Conflict(f"Manifest {manifest.reference} no longer lists any shipment: it cannot be printed again.")
    document = carrier.manifest([shipment_label(carrier, s) for s in shipments], manifest.day)
    if document.reference != manifest.reference:
        raise Conflict(f"The {carrier.name} manifest made again is {document.reference}, not {manifest.reference}: "
                       "ask the carrier for its copy.")
    return document


def reprint_manifest(manifest: Manifest, *, created_by_id: int | None = None) -> ManifestResult:
    """Print the manifest again at the shipping dock (a new print job; NoPrinter 409 when none can take it)."""
    warehouse = db.session.get(Warehouse, manifest.warehouse_id)
    payload, content_type = manifest_document(manifest)
    document = shipping.Manifest(carrier=manifest.carrier_code, day=manifest.day, reference=manifest.reference,
                                 document=payload, content_type=content_type, tracking_numbers=(),
                                 parcel_count=manifest.parcel_count, weight_grams=manifest.total_weight_g)
    pickup = db.session.scalar(select(CarrierPickup).where(CarrierPickup.manifest_id == manifest.id).limit(1))
    job, message = _print(manifest, document, ship_dock_zone(warehouse, pickup), created_by_id=created_by_id,
                          reprint_of_id=manifest.print_job_id,
                          key=f"manifest:{manifest.reference}:reprint:{uuid.uuid4().hex}")
    if job is None:
        raise NoPrinter(message.removeprefix("Not printed: "))
    if manifest.print_job_id is None:
        manifest.print_job_id = job.id
    db.session.flush()
    return ManifestResult(manifest, manifest_shipments(manifest), False, job, message)


# --- departure and delivery --------------------------------------------------------------------------------

def _advance_order(order: Order, status: OrderStatus) -> None:
    from wms.webhooks.outbox import order_status_changed

    locked = db.session.scalars(select(Order).where(Order.id == order.id).with_for_update()
                                .execution_options(populate_existing=True)).one()
    if locked.status == status:
        return
    locked.status = status
    db.session.flush()
    order_status_changed(locked)


@dataclass(frozen=True)
class DepartureResult:
    pickup: CarrierPickup
    shipments: list[Shipment]
    departed_now: bool


def depart_pickup(pickup: CarrierPickup) -> DepartureResult:
    """The truck left: the carrier's manifested shipments (of this pick-up, or manifested for none) are SHIPPED,
    their orders SHIPPED and each channel told, with the tracking numbers, in this transaction."""
    if pickup.status == PickupStatus.DEPARTED:
        shipped = list(db.session.scalars(select(Shipment).where(Shipment.pickup_id == pickup.id)
                                          .order_by(Shipment.id)))
        return DepartureResult(pickup, shipped, False)
    if pickup.status == PickupStatus.CANCELLED:
        raise PickupClosed(f"Pick-up {pickup.id} was cancelled: book a new one for the truck.")
    shipments = list(db.session.scalars(
        select(Shipment).where(Shipment.warehouse_id == pickup.warehouse_id,
                               Shipment.carrier_code == pickup.carrier_code,
                               Shipment.status == ShipmentStatus.MANIFESTED,
                               or_(Shipment.pickup_id == pickup.id, Shipment.pickup_id.is_(None)))
        .order_by(Shipment.id).with_for_update().execution_options(populate_existing=True)))
    if not shipments:
        raise NothingToManifest(f"Nothing is manifested for {pickup.carrier_code} at pick-up {pickup.id}: print the "
                                "manifest before the truck leaves.")
    now = utcnow()
    for shipment in shipments:
        shipment.status, shipment.shipped_at, shipment.pickup_id = ShipmentStatus.SHIPPED, now, pickup.id
    pickup.status, pickup.departed_at = PickupStatus.DEPARTED, now
    db.session.flush()
    for shipment in shipments:
        _advance_order(shipment.order, OrderStatus.SHIPPED)
    db.session.flush()
    return DepartureResult(pickup, shipments, True)


def find_shipment(tracking_number: str, *, warehouse_ids: frozenset[int] | None = None,
                  channel_id: int | None = None, carrier_code: str | None = None) -> Shipment:
    """The shipment with this master or parcel tracking number (or SSCC) that the caller may see."""
    text = "".join((tracking_number or "").split())
    if not text:
        raise ValidationFailed("Give the tracking number.", errors=[{"field": "tracking_number", "message": "empty"}])
    numbers = {text, text.upper()}
    with contextlib.suppress(ShippingInputInvalid):
        numbers.add(sscc_rules.from_scan(text))
    by_parcel = select(Parcel.shipment_id).where(or_(Parcel.tracking_number.in_(numbers), Parcel.sscc.in_(numbers)))
    stmt = (select(Shipment).join(Order, Order.id == Shipment.order_id)
            .where(Shipment.status != ShipmentStatus.CANCELLED,
                   or_(Shipment.tracking_number.in_(numbers), Shipment.id.in_(by_parcel))))
    if warehouse_ids is not None:
        stmt = stmt.where(Shipment.warehouse_id.in_(warehouse_ids))
    if channel_id is not None:
        stmt = stmt.where(Order.channel_id == channel_id)
    if carrier_code:
        stmt = stmt.where(Shipment.carrier_code == carrier_code)
    found = list(db.session.scalars(stmt.limit(2)))
    if len(found) > 1:
        raise Conflict(f"Two shipments carry {text}: say which carrier.",
                       errors=[{"field": "carrier", "message": "needed"}])
    if not found:
        raise NotFound(f"No shipment with tracking number {text}.",
                       errors=[{"field": "tracking_number", "message": "unknown"}])
    return found[0]


def mark_delivered(shipment: Shipment, *, at: dt.datetime | None = None) -> tuple[Shipment, bool]:
    """The carrier delivered it: shipment and order DELIVERED, the channel told. (shipment, changed now)."""
    shipment = _lock_shipment(shipment.id)
    if shipment.status == ShipmentStatus.DELIVERED:
        return shipment, False
    if shipment.status != ShipmentStatus.SHIPPED:
        raise Conflict(f"Shipment {shipment.tracking_number} is {shipment.status.value}, not shipped: it cannot have "
                       "been delivered.")
    when = slots.require_aware(at, "delivered_at") if at is not None else utcnow()
    if shipment.shipped_at is not None and when < shipment.shipped_at:
        raise ValidationFailed("A shipment is delivered after it is shipped.",
                               errors=[{"field": "delivered_at", "message": "before shipped_at"}])
    shipment.status, shipment.delivered_at = ShipmentStatus.DELIVERED, when
    db.session.flush()
    _advance_order(shipment.order, OrderStatus.DELIVERED)
    from wms.channels.sync.fulfilments import record_delivered

    record_delivered(shipment)  # a connected platform that can hear it is told too (docs/channels.md)
    return shipment, True
