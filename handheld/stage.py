"""Staging on the handheld (packers, supervisors): /hh/stage scans the shipping sas once, then each parcel (SSCC or
tracking number) into it; the shipment is staged when its last parcel is there. The call /hh/api/stage goes
through ``hh_api`` (one application per Idempotency-Key); a refusal answers the problem document and changes
nothing."""

from __future__ import annotations

from typing import Any

from flask import render_template
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from handheld import bp
from handheld.api import hh_api
from wms.auth.models import User
from wms.auth.setup import page_requires
from wms.db import db
from wms.enums import Role
from wms.errors import Conflict, NotFound
from wms.layout.models import Location, Warehouse
from wms.outbound import dock

STAGERS = (Role.PACKER, Role.SUPERVISOR)


class StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: str = Field(min_length=1, max_length=32, description="the shipping sas, e.g. SHIP-01")
    parcel: str = Field(min_length=1, max_length=80, description="SSCC in any scan form, or tracking number")


@bp.get("/stage")
@page_requires(("packer", "supervisor"))
def stage():  # type: ignore[no-untyped-def]
    """The staging screen: scan the shipping sas, then the parcels put there."""
    return render_template("handheld/stage.html")


def _warehouse_of(user: User, code: str) -> Warehouse:
    """The warehouse (among the user's) that has a location with this code."""
    stmt = select(Location.warehouse_id).where(Location.code == code.strip())
    if user.warehouse_ids is not None:
        stmt = stmt.where(Location.warehouse_id.in_(user.warehouse_ids))
    found = list(db.session.scalars(stmt.limit(2)))
    if not found:
        raise NotFound(f"No location {code.strip()} in your warehouses.",
                       errors=[{"field": "location", "message": "unknown"}])
    if len(found) > 1:
        raise Conflict(f"Several of your warehouses have a location {code.strip()}: stage from the supervisor page.")
    return db.session.get(Warehouse, found[0])


@hh_api("/stage", "POST", roles=STAGERS, body=StageIn)
def stage_scan(user: User, body: StageIn) -> dict[str, Any]:
    """Scan one parcel into the shipping sas."""
    result = dock.stage_parcel(_warehouse_of(user, body.location), body.parcel, body.location)
    shipment = result.shipment
    done = sum(1 for p in shipment.parcels if p.staged_location_id is not None)
    return {"location": result.location.code, "parcel": result.parcel.sscc or result.parcel.tracking_number,
            "tracking_number": shipment.tracking_number, "carrier": shipment.carrier_code,
            "order": shipment.order.external_id, "staged": done, "parcels": len(shipment.parcels),
            "shipment_staged": result.shipment_staged, "moved": result.moved, "status": shipment.status.value}
