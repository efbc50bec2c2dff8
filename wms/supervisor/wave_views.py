"""Supervisor pages for waves: choose orders, preview the plan, the timeline per resource, move slots, release."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from wms.db import db, utcnow
from wms.enums import Face, ResourceKind, ZoneKind
from wms.errors import DomainError, ValidationFailed
from wms.layout.models import Aisle, Resource, Warehouse, Zone
from wms.orders.models import Channel, Order, OrderLine
from wms.supervisor.views import bp, supervisor_only, warehouse_in_scope
from wms.waves import services, slots
from wms.waves.models import PickOrder, PickOrderLine, SlotKind, TimeSlot, Wave, WaveStatus
from wms.waves.params import METHODS, WaveParams
from wms.waves.timeline import Bar, Row, timeline_svg

MAX_LISTED_ORDERS = 500
DEFAULT_HOURS = 12


def _local_input(value: str, tz: dt.tzinfo, field: str) -> dt.datetime | None:
    """A datetime-local form value (warehouse time) as aware UTC; empty → None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("%(field)s is not a date and time.", field=field)) from None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=tz)
    return slots.require_aware(naive, field)


def _as_input(moment: dt.datetime | None, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _wave_in_scope(wave_id: int) -> Wave:
    return services.get_wave(wave_id, current_user.warehouse_ids)


def _attempt(action: Callable[[], Any], success: str, back: str) -> Response:
    """Run a mutating service call; on refusal roll everything back and show why (a redirect would commit)."""
    try:
        action()
    except DomainError as err:
        db.session.rollback()
        reasons = "; ".join(f"{e['field']}: {e['message']}" for e in err.errors if "field" in e)
        flash(f"{err.detail} {reasons}".strip(), "error")
        return redirect(back)
    flash(success, "success")
    return redirect(back)


def _number(name: str, cast: Callable[[str], Any]) -> Any:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return cast(raw)
    except ValueError:
        raise ValidationFailed(_("%(field)s must be a number.", field=name)) from None


def _params_from_form(base: dict[str, Any] | None = None) -> WaveParams:
    data = dict(base or {})
    for name, cast in (("cart_items", int), ("cart_orders", int), ("walk_speed_m_s", float),
                       ("pick_aisle_spacing_m", float)):
        value = _number(name, cast)
        if value is not None:
            data[name] = value
    if request.form.get("method"):
        data["method"] = request.form["method"]
    return WaveParams.from_dict(data)


# --- timeline ------------------------------------------------------------------------------------------------

def timeline_rows(wh: Warehouse) -> list[Row]:
    """Each rack zone's pick then replenish aisles, then pack stations, sas and dock doors."""
    zones = list(db.session.scalars(select(Zone).where(Zone.warehouse_id == wh.id).order_by(Zone.seq, Zone.code)))
    resources = list(db.session.scalars(select(Resource).where(Resource.warehouse_id == wh.id)
                                        .order_by(Resource.code)))
    aisles = {a.id: a for a in db.session.scalars(select(Aisle).join(Zone, Zone.id == Aisle.zone_id)
                                                  .where(Zone.warehouse_id == wh.id))}
    face_name = {Face.PICK: _("pick aisle"), Face.REPLENISH: _("replenish aisle")}
    rows: list[Row] = []
    for zone in zones:
        if zone.kind != ZoneKind.RACK:
            continue
        own = [r for r in resources if r.kind == ResourceKind.AISLE and r.aisle_id in aisles
               and aisles[r.aisle_id].zone_id == zone.id]
        own.sort(key=lambda r: (aisles[r.aisle_id].face != Face.PICK, aisles[r.aisle_id].seq))
        rows += [Row(r.code, f"{aisles[r.aisle_id].code} · {face_name[aisles[r.aisle_id].face]}",
                     _("Zone %(code)s", code=zone.code)) for r in own]
    groups = ((ResourceKind.PACK_STATION, _("Pack stations")), (ResourceKind.SAS, _("Sas")),
              (ResourceKind.DOCK_DOOR, _("Docks")))
    for kind, title in groups:
        rows += [Row(r.code, r.name or r.code, title) for r in resources if r.kind == kind]
    return rows


def timeline_picture(wh: Warehouse, start: dt.datetime, end: dt.datetime,
                     wave: Wave | None = None) -> tuple[Markup, list[TimeSlot]]:
    """The SVG timeline of the warehouse in [start, end) and the slots drawn in it."""
    tz = slots.warehouse_zone(wh)
    found = slots.slots_between(wh, start, end)
    codes = {r.id: r.code for r in db.session.scalars(select(Resource).where(Resource.warehouse_id == wh.id))}
    bars = [Bar(slot_id=s.id, resource=codes.get(s.resource_id, ""), start=s.starts_at, end=s.ends_at,
                kind=s.kind.value, label=s.label or s.kind.value,
                title=f"{s.label or s.kind.value} · {s.kind.value} · {slots.format_span(s.starts_at, s.ends_at, tz)}",
                highlight=wave is not None and s.wave_id == wave.id) for s in found]
    svg = timeline_svg(timeline_rows(wh), bars, start, end, now=utcnow(), tz=tz, now_label=_("now"))
    return Markup(svg), found  # noqa: S704  (every text in it is escaped by wms.waves.timeline)


def _slot_rows(found: list[TimeSlot], tz: dt.tzinfo) -> list[dict[str, Any]]:
    names = {r.id: r.code for r in db.session.scalars(select(Resource).where(
        Resource.id.in_({s.resource_id for s in found})))} if found else {}
    return [{"slot": s, "resource": names.get(s.resource_id, ""), "start": _as_input(s.starts_at, tz),
             "end": _as_input(s.ends_at, tz), "span": slots.format_span(s.starts_at, s.ends_at, tz)} for s in found]


@bp.get("/warehouses/<code>/timeline")
@supervisor_only
def timeline(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    tz = slots.warehouse_zone(wh)
    try:
        start = _local_input(request.args.get("from", ""), tz, "from")
        hours = int(request.args.get("hours", DEFAULT_HOURS))
        if not 1 <= hours <= 24 * 14:
            raise ValueError
    except (DomainError, ValueError):
        flash(_("The window was not understood; showing the next hours."), "warning")
        start, hours = None, DEFAULT_HOURS
    start = start or utcnow().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    end = start + dt.timedelta(hours=hours)
    picture, found = timeline_picture(wh, start, end)
    return render_template("supervisor/waves/timeline.html", warehouse=wh, picture=picture,
                           slot_rows=_slot_rows(found, tz), start=_as_input(start, tz), hours=hours,
                           earlier=_as_input(start - dt.timedelta(hours=hours), tz),
                           later=_as_input(end, tz), tz_name=str(tz), next_url=request.full_path.rstrip("?"))


@bp.post("/slots/<int:slot_id>/move")
@supervisor_only
def move_slot(slot_id: int):  # type: ignore[no-untyped-def]
    back = _safe_next(request.form.get("next"))
    slot = slots.get_slot(slot_id, current_user.warehouse_ids)
    tz = slots.warehouse_zone(db.session.get(Warehouse, slot.warehouse_id))

    def act() -> None:
        start = _local_input(request.form.get("starts_at", ""), tz, _("start"))
        end = _local_input(request.form.get("ends_at", ""), tz, _("end"))
        if start is None or end is None:
            raise ValidationFailed(_("Give both the start and the end of the slot."))
        slots.move_slot(slot, start, end)

    return _attempt(act, _("Slot %(label)s moved.", label=slot.label or slot.id), back)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host) is followed after a form."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("supervisor.home")


# --- waves ----------------------------------------------------------------------------------------------------

@bp.get("/warehouses/<code>/waves")
@supervisor_only
def waves(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    return render_template("supervisor/waves/list.html", warehouse=wh, waves=services.waves_of(wh, limit=200),
                           tz=slots.warehouse_zone(wh))


@bp.get("/warehouses/<code>/waves/new")
@supervisor_only
def new_wave(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    tz = slots.warehouse_zone(wh)
    args = {k: request.args.get(k, "").strip()[:40] for k in ("cutoff_before", "carrier", "channel", "priority_min")}
    try:
        priority = int(args["priority_min"]) if args["priority_min"] else None
        filters = services.OrderFilters(cutoff_before=_local_input(args["cutoff_before"], tz, _("cutoff before")),
                                        carrier=args["carrier"] or None, channel=args["channel"] or None,
                                        priority_min=priority, limit=MAX_LISTED_ORDERS)
    except (DomainError, ValueError):
        flash(_("A filter was not understood and is ignored."), "warning")
        filters = services.OrderFilters(limit=MAX_LISTED_ORDERS)
    orders = services.eligible_orders(wh, filters)
    carriers = sorted({c for column in (Order.carrier_used, Order.carrier_code)  # chosen, or asked for
                       for c in db.session.scalars(select(column).distinct().where(Order.warehouse_id == wh.id)) if c})
    channels = list(db.session.scalars(select(Channel).where(Channel.warehouse_id == wh.id).order_by(Channel.code)))
    return render_template("supervisor/waves/new.html", warehouse=wh, orders=orders, args=args, carriers=carriers,
                           channels=channels, tz=tz, defaults=WaveParams(), methods=METHODS,
                           limit=MAX_LISTED_ORDERS)


@bp.post("/warehouses/<code>/waves")
@supervisor_only
def create_wave(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    tz = slots.warehouse_zone(wh)
    ids: list[int] = []
    for raw in request.form.getlist("order_id")[: services.MAX_ORDERS_PER_WAVE]:
        if raw.isdigit() and len(raw) < 10:
            ids.append(int(raw))
    back = url_for("supervisor.new_wave", code=wh.code)
    if not ids:
        flash(_("Tick at least one order."), "error")
        return redirect(back)
    created: list[Wave] = []

    def act() -> None:
        params = _params_from_form()
        starts_at = _local_input(request.form.get("starts_at", ""), tz, _("start"))
        orders = services.orders_by_ids(wh, ids)
        created.append(services.create_and_plan(wh, orders, params=params, starts_at=starts_at,
                                                created_by_id=current_user.id))

    response = _attempt(act, _("Wave planned."), back)
    if created:
        return redirect(url_for("supervisor.wave", wave_id=created[0].id))
    return response


@bp.get("/waves/<int:wave_id>")
@supervisor_only
def wave(wave_id: int):  # type: ignore[no-untyped-def]
    item = _wave_in_scope(wave_id)
    wh = db.session.get(Warehouse, item.warehouse_id)
    tz = slots.warehouse_zone(wh)
    own = list(db.session.scalars(select(TimeSlot).where(TimeSlot.wave_id == item.id).order_by(TimeSlot.starts_at)))
    if own:
        start = min(s.starts_at for s in own) - dt.timedelta(minutes=30)
        end = max(max(s.ends_at for s in own) + dt.timedelta(minutes=30), start + dt.timedelta(hours=2))
    else:
        start = (item.starts_at or utcnow()) - dt.timedelta(minutes=30)
        end = start + dt.timedelta(hours=4)
    start = start.replace(minute=(start.minute // 15) * 15, second=0, microsecond=0)
    picture, _found = timeline_picture(wh, start, end, wave=item)
    zones = {z.id: z for z in db.session.scalars(select(Zone).where(Zone.warehouse_id == wh.id))}
    slot_of = {s.pick_order_id: s for s in reversed(own)}  # the earliest (all of an OP's pick slots share times)
    codes = {r.id: r.code for r in db.session.scalars(select(Resource).where(
        Resource.id.in_({s.resource_id for s in own})))} if own else {}
    aisles_of: dict[int | None, list[str]] = {}
    for s in sorted(own, key=lambda s: s.id):  # booked in the OP's aisle order
        if s.kind == SlotKind.PICK:
            aisles_of.setdefault(s.pick_order_id, []).append(codes.get(s.resource_id, ""))
    by_zone: dict[str, list[Any]] = {}
    # The lines with their lane, product (SKU and name) and order in two queries, not several per line.
    ops = db.session.scalars(
        select(PickOrder).where(PickOrder.wave_id == item.id).order_by(PickOrder.seq)
        .options(selectinload(PickOrder.lines).options(
            joinedload(PickOrderLine.location), joinedload(PickOrderLine.product),
            joinedload(PickOrderLine.order_line).joinedload(OrderLine.order))))
    for op in ops:
        by_zone.setdefault(zones[op.zone_id].code, []).append(op)
    return render_template(
        "supervisor/waves/wave.html", wave=item, warehouse=wh, picture=picture, by_zone=by_zone, slot_of=slot_of,
        aisles_of=aisles_of,
        slot_rows=_slot_rows(own, tz), tz=tz, summary=item.summary or {}, issues=(item.summary or {}).get("issues", []),
        params=WaveParams.from_dict(item.params), methods=METHODS, statuses=WaveStatus,
        can_plan=item.status in (WaveStatus.DRAFT, WaveStatus.PLANNED),
        can_release=item.status == WaveStatus.PLANNED,
        can_cancel=item.status in (WaveStatus.DRAFT, WaveStatus.PLANNED, WaveStatus.RELEASED),
        next_url=url_for("supervisor.wave", wave_id=item.id), span=slots.format_span,
        timeline_url=url_for("supervisor.timeline", code=wh.code, **{"from": _as_input(start, tz)}))


@bp.post("/waves/<int:wave_id>/plan")
@supervisor_only
def replan_wave(wave_id: int):  # type: ignore[no-untyped-def]
    item = services.get_wave(wave_id, current_user.warehouse_ids, lock=True)
    tz = slots.warehouse_zone(db.session.get(Warehouse, item.warehouse_id))

    def act() -> None:
        params = _params_from_form(item.params)
        starts_at = _local_input(request.form.get("starts_at", ""), tz, _("start"))
        services.plan_wave(item, params, starts_at=starts_at, created_by_id=current_user.id)

    return _attempt(act, _("Wave replanned."), url_for("supervisor.wave", wave_id=wave_id))


@bp.post("/waves/<int:wave_id>/release")
@supervisor_only
def release_wave(wave_id: int):  # type: ignore[no-untyped-def]
    item = services.get_wave(wave_id, current_user.warehouse_ids, lock=True)
    return _attempt(lambda: services.release_wave(item, current_user.id),
                    _("Wave released: pick tasks created and pick orders sent to the zone printers."),
                    url_for("supervisor.wave", wave_id=wave_id))


@bp.post("/waves/<int:wave_id>/cancel")
@supervisor_only
def cancel_wave(wave_id: int):  # type: ignore[no-untyped-def]
    item = services.get_wave(wave_id, current_user.warehouse_ids, lock=True)
    return _attempt(lambda: services.cancel_wave(item, current_user.id), _("Wave cancelled."),
                    url_for("supervisor.wave", wave_id=wave_id))
