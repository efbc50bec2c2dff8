"""Packing on the handheld (packers): /hh/pack and its JSON calls under /hh/api/pack.

Scan the pack station once, then per order: the tote → every unit verified by scan → box → weight typed from the
scale → the carrier label prints at this station's printer → tracking shown. Mutating calls go through ``hh_api``
(one application per Idempotency-Key). A refused step answers the problem document (409/422) and changes
nothing; the refusal itself is written to the audit trail (ScanEvent, flow ``pack``) in its own transaction,
since the request's own transaction is rolled back.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, render_template
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError

from handheld import bp
from handheld.api import _context, hh_api
from wms.auth.models import User
from wms.auth.setup import page_requires
from wms.db import db
from wms.enums import Role
from wms.errors import DomainError
from wms.outbound import boxes as box_services
from wms.outbound import packing_carrier as carrier_data
from wms.outbound import packing_services as pk
from wms.outbound.api import box_out, shipment_out
from wms.outbound.models import Shipment
from wms.picking.models import ScanEvent, ScanOutcome
from wms.printing.models import Printer, PrintJob

PACKERS = (Role.PACKER, Role.SUPERVISOR)
log = logging.getLogger(__name__)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PackStartIn(_Body):
    station: str = Field(min_length=1, max_length=32)
    tote: str = Field(min_length=1, max_length=32)


class PackItemIn(_Body):
    code: str = Field(min_length=1, max_length=64)
    quantity: int = Field(default=1, ge=1, le=10_000)


class PackBoxIn(_Body):
    box: str = Field(min_length=1, max_length=32)


class PackWeightIn(_Body):
    weight_g: int = Field(ge=1, le=1_000_000)


class PackFinishIn(_Body):
    pass


@bp.get("/pack")
@page_requires(("packer", "supervisor"))
def pack():  # type: ignore[no-untyped-def]
    """The packing screen."""
    return render_template("handheld/pack.html")


def _out(shipment: Shipment, message: str = "") -> dict[str, Any]:
    body = shipment_out(shipment).model_dump(mode="json")
    printer = None
    job_id = next((p.label_print_job_id for p in shipment.parcels if p.label_print_job_id), None)
    if job_id is not None:
        job = db.session.get(PrintJob, job_id)
        found = db.session.get(Printer, job.printer_id) if job else None
        printer = found.code if found else None
    body["label_printer"] = printer
    return {"shipment": body, "message": message}


def _audited(user: User, step: str, code: str, shipment_id: int | None, run: Any) -> Any:
    """Run a step; on a refusal, write the refused ScanEvent in its own transaction, then refuse."""
    ctx = _context(user)
    try:
        return run(ctx)
    except DomainError as err:
        db.session.rollback()  # the request is refused anyway; free its locks (SQLite: its write lock) first
        session = current_app.extensions["wms.db"]()
        try:
            warehouse_id = None
            if shipment_id is not None:
                shipment = session.get(Shipment, shipment_id)
                warehouse_id = shipment.warehouse_id if shipment else None
            if warehouse_id is None:
                warehouse_id = next(iter(sorted(user.warehouse_ids or ())), None)
            if warehouse_id is not None:
                session.add(ScanEvent(warehouse_id=warehouse_id, user_id=user.id, device_id=ctx.device_id,
                                      idempotency_key=ctx.idempotency_key, flow=pk.FLOW, step=step,
                                      code=code[:200] or None, outcome=ScanOutcome.REFUSED, message=err.detail,
                                      data={"problem": err.slug, "shipment_id": shipment_id}))
                session.commit()
        except SQLAlchemyError:
            log.exception("could not record the refused pack scan")
        finally:
            session.close()
        raise


def _shipment(user: User, shipment_id: int) -> Shipment:
    return pk.get_shipment(shipment_id, user.warehouse_ids, lock=True)


@hh_api("/pack/boxes", "GET", roles=PACKERS)
def pack_boxes(user: User) -> dict[str, Any]:
    """The boxes in use, smallest first."""
    boxes = sorted(box_services.list_boxes(),
                   key=lambda b: (b.inner_length_mm * b.inner_width_mm * b.inner_height_mm, b.code))
    return {"boxes": [box_out(b).model_dump() for b in boxes]}


@hh_api("/pack/start", "POST", roles=PACKERS, body=PackStartIn)
def pack_start(user: User, body: PackStartIn) -> dict[str, Any]:
    """The tote scanned at a pack station: the order to pack (or the one I was packing)."""
    def run(ctx: Any) -> dict[str, Any]:
        station = pk.pack_station(body.station, user.warehouse_ids)
        shipment = pk.start_packing(station, body.tote, ctx)
        return _out(shipment, f"Tote {body.tote.strip()}: order {shipment.order.external_id}.")
    return _audited(user, "tote", body.tote, None, run)


@hh_api("/pack/<int:shipment_id>", "GET", roles=PACKERS)
def pack_read(user: User, shipment_id: int) -> dict[str, Any]:
    """The shipment being packed, with what is left."""
    return _out(pk.get_shipment(shipment_id, user.warehouse_ids))


@hh_api("/pack/<int:shipment_id>/items", "POST", roles=PACKERS, body=PackItemIn)
def pack_item(user: User, shipment_id: int, body: PackItemIn) -> dict[str, Any]:
    """One item scanned (mis-scan and over-scan refused)."""
    def run(ctx: Any) -> dict[str, Any]:
        shipment = _shipment(user, shipment_id)
        line = pk.scan_item(shipment, body.code, ctx, quantity=body.quantity)
        return _out(shipment, f"{line.product.sku}: {line.packed}/{line.to_pack}")
    return _audited(user, "item", body.code, shipment_id, run)


@hh_api("/pack/<int:shipment_id>/box", "POST", roles=PACKERS, body=PackBoxIn)
def pack_box(user: User, shipment_id: int, body: PackBoxIn) -> dict[str, Any]:
    """The box of the open parcel."""
    def run(ctx: Any) -> dict[str, Any]:
        shipment = _shipment(user, shipment_id)
        parcel = pk.choose_box(shipment, body.box, ctx)
        return _out(shipment, f"Box {body.box.strip()}: parcel {parcel.seq}.")
    return _audited(user, "box", body.box, shipment_id, run)


@hh_api("/pack/<int:shipment_id>/weight", "POST", roles=PACKERS, body=PackWeightIn)
def pack_weight(user: User, shipment_id: int, body: PackWeightIn) -> dict[str, Any]:
    """The weight typed from the scale; out of tolerance is refused with the figures."""
    def run(ctx: Any) -> dict[str, Any]:
        shipment = _shipment(user, shipment_id)
        check = pk.weigh_parcel(shipment, body.weight_g, ctx)
        return _out(shipment, check.message if check else f"{body.weight_g} g")
    return _audited(user, "weight", str(body.weight_g), shipment_id, run)


@hh_api("/pack/<int:shipment_id>/finish", "POST", roles=PACKERS, body=PackFinishIn)
def pack_finish(user: User, shipment_id: int, body: PackFinishIn) -> dict[str, Any]:
    """Everything packed: carrier label, printed at this station."""
    def run(ctx: Any) -> dict[str, Any]:
        shipment = _shipment(user, shipment_id)
        try:
            pk.finish_packing(shipment, ctx)
        except carrier_data.LabelRefused as err:
            carrier_data.hold_after_refusal(err)  # the order held for a supervisor, committed after the rollback
            raise
        return _out(shipment, f"Tracking {shipment.tracking_number}.")
    return _audited(user, "label", "", shipment_id, run)


@hh_api("/pack/<int:shipment_id>/cancel-label", "POST", roles=PACKERS, body=PackFinishIn)
def pack_cancel_label(user: User, shipment_id: int, body: PackFinishIn) -> dict[str, Any]:
    """Cancel the label (wrong label, damaged parcel): back to packing."""
    def run(ctx: Any) -> dict[str, Any]:
        shipment = _shipment(user, shipment_id)
        pk.cancel_label(shipment, ctx)
        return _out(shipment, "Label cancelled.")
    return _audited(user, "cancel", "", shipment_id, run)
