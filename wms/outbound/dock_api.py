"""Shipping dock API: stage parcels to a door's sas, book carrier pick-ups, print manifests, departure, delivery."""

from __future__ import annotations

from flask import Response

from wms.api.framework import caller as _principal
from wms.api.framework import operation
from wms.api.framework import warehouse_in_scope as _warehouse
from wms.db import db
from wms.errors import Forbidden
from wms.layout.models import Location, Resource
from wms.outbound import dock
from wms.outbound import dock_schemas as s
from wms.outbound.models import CarrierPickup, Manifest, Parcel, Shipment
from wms.waves.models import TimeSlot

ROLES = ("supervisor",)
STAGING_ROLES = ("supervisor", "packer")
TAGS = ["shipping dock"]


def parcel_out(parcel: Parcel) -> s.ParcelOut:
    location = db.session.get(Location, parcel.staged_location_id) if parcel.staged_location_id else None
    return s.ParcelOut(seq=parcel.seq, sscc=parcel.sscc, tracking_number=parcel.tracking_number,
                       weight_g=parcel.weight_g, staged_location=location.code if location else None,
                       staged_at=parcel.staged_at)


def shipment_out(shipment: Shipment) -> s.ShipmentOut:
    order = shipment.order
    return s.ShipmentOut(id=shipment.id, order=order.external_id, channel=order.channel.code,
                         carrier=shipment.carrier_code, status=shipment.status.value,
                         tracking_number=shipment.tracking_number, pickup_id=shipment.pickup_id,
                         manifest_id=shipment.manifest_id, shipped_at=shipment.shipped_at,
                         delivered_at=shipment.delivered_at, parcels=[parcel_out(p) for p in shipment.parcels])


def pickup_out(pickup: CarrierPickup) -> s.PickupOut:
    door = db.session.get(Resource, pickup.dock_resource_id)
    slot = db.session.get(TimeSlot, pickup.time_slot_id) if pickup.time_slot_id else None
    return s.PickupOut(id=pickup.id, carrier=pickup.carrier_code, door=door.code if door else "",
                       status=pickup.status.value, starts_at=slot.starts_at if slot else None,
                       ends_at=slot.ends_at if slot else None, slot_id=pickup.time_slot_id,
                       label=slot.label if slot else None, manifest_id=pickup.manifest_id,
                       departed_at=pickup.departed_at, created_at=pickup.created_at)


def manifest_out(manifest: Manifest, result: dock.ManifestResult | None = None) -> s.ManifestOut:
    shipments = result.shipments if result is not None else dock.manifest_shipments(manifest)
    numbers = [p.tracking_number or "" for sh in shipments for p in sh.parcels]
    if result is None:
        message = "Printed." if manifest.print_job_id else "Not printed yet."
    else:
        message = result.print_message
    return s.ManifestOut(id=manifest.id, reference=manifest.reference, carrier=manifest.carrier_code,
                         day=manifest.day, parcel_count=manifest.parcel_count,
                         total_weight_g=manifest.total_weight_g, print_job_id=manifest.print_job_id,
                         printed=result is not None and result.print_job is not None, print_message=message,
                         tracking_numbers=numbers, created_at=manifest.created_at)


@operation("/warehouses/<code>/dock/staging", "POST", summary="Scan a parcel into a shipping sas",
           tags=TAGS, body=s.StagingIn, response=s.StagingOut, roles=STAGING_ROLES, idempotent=True,
           errors=(404, 409))
def dock_stage_parcel(code: str, body: s.StagingIn) -> s.StagingOut:
    """The shipment becomes `staged` when its last parcel is scanned in. Refused: an unknown parcel (404), a
    parcel of a cancelled or unlabelled shipment (409), a location outside a shipping dock or sas zone (422)."""
    warehouse = _warehouse(code)
    result = dock.stage_parcel(warehouse, body.parcel, body.location)
    done = sum(1 for p in result.shipment.parcels if p.staged_location_id is not None)
    total = len(result.shipment.parcels)
    message = (f"Shipment {result.shipment.tracking_number} is staged." if result.shipment_staged
               else f"{done} of {total} parcels staged.")
    return s.StagingOut(parcel=parcel_out(result.parcel), shipment=shipment_out(result.shipment),
                        location=result.location.code, moved=result.moved, shipment_staged=result.shipment_staged,
                        message=message)


@operation("/warehouses/<code>/dock/staged", "GET", summary="Shipments waiting in the shipping sas",
           tags=TAGS, query=s.StagedQuery, response=list[s.ShipmentOut], roles=ROLES)
def dock_list_staged(code: str, query: s.StagedQuery) -> list[s.ShipmentOut]:
    """Staged shipments, and labelled ones with some parcels staged, by carrier."""
    return [shipment_out(sh) for sh in dock.staged_shipments(_warehouse(code), query.carrier)]


@operation("/warehouses/<code>/pickups", "POST", summary="Book a carrier pick-up at a shipping door",
           tags=TAGS, body=s.PickupIn, response=s.PickupOut, status=201, roles=ROLES, idempotent=True,
           errors=(404, 409))
def dock_book_pickup(code: str, body: s.PickupIn) -> s.PickupOut:
    """Books the door (a `dock` time slot labelled with the carrier). A slot overlapping another booking of the
    door is refused with 409 naming it; back-to-back is fine."""
    warehouse = _warehouse(code)
    pickup = dock.book_pickup(warehouse, body.carrier, body.door, body.starts_at, body.ends_at,
                              created_by_id=_principal().user_id)
    return pickup_out(pickup)


@operation("/warehouses/<code>/pickups", "GET", summary="Pick-ups of a day", tags=TAGS, query=s.PickupsQuery,
           response=list[s.PickupOut], roles=ROLES)
def dock_list_pickups(code: str, query: s.PickupsQuery) -> list[s.PickupOut]:
    """Booked and departed pick-ups whose slot overlaps the warehouse's local day (today by default)."""
    warehouse = _warehouse(code)
    return [pickup_out(p) for p in dock.pickups_of_day(warehouse, query.day or dock.local_day(warehouse))]


@operation("/pickups/<int:pickup_id>", "GET", summary="A pick-up", tags=TAGS, response=s.PickupOut, roles=ROLES)
def dock_read_pickup(pickup_id: int) -> s.PickupOut:
    """Its door, slot, status and manifest."""
    return pickup_out(dock.get_pickup(pickup_id, _principal().warehouse_ids))


@operation("/pickups/<int:pickup_id>/cancel", "POST", summary="Cancel a pick-up and free the door",
           tags=TAGS, response=s.PickupOut, roles=ROLES, idempotent=True, errors=(404, 409))
def dock_cancel_pickup(pickup_id: int) -> s.PickupOut:
    """Shipments already manifested for it go with the carrier's next truck. A departed pick-up is refused."""
    pickup = dock.get_pickup(pickup_id, _principal().warehouse_ids, lock=True)
    return pickup_out(dock.cancel_pickup(pickup))


@operation("/pickups/<int:pickup_id>/depart", "POST", summary="The truck left: its shipments are shipped",
           tags=TAGS, response=s.DepartureOut, roles=ROLES, idempotent=True, errors=(404, 409))
def dock_depart_pickup(pickup_id: int) -> s.DepartureOut:
    """The carrier's manifested shipments (of this pick-up or of none) become `shipped`, their orders too, and
    each channel gets `order.status_changed` with the tracking numbers. Nothing manifested: 409."""
    pickup = dock.get_pickup(pickup_id, _principal().warehouse_ids, lock=True)
    result = dock.depart_pickup(pickup)
    return s.DepartureOut(pickup=pickup_out(result.pickup), shipments=[shipment_out(sh) for sh in result.shipments],
                          departed_now=result.departed_now)


@operation("/warehouses/<code>/manifests", "POST", summary="Print a carrier's end-of-day manifest",
           tags=TAGS, body=s.ManifestIn, response=s.ManifestOut, status=201, roles=ROLES, idempotent=True,
           errors=(404, 409))
def dock_create_manifest(code: str, body: s.ManifestIn) -> s.ManifestOut:
    """Takes every staged shipment of the carrier, marks them `manifested` and prints the manifest at the shipping
    dock. Nothing staged: 409. Without a printer the manifest is still made; `printed` is false and
    `print_message` says why."""
    warehouse = _warehouse(code)
    pickup = None
    if body.pickup_id is not None:
        pickup = dock.get_pickup(body.pickup_id, frozenset({warehouse.id}), lock=True)
    result = dock.create_manifest(warehouse, body.carrier, day=body.day, pickup=pickup,
                                  created_by_id=_principal().user_id)
    return manifest_out(result.manifest, result)


@operation("/warehouses/<code>/manifests", "GET", summary="Manifests, newest first", tags=TAGS,
           query=s.ManifestsQuery, response=list[s.ManifestOut], roles=ROLES)
def dock_list_manifests(code: str, query: s.ManifestsQuery) -> list[s.ManifestOut]:
    """Filter by `day` and `carrier`."""
    warehouse = _warehouse(code)
    return [manifest_out(m) for m in dock.manifests_of(warehouse, day=query.day, carrier_code=query.carrier)]


@operation("/manifests/<int:manifest_id>", "GET", summary="A manifest", tags=TAGS, response=s.ManifestOut,
           roles=ROLES)
def dock_read_manifest(manifest_id: int) -> s.ManifestOut:
    """Its figures and tracking numbers."""
    return manifest_out(dock.get_manifest(manifest_id, _principal().warehouse_ids))


@operation("/manifests/<int:manifest_id>/document", "GET", summary="The manifest document as printed", tags=TAGS,
           roles=ROLES)
def dock_read_manifest_document(manifest_id: int) -> Response:
    """ZPL for the built-in carriers (`application/vnd.zebra.zpl`), the carrier's PDF otherwise."""
    manifest = dock.get_manifest(manifest_id, _principal().warehouse_ids)
    payload, content_type = dock.manifest_document(manifest)
    return Response(payload, mimetype=content_type)


@operation("/manifests/<int:manifest_id>/reprint", "POST", summary="Print a manifest again", tags=TAGS,
           response=s.ManifestOut, roles=ROLES, idempotent=True, errors=(404, 409))
def dock_reprint_manifest(manifest_id: int) -> s.ManifestOut:
    """A new print job at the shipping dock; 409 when no printer can take it."""
    manifest = dock.get_manifest(manifest_id, _principal().warehouse_ids)
    result = dock.reprint_manifest(manifest, created_by_id=_principal().user_id)
    return manifest_out(manifest, result)


@operation("/shipments/delivered", "POST", summary="The carrier delivered a shipment", tags=TAGS,
           body=s.DeliveredIn, response=s.ShipmentOut, roles=ROLES, purposes=("channel",), idempotent=True,
           errors=(404, 409))
def dock_shipment_delivered(body: s.DeliveredIn) -> s.ShipmentOut:
    """By tracking number (master or parcel, or SSCC): shipment and order become `delivered` and the channel gets
    `order.status_changed`. A channel token reaches only its own orders. Not shipped yet: 409; again: 200."""
    p = _principal()
    if p.is_machine and p.channel_id is None:
        raise Forbidden("Only a channel's token can report a delivery.")
    shipment = dock.find_shipment(body.tracking_number, warehouse_ids=p.warehouse_ids,
                                  channel_id=p.channel_id if p.is_machine else None, carrier_code=body.carrier)
    shipment, _changed = dock.mark_delivered(shipment, at=body.delivered_at)
    return shipment_out(shipment)
