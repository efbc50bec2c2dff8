"""Supervisor page of the shipping dock: the doors' pick-ups of a day as a timeline, parcels staged per carrier,
print the manifest, the truck's departure, manifests with reprint."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from wms.db import db, utcnow
from wms.enums import ResourceKind, ZoneKind
from wms.errors import DomainError, ValidationFailed
from wms.layout.models import Location, Resource, Warehouse, Zone
from wms.outbound import dock
from wms.outbound.models import CarrierPickup
from wms.supervisor.views import supervisor_only, warehouse_in_scope
from wms.waves import slots
from wms.waves.models import TimeSlot
from wms.waves.timeline import Bar, Row, timeline_svg

bp = Blueprint("shipping_dock", __name__)


def _day(wh: Warehouse) -> dt.date:
    raw = (request.args.get("day") or "").strip()
    if raw:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            flash(_("The day was not understood; showing today."), "warning")
    return dock.local_day(wh)


def _local_input(value: str, tz: dt.tzinfo, field: str) -> dt.datetime:
    """A datetime-local form value (warehouse time) as aware UTC."""
    try:
        naive = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationFailed(_("%(field)s is not a date and time.", field=field)) from None
    return slots.require_aware(naive.replace(tzinfo=tz) if naive.tzinfo is None else naive, field)


def _attempt(action: Callable[[], Any], success: Callable[[Any], str], back: str) -> Response:
    """Run a mutating service call; on refusal roll everything back and show why (a redirect would commit)."""
    try:
        result = action()
    except DomainError as err:
        db.session.rollback()
        reasons = "; ".join(f"{e['field']}: {e['message']}" for e in err.errors if "field" in e)
        flash(f"{err.detail} {reasons}".strip(), "error")
        return redirect(back)
    flash(success(result), "success")
    return redirect(back)


def _doors(wh: Warehouse) -> list[Resource]:
    return list(db.session.scalars(
        select(Resource).join(Zone, Zone.id == Resource.zone_id)
        .where(Resource.warehouse_id == wh.id, Resource.kind == ResourceKind.DOCK_DOOR,
               Zone.kind == ZoneKind.SHIP_DOCK).order_by(Resource.code)))


def door_picture(wh: Warehouse, day: dt.date, doors: list[Resource]) -> Markup:
    """The shipping doors' bookings of the day: an hour around what is booked (at least six hours), else 06–22."""
    tz = slots.warehouse_zone(wh)
    day_start, day_end = dock.day_window(wh, day)
    found = slots.slots_between(wh, day_start, day_end, [d.id for d in doors]) if doors else []
    start = dt.datetime.combine(day, dt.time(6), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day, dt.time(22), tzinfo=tz).astimezone(dt.UTC)
    if found:
        hour = dt.timedelta(hours=1)
        start = max(day_start, min(s.starts_at for s in found) - hour)
        end = min(day_end, max(max(s.ends_at for s in found) + hour, start + 6 * hour))
    codes = {d.id: d.code for d in doors}
    bars = [Bar(slot_id=s.id, resource=codes[s.resource_id], start=s.starts_at, end=s.ends_at, kind=s.kind.value,
                label=s.label or s.kind.value, title=f"{s.label} · {slots.format_span(s.starts_at, s.ends_at, tz)}")
            for s in found]
    rows = [Row(d.code, d.name or d.code, _("Shipping doors")) for d in doors]
    svg = timeline_svg(rows, bars, start, end, now=utcnow(), tz=tz, now_label=_("now"))
    return Markup(svg)  # noqa: S704  (every text in it is escaped by wms.waves.timeline)


def _pickup_rows(wh: Warehouse, day: dt.date) -> list[dict[str, Any]]:
    tz = slots.warehouse_zone(wh)
    rows = []
    for pickup in dock.pickups_of_day(wh, day):
        slot = db.session.get(TimeSlot, pickup.time_slot_id)
        door = db.session.get(Resource, pickup.dock_resource_id)
        rows.append({"pickup": pickup, "door": door.code if door else "", "slot": slot,
                     "span": slots.format_span(slot.starts_at, slot.ends_at, tz) if slot else "",
                     "manifest": pickup.manifest})
    return rows


def _staged_by_carrier(wh: Warehouse) -> dict[str, list[dict[str, Any]]]:
    names = {loc.id: loc.code for loc in db.session.scalars(select(Location).where(Location.warehouse_id == wh.id,
                                                                                    Location.rack_id.is_(None)))}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for shipment in dock.staged_shipments(wh):
        staged = [p for p in shipment.parcels if p.staged_location_id is not None]
        grouped.setdefault(shipment.carrier_code, []).append({
            "shipment": shipment, "order": shipment.order.external_id, "staged": len(staged),
            "parcels": len(shipment.parcels),
            "places": sorted({names.get(p.staged_location_id, "?") for p in staged})})
    return grouped


@bp.get("/warehouses/<code>/shipping")
@supervisor_only
def shipping_dock(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    day = _day(wh)
    tz = slots.warehouse_zone(wh)
    doors = _doors(wh)
    from wms.outbound.carriers_registry import carrier_codes

    staged = _staged_by_carrier(wh)
    pickups = _pickup_rows(wh, day)
    open_pickups = [r for r in pickups if r["pickup"].status.value == "booked"]
    default_start = dt.datetime.combine(day, dt.time(17), tzinfo=tz)
    return render_template(
        "supervisor/shipping/dock.html", warehouse=wh, day=day, tz_name=str(tz), doors=doors,
        picture=door_picture(wh, day, doors), pickups=pickups, open_pickups=open_pickups, staged=staged,
        manifests=dock.manifests_of(wh, day=day), carriers=carrier_codes(),
        default_start=default_start.strftime("%Y-%m-%dT%H:%M"),
        default_end=(default_start + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
        previous_day=(day - dt.timedelta(days=1)).isoformat(), next_day=(day + dt.timedelta(days=1)).isoformat())


def _back(wh: Warehouse) -> str:
    day = (request.form.get("day") or "").strip()
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        day = ""
    return url_for("shipping_dock.shipping_dock", code=wh.code, **({"day": day} if day else {}))


@bp.post("/warehouses/<code>/shipping/pickups")
@supervisor_only
def book_pickup(code: str) -> Response:
    wh = warehouse_in_scope(code)
    tz = slots.warehouse_zone(wh)

    def act() -> CarrierPickup:
        start = _local_input(request.form.get("starts_at", ""), tz, _("start"))
        end = _local_input(request.form.get("ends_at", ""), tz, _("end"))
        return dock.book_pickup(wh, request.form.get("carrier", ""), request.form.get("door", ""), start, end,
                                created_by_id=current_user.id)

    return _attempt(act, lambda p: _("Pick-up booked for %(carrier)s.", carrier=p.carrier_code), _back(wh))


def _pickup_in(wh: Warehouse, pickup_id: int) -> CarrierPickup:
    return dock.get_pickup(pickup_id, frozenset({wh.id}), lock=True)


@bp.post("/warehouses/<code>/shipping/pickups/<int:pickup_id>/cancel")
@supervisor_only
def cancel_pickup(code: str, pickup_id: int) -> Response:
    wh = warehouse_in_scope(code)
    return _attempt(lambda: dock.cancel_pickup(_pickup_in(wh, pickup_id)),
                    lambda p: _("Pick-up %(id)s cancelled; the door is free.", id=p.id), _back(wh))


@bp.post("/warehouses/<code>/shipping/pickups/<int:pickup_id>/depart")
@supervisor_only
def depart_pickup(code: str, pickup_id: int) -> Response:
    wh = warehouse_in_scope(code)
    return _attempt(lambda: dock.depart_pickup(_pickup_in(wh, pickup_id)),
                    lambda r: _("The truck left; shipments shipped: %(count)s.",
                                count=len(r.shipments)), _back(wh))


@bp.post("/warehouses/<code>/shipping/manifests")
@supervisor_only
def print_manifest(code: str) -> Response:
    wh = warehouse_in_scope(code)

    def act() -> dock.ManifestResult:
        raw = (request.form.get("pickup_id") or "").strip()
        pickup = _pickup_in(wh, int(raw)) if raw.isdigit() else None
        return dock.create_manifest(wh, request.form.get("carrier", ""), pickup=pickup,
                                    created_by_id=current_user.id)

    def said(result: dock.ManifestResult) -> str:
        return _("Manifest %(reference)s: %(count)s parcels. %(printing)s", reference=result.manifest.reference,
                 count=result.manifest.parcel_count, printing=result.print_message)

    return _attempt(act, said, _back(wh))


@bp.post("/warehouses/<code>/shipping/manifests/<int:manifest_id>/reprint")
@supervisor_only
def reprint_manifest(code: str, manifest_id: int) -> Response:
    wh = warehouse_in_scope(code)
    return _attempt(lambda: dock.reprint_manifest(dock.get_manifest(manifest_id, frozenset({wh.id})),
                                                  created_by_id=current_user.id),
                    lambda r: _("Manifest %(reference)s sent again. %(printing)s", reference=r.manifest.reference,
                                printing=r.print_message), _back(wh))

