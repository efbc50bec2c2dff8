"""Packing API (packers and supervisors): start from a tote at a pack station, scan items, box, weigh, finish
with the carrier's label, cancel the label; read a shipment; the boxes."""

from __future__ import annotations

from flask import request

from wms.api.framework import caller as _principal
from wms.api.framework import operation, warehouse_in_scope
from wms.auth.models import User
from wms.db import db
from wms.layout.models import Resource, Warehouse
from wms.outbound import boxes as box_services
from wms.outbound import packing_carrier as carrier_data
from wms.outbound import packing_services as pk
from wms.outbound import schemas as s
from wms.outbound.models import Box, Shipment
from wms.picking.context import ScanContext

TAGS = ["packing"]
ROLES = ("supervisor", "packer")
SUPERVISORS = ("supervisor",)
DEVICE_HEADER = "X-Device-Id"


def _ctx() -> ScanContext | None:
    p = _principal()
    user = db.session.get(User, p.user_id) if p.user_id else None
    if user is None:
        return None
    device = request.headers.get(DEVICE_HEADER, "").strip()[:64] or None
    key = request.headers.get("Idempotency-Key", "").strip() or None
    return ScanContext(user=user, device_id=device, idempotency_key=key)


def _shipment(shipment_id: int, *, lock: bool = True) -> Shipment:
    return pk.get_shipment(shipment_id, _principal().warehouse_ids, lock=lock)


def shipment_out(shipment: Shipment) -> s.PackShipmentOut:
    """The shipment with the pack state: lines, parcels with SSCC and tracking, the open parcel's box and weight."""
    state = pk.pack_state(shipment)
    order = state.order
    warehouse = db.session.get(Warehouse, shipment.warehouse_id)
    station = db.session.get(Resource, shipment.pack_station_id) if shipment.pack_station_id else None
    packer = db.session.get(User, shipment.packed_by_id) if shipment.packed_by_id else None
    suggestion = None
    if state.suggestion is not None:
        suggestion = s.BoxSuggestionOut(box=state.suggestion.box.code if state.suggestion.box else None,
                                        message=state.suggestion.message)
    return s.PackShipmentOut(
        id=shipment.id, warehouse=warehouse.code if warehouse else "", order=order.external_id,
        channel=order.channel.code, order_status=order.status.value, status=shipment.status.value,
        carrier=shipment.carrier_code, tracking_number=shipment.tracking_number,
        carrier_reference=shipment.carrier_reference, tote=shipment.tote,
        pack_station=station.code if station else None, packed_by=packer.username if packer else None,
        created_at=shipment.created_at, labelled_at=shipment.labelled_at,
        lines=[s.PackLineOut(line_no=ln.order_line.line_no, sku=ln.product.sku, name=ln.product.name,
                             barcodes=list(ln.barcodes), to_pack=ln.to_pack, packed=ln.packed) for ln in state.lines],
        parcels=[s.PackParcelOut(seq=p.seq, box=p.box.code if p.box else None, expected_weight_g=p.expected_weight_g,
                             weight_g=p.weight_g, sscc=p.sscc, tracking_number=p.tracking_number,
                             label_print_job_id=p.label_print_job_id,
                             items=[s.ParcelItemOut(sku=pl.product.sku, quantity=pl.quantity) for pl in p.lines])
                 for p in shipment.parcels],
        open_parcel=state.open_parcel.seq if state.open_parcel is not None else None,
        suggested_box=suggestion, expected_weight_g=state.expected_weight_g, complete=state.complete,
        notes=list(state.notes),
    )


def box_out(box: Box) -> s.BoxOut:
    return s.BoxOut(code=box.code, name=box.name, inner_length_mm=box.inner_length_mm,
                    inner_width_mm=box.inner_width_mm, inner_height_mm=box.inner_height_mm,
                    max_weight_g=box.max_weight_g, tare_weight_g=box.tare_weight_g, active=box.active)


@operation("/warehouses/<code>/packing", "POST", summary="Start (or resume) packing the order in a tote",
           tags=TAGS, body=s.PackStartIn, response=s.PackShipmentOut, roles=ROLES, idempotent=True, errors=(409,))
def packing_start(code: str, body: s.PackStartIn) -> s.PackShipmentOut:
    """The picked order whose items are in the tote; refused for an unknown tote, an order not picked, already
    packed, or being packed by someone else."""
    warehouse = warehouse_in_scope(code)
    station = pk.pack_station(body.station, frozenset({warehouse.id}))
    return shipment_out(pk.start_packing(station, body.tote, _ctx()))


@operation("/shipments/<int:shipment_id>", "GET", summary="A shipment: parcels, SSCCs, tracking, pack state",
           tags=TAGS, response=s.PackShipmentOut, roles=ROLES)
def shipment_read(shipment_id: int) -> s.PackShipmentOut:
    """While packing: what is left to scan, the open parcel, the suggested box and the expected weight."""
    return shipment_out(_shipment(shipment_id, lock=False))


@operation("/shipments/<int:shipment_id>/items", "POST", summary="Verify an item by scan into the open parcel",
           tags=TAGS, body=s.PackScanIn, response=s.PackShipmentOut, roles=ROLES, idempotent=True, errors=(409,))
def packing_scan_item(shipment_id: int, body: s.PackScanIn) -> s.PackShipmentOut:
    """An item not in the order (mis-scan) or more units than the order has (over-scan) is refused with 409
    and changes nothing."""
    shipment = _shipment(shipment_id)
    pk.scan_item(shipment, body.code, _ctx(), quantity=body.quantity)
    return shipment_out(shipment)


@operation("/shipments/<int:shipment_id>/box", "POST", summary="Choose the open parcel's box", tags=TAGS,
           body=s.PackBoxIn, response=s.PackShipmentOut, roles=ROLES, idempotent=True, errors=(409,))
def packing_choose_box(shipment_id: int, body: s.PackBoxIn) -> s.PackShipmentOut:
    """Refused (409) when the items do not fit or would weigh more than the box may carry."""
    shipment = _shipment(shipment_id)
    pk.choose_box(shipment, body.box, _ctx())
    return shipment_out(shipment)


@operation("/shipments/<int:shipment_id>/weight", "POST", summary="Weigh the open parcel, which closes it",
           tags=TAGS, body=s.PackWeightIn, response=s.PackShipmentOut, roles=ROLES, idempotent=True, errors=(409,))
def packing_weigh_parcel(shipment_id: int, body: s.PackWeightIn) -> s.PackShipmentOut:
    """Out of tolerance (PACK_WEIGHT_TOLERANCE_G + PACK_WEIGHT_TOLERANCE_PCT % of expected) or over the box's
    limit: 422 with `verdict`, `measured_g`, `expected_g`, `tolerance_g`; the packer checks the contents."""
    shipment = _shipment(shipment_id)
    pk.weigh_parcel(shipment, body.weight_g, _ctx())
    return shipment_out(shipment)


@operation("/shipments/<int:shipment_id>/finish", "POST", summary="Label the shipment with its carrier and print",
           tags=TAGS, body=s.PackFinishIn, response=s.PackShipmentOut, roles=ROLES, idempotent=True,
           errors=(409, 422, 424, 503))
def packing_finish(shipment_id: int, body: s.PackFinishIn) -> s.PackShipmentOut:
    """Tracking numbers and SSCCs per parcel, the label queued at the pack station's printer, the order packed
    and its channel told (webhook with the tracking numbers).

    A carrier error is a problem in the packer's language with the carrier's own words in `carrier_detail`; the
    shipment stays `packing` with nothing labelled or printed. 422 `pack-label-refused` /
    `pack-relay-point-invalid`: the carrier refused the data, the order is held for a supervisor (`held: true`);
    422 `pack-customs-data-missing`: products lack what the CN23 needs (SKUs and fields named); 424
    `pack-carrier-failed`: the carrier could not be reached, refused our access or answered something unusable
    (try again)."""
    shipment = _shipment(shipment_id)
    try:
        pk.finish_packing(shipment, _ctx(), carrier_code=body.carrier)
    except carrier_data.LabelRefused as err:
        carrier_data.hold_after_refusal(err)  # rolls the request back, then commits the hold alone
        raise
    return shipment_out(shipment)


@operation("/shipments/<int:shipment_id>/cancel-label", "POST", summary="Cancel the carrier label: back to packing",
           tags=TAGS, response=s.PackShipmentOut, roles=ROLES, idempotent=True, errors=(409, 502, 503))
def shipment_cancel_label(shipment_id: int) -> s.PackShipmentOut:
    """Only before the parcels are staged; the parcels keep their contents, box and weight."""
    shipment = _shipment(shipment_id)
    pk.cancel_label(shipment, _ctx())
    return shipment_out(shipment)


@operation("/boxes", "GET", summary="Shipping boxes", tags=TAGS, query=s.BoxesQuery, response=list[s.BoxOut],
           roles=ROLES)
def boxes_list(query: s.BoxesQuery) -> list[s.BoxOut]:
    """Active boxes by code; `include_inactive` adds retired ones."""
    return [box_out(b) for b in box_services.list_boxes(include_inactive=query.include_inactive)]


@operation("/boxes", "POST", summary="Add a shipping box", tags=TAGS, body=s.BoxIn, response=s.BoxOut,
           status=201, roles=SUPERVISORS, idempotent=True, errors=(409,))
def box_create(body: s.BoxIn) -> s.BoxOut:
    """Inner dimensions in mm, gross weight limit and empty weight in grams."""
    return box_out(box_services.create_box(
        body.code, body.name, body.inner_length_mm, body.inner_width_mm, body.inner_height_mm,
        max_weight_g=body.max_weight_g, tare_weight_g=body.tare_weight_g))


@operation("/boxes/<code>", "PATCH", summary="Change or retire a shipping box", tags=TAGS, body=s.BoxPatchIn,
           response=s.BoxOut, roles=SUPERVISORS, idempotent=True)
def box_update(code: str, body: s.BoxPatchIn) -> s.BoxOut:
    """Fields left out stay as they are; `active: false` retires the box."""
    box = box_services.get_box(code)
    return box_out(box_services.update_box(box, **body.model_dump(exclude_none=True)))
