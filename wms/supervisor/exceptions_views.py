"""Supervisor pages of the pick floor: the exceptions pickers reported (short picks, empty lanes, damaged units,
wrong items) per wave and zone, with who, when and what resolves them; and giving released pick orders to pickers
(only that picker may then take them on the handheld)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from wms.auth.models import User, UserRole, UserWarehouse
from wms.catalog.models import Product
from wms.db import db, utcnow
from wms.enums import Role, StockReason, TaskKind
from wms.errors import DomainError, NotFound
from wms.layout.models import Location, Warehouse, Zone
from wms.picking import services as ps
from wms.picking.models import ScanEvent, ScanOutcome
from wms.stock.models import LedgerEntry
from wms.supervisor.views import supervisor_only, warehouse_in_scope
from wms.tasks.models import Task
from wms.waves.models import PickOrder, PickOrderLine, PickOrderStatus, TimeSlot, Wave

bp = Blueprint("pick_floor", __name__)

LIMIT = 300
REFRESH_SECONDS = 10


def _kind_name(kind: str) -> str:
    return {"short": _("short pick"), "empty": _("empty lane"), "damaged": _("damaged"),
            "wrong_item": _("wrong item in lane")}.get(kind, kind)


def exception_rows(wh: Warehouse, *, include_resolved: bool = False) -> list[dict[str, Any]]:
    """Pick exceptions of the warehouse, newest first within wave and zone, with what followed them at the lane:
    replenishment tasks created since, and the stock adjustments the exception itself wrote."""
    stmt = (select(ScanEvent, PickOrder.code, Wave.code, Zone.code, User.display_name)
            .outerjoin(PickOrder, PickOrder.id == ScanEvent.pick_order_id)
            .outerjoin(Wave, Wave.id == PickOrder.wave_id)
            .outerjoin(Zone, Zone.id == PickOrder.zone_id)
            .outerjoin(User, User.id == ScanEvent.user_id)
            .where(ScanEvent.warehouse_id == wh.id, ScanEvent.flow == ps.FLOW,
                   ScanEvent.outcome == ScanOutcome.EXCEPTION)
            .order_by(ScanEvent.id.desc()).limit(LIMIT))
    if not include_resolved:
        stmt = stmt.where(ScanEvent.resolved_at.is_(None))
    found = db.session.execute(stmt).all()
    line_ids = {int(e.data["line_id"]) for e, *_rest in found if str((e.data or {}).get("line_id", "")).isdigit()}
    lines = ({pl.id: (pl, sku, loc_id, code, name) for pl, sku, loc_id, code, name in db.session.execute(
        select(PickOrderLine, Product.sku, Location.id, Location.code, Product.name)
        .join(Product, Product.id == PickOrderLine.product_id).join(Location, Location.id == PickOrderLine.location_id)
        .where(PickOrderLine.id.in_(line_ids)))} if line_ids else {})
    lane_ids = {v[2] for v in lines.values()}
    tasks = list(db.session.scalars(select(Task).where(Task.location_id.in_(lane_ids), Task.kind == TaskKind.REPLENISH)
                                    .order_by(Task.id))) if lane_ids else []
    keys = {e.idempotency_key for e, *_rest in found if e.idempotency_key}
    ledger = list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.idempotency_key.in_(keys),
        LedgerEntry.reason.in_((StockReason.COUNT, StockReason.ADJUSTMENT, StockReason.TRANSFER)))
        .order_by(LedgerEntry.id))) if keys else []
    codes = dict(db.session.execute(select(Location.id, Location.code).where(
        Location.id.in_({e.location_id for e in ledger}))).all()) if ledger else {}
    rows = []
    for event, op_code, wave_code, zone_code, who in found:
        data = event.data or {}
        line = lines.get(int(data["line_id"])) if str(data.get("line_id", "")).isdigit() else None
        lane_id = line[2] if line else None
        rows.append({
            "event": event, "kind": data.get("kind", "?"), "kind_name": _kind_name(str(data.get("kind", "?"))),
            "op": op_code, "wave": wave_code or "—", "zone": zone_code or "—", "who": who or "—",
            "sku": line[1] if line else None, "product_name": line[4] if line else None,
            "lane": line[3] if line else None,
            "found": data.get("found"), "missing": data.get("missing"), "damaged": data.get("damaged"),
            "to": data.get("to"), "lane_holds": data.get("lane_holds"), "note": data.get("note"),
            "tasks": [t for t in tasks if t.location_id == lane_id and t.created_at >= event.at],
            "adjustments": [(e, codes.get(e.location_id, "?")) for e in ledger
                            if e.idempotency_key == event.idempotency_key],
        })
    rows.sort(key=lambda r: (r["wave"], r["zone"], -r["event"].id))
    return rows


@bp.get("/warehouses/<code>/pick-exceptions")
@supervisor_only
def exceptions(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    include_resolved = request.args.get("all") == "1"
    return render_template("supervisor/exceptions/index.html", warehouse=wh,
                           rows=exception_rows(wh, include_resolved=include_resolved),
                           include_resolved=include_resolved, refresh=REFRESH_SECONDS, limit=LIMIT)


@bp.post("/warehouses/<code>/pick-exceptions/<int:event_id>/resolve")
@supervisor_only
def resolve(code: str, event_id: int):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    event = db.session.scalar(select(ScanEvent).where(ScanEvent.id == event_id, ScanEvent.warehouse_id == wh.id,
                                                      ScanEvent.outcome == ScanOutcome.EXCEPTION).with_for_update())
    if event is None:
        raise NotFound(_("No pick exception %(id)s in %(wh)s.", id=event_id, wh=wh.code))
    if event.resolved_at is None:
        event.resolved_at = utcnow()
        event.resolved_by_id = current_user.id
        flash(_("Exception %(id)s marked as dealt with.", id=event_id), "success")
    return redirect(url_for("pick_floor.exceptions", code=wh.code))


# --- giving pick orders to pickers ---------------------------------------------------------------------------------


def _pickers(wh: Warehouse) -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PICKER, User.active.is_(True),
               User.all_warehouses.is_(True) | User.id.in_(select(UserWarehouse.user_id)
                                                           .where(UserWarehouse.warehouse_id == wh.id)))
        .order_by(User.display_name, User.id).distinct()))


@bp.get("/warehouses/<code>/pick-assignments")
@supervisor_only
def assignments(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    slot = (select(TimeSlot.pick_order_id, func.min(TimeSlot.starts_at).label("starts_at"),
                   func.max(TimeSlot.ends_at).label("ends_at")).group_by(TimeSlot.pick_order_id).subquery())
    ops = db.session.execute(
        select(PickOrder, Wave.code, Zone.code, slot.c.starts_at, slot.c.ends_at)
        .join(Wave, Wave.id == PickOrder.wave_id).join(Zone, Zone.id == PickOrder.zone_id)
        .outerjoin(slot, slot.c.pick_order_id == PickOrder.id)
        .where(PickOrder.warehouse_id == wh.id,
               PickOrder.status.in_((PickOrderStatus.RELEASED, PickOrderStatus.PICKING)))
        .order_by(slot.c.starts_at.asc().nulls_last(), PickOrder.id).limit(LIMIT)).all()
    pickers = _pickers(wh)
    names = {u.id: u.display_name for u in pickers}
    missing = {op.picker_id for op, *_rest in ops if op.picker_id and op.picker_id not in names}
    if missing:
        names.update(dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(missing))).all()))
    return render_template("supervisor/exceptions/assignments.html", warehouse=wh, ops=ops, pickers=pickers,
                           names=names)


@bp.post("/warehouses/<code>/pick-orders/<int:op_id>/assign")
@supervisor_only
def assign(code: str, op_id: int):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    op = db.session.scalar(select(PickOrder).where(PickOrder.id == op_id, PickOrder.warehouse_id == wh.id)
                           .with_for_update())
    if op is None:
        raise NotFound(_("No pick order %(id)s in %(wh)s.", id=op_id, wh=wh.code))
    raw = request.form.get("picker_id", "").strip()
    picker = None
    if raw:
        picker = db.session.get(User, int(raw)) if raw.isdigit() and len(raw) < 10 else None
        if picker is None:
            flash(_("No such picker."), "error")
            return redirect(url_for("pick_floor.assignments", code=wh.code)), 303
    try:
        ps.assign_pick_order(op, picker)
    except DomainError as err:  # refused before anything was written
        flash(err.detail, "error")
        return redirect(url_for("pick_floor.assignments", code=wh.code)), 303
    if picker is None:
        flash(_("Pick order %(op)s is free for any picker of its zone.", op=op.code), "success")
    else:
        flash(_("Pick order %(op)s is for %(name)s only.", op=op.code, name=picker.display_name), "success")
    return redirect(url_for("pick_floor.assignments", code=wh.code))

