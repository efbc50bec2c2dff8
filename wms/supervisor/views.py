"""Supervisor pages: warehouses at a glance, the layout picture, products and locations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import Select, distinct, func, or_, select
from sqlalchemy.orm import aliased

from wms.auth.setup import page_requires
from wms.catalog import services as catalog
from wms.db import db
from wms.enums import Face, ResourceKind, ZoneKind
from wms.errors import WarehouseForbidden
from wms.layout.models import Aisle, Location, LocationFace, Rack, Resource, Warehouse, Zone
from wms.layout.services import get_warehouse
from wms.printing.models import Printer
from wms.stock.models import Quant
from wms.supervisor import layout_svg as svg

bp = Blueprint("supervisor", __name__, template_folder="templates")

supervisor_only = page_requires(("supervisor",))
PRODUCTS_PER_PAGE = 25
LOCATIONS_PER_PAGE = 100


def visible_warehouses() -> list[Warehouse]:
    """The warehouses the signed-in user may see, by code."""
    stmt = select(Warehouse).order_by(Warehouse.code)
    ids = current_user.warehouse_ids
    if ids is not None:
        stmt = stmt.where(Warehouse.id.in_(ids))
    return list(db.session.scalars(stmt))


@bp.app_context_processor
def _nav_helpers() -> dict[str, Any]:
    def nav_warehouse_codes(limit: int = 3) -> list[str]:
        # The nav shows a layout link per warehouse only while it stays short; the home page lists them all.
        if not getattr(current_user, "is_authenticated", False):
            return []
        stmt = select(Warehouse.code).order_by(Warehouse.code).limit(limit + 1)
        ids = current_user.warehouse_ids
        if ids is not None:
            stmt = stmt.where(Warehouse.id.in_(ids))
        codes = list(db.session.scalars(stmt))
        return codes if len(codes) <= limit else []

    return {"nav_warehouse_codes": nav_warehouse_codes}


def warehouse_in_scope(code: str) -> Warehouse:
    """The warehouse with this code if the user may see it; NotFound or WarehouseForbidden otherwise."""
    wh = get_warehouse(code)
    ids = current_user.warehouse_ids
    if ids is not None and wh.id not in ids:
        raise WarehouseForbidden(_("Warehouse %(code)s is outside your scope.", code=code))
    return wh


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _count_by_warehouse(stmt: Select[Any]) -> dict[int, int]:
    return {wid: n for wid, n in db.session.execute(stmt).all()}


@bp.get("/")
@supervisor_only
def home():  # type: ignore[no-untyped-def]
    warehouses = visible_warehouses()
    ids = [w.id for w in warehouses]
    counts = {
        "zones": _count_by_warehouse(select(Zone.warehouse_id, func.count()).where(Zone.warehouse_id.in_(ids))
                                     .group_by(Zone.warehouse_id)),
        "lanes": _count_by_warehouse(select(Location.warehouse_id, func.count())
                                     .where(Location.warehouse_id.in_(ids), Location.rack_id.is_not(None))
                                     .group_by(Location.warehouse_id)),
        "products": _count_by_warehouse(select(Location.warehouse_id, func.count(distinct(Quant.product_id)))
                                        .join(Quant, Quant.location_id == Location.id)
                                        .where(Location.warehouse_id.in_(ids), Quant.on_hand > 0)
                                        .group_by(Location.warehouse_id)),
        "printers": _count_by_warehouse(select(Printer.warehouse_id, func.count())
                                        .where(Printer.warehouse_id.in_(ids)).group_by(Printer.warehouse_id)),
    }
    return render_template("supervisor/home.html", warehouses=warehouses, counts=counts)


def layout_data(wh: Warehouse) -> list[svg.ZoneData]:
    """The plain data the SVG drawing needs, read in a handful of queries."""
    zones = list(db.session.scalars(select(Zone).where(Zone.warehouse_id == wh.id).order_by(Zone.seq, Zone.code)))
    zone_ids = [z.id for z in zones]
    aisles = list(db.session.scalars(select(Aisle).where(Aisle.zone_id.in_(zone_ids)).order_by(Aisle.seq)))
    aisle_seq = {a.id: a.seq for a in aisles}
    racks = list(db.session.scalars(select(Rack).where(Rack.zone_id.in_(zone_ids)).order_by(Rack.code)))
    locations = list(db.session.scalars(select(Location).where(Location.warehouse_id == wh.id)
                                        .order_by(Location.code)))
    resources = list(db.session.scalars(select(Resource).where(Resource.warehouse_id == wh.id,
                                                               Resource.kind != ResourceKind.AISLE)
                                        .order_by(Resource.code)))
    printers = list(db.session.scalars(select(Printer).where(Printer.warehouse_id == wh.id).order_by(Printer.code)))
    resource_zone = {r.id: r.zone_id for r in resources}
    out = []
    for z in zones:
        zone_racks = [
            svg.RackData(code=r.code, slot=min(aisle_seq[r.pick_aisle_id], aisle_seq[r.replenish_aisle_id]),
                         start_m=r.start_m, bay_width_m=r.bay_width_m, bays=r.bays, levels=r.levels,
                         lanes=[svg.LaneData(loc.code, loc.bay or 1, loc.level or 1, loc.position_m or 0.0)
                                for loc in locations if loc.rack_id == r.id])
            for r in racks if r.zone_id == z.id]
        zone_printers = [svg.PrinterData(p.code, p.status or "unknown", p.name) for p in printers
                         if p.zone_id == z.id or (p.zone_id is None and resource_zone.get(p.resource_id) == z.id)]
        out.append(svg.ZoneData(
            code=z.code, name=z.name, kind=z.kind.value, aisle_length_m=z.aisle_length_m,
            cross_aisles_m=list(z.cross_aisles_m or []),
            aisles=[svg.AisleData(a.code, a.face.value, a.seq) for a in aisles if a.zone_id == z.id],
            racks=zone_racks,
            locations=[loc.code for loc in locations if loc.zone_id == z.id and loc.rack_id is None],
            resources=[(r.code, r.kind.value) for r in resources if r.zone_id == z.id],
            printers=zone_printers,
        ))
    return out


@bp.get("/warehouses/<code>/layout")
@supervisor_only
def layout(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    zones = layout_data(wh)
    labels = {"pick": _("pick aisle"), "replenish": _("replenish aisle"), "lane": _("lane"),
              "printer_ok": _("printer ok"), "printer_error": _("printer in error")}
    picture = Markup(svg.warehouse_svg(zones, labels))  # noqa: S704  (every text in it is escaped by layout_svg)
    printers = db.session.scalars(select(Printer).where(Printer.warehouse_id == wh.id).order_by(Printer.code)).all()
    return render_template("supervisor/layout.html", warehouse=wh, picture=picture, zones=zones, printers=printers,
                           rack_kind=ZoneKind.RACK.value)


@bp.get("/products")
@supervisor_only
def products():  # type: ignore[no-untyped-def]
    q = request.args.get("q", "").strip()[:100]
    page = _page()
    items, total = catalog.search_products(q or None, limit=PRODUCTS_PER_PAGE, offset=(page - 1) * PRODUCTS_PER_PAGE)
    pages = max((total + PRODUCTS_PER_PAGE - 1) // PRODUCTS_PER_PAGE, 1)
    return render_template("supervisor/products.html", products=items, total=total, q=q, page=page, pages=pages)


@bp.get("/products/<sku>")
@supervisor_only
def product(sku: str):  # type: ignore[no-untyped-def]
    item = catalog.get_product(sku)
    ids = current_user.warehouse_ids
    stmt = (select(Quant, Location, Warehouse).join(Location, Quant.location_id == Location.id)
            .join(Warehouse, Location.warehouse_id == Warehouse.id)
            .where(Quant.product_id == item.id).order_by(Warehouse.code, Location.code))
    if ids is not None:
        stmt = stmt.where(Warehouse.id.in_(ids))
    stock = db.session.execute(stmt).all()
    return render_template("supervisor/product.html", product=item, stock=stock,
                           total_on_hand=sum(q.on_hand for q, _loc, _wh in stock),
                           total_reserved=sum(q.reserved for q, _loc, _wh in stock))


@bp.get("/locations")
@supervisor_only
def locations():  # type: ignore[no-untyped-def]
    warehouses = visible_warehouses()
    code = request.args.get("warehouse") or (warehouses[0].code if warehouses else None)
    if code is None:
        return render_template("supervisor/locations.html", warehouses=[], warehouse=None, rows=[], zones=[],
                               aisles=[], total=0, page=1, pages=1, args={}, link_args={})
    wh = warehouse_in_scope(code)
    args = {k: request.args.get(k, "").strip()[:40] for k in ("q", "zone", "aisle")}
    pick_face, rep_face = aliased(LocationFace), aliased(LocationFace)
    pick_aisle, rep_aisle = aliased(Aisle), aliased(Aisle)
    stmt = (select(Location, Zone.code, pick_aisle.code, rep_aisle.code)
            .join(Zone, Location.zone_id == Zone.id)
            .outerjoin(pick_face, (pick_face.location_id == Location.id) & (pick_face.face == Face.PICK))
            .outerjoin(pick_aisle, pick_aisle.id == pick_face.aisle_id)
            .outerjoin(rep_face, (rep_face.location_id == Location.id) & (rep_face.face == Face.REPLENISH))
            .outerjoin(rep_aisle, rep_aisle.id == rep_face.aisle_id)
            .where(Location.warehouse_id == wh.id))
    if args["q"]:
        term = args["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Location.code.ilike(f"%{term}%", escape="\\"))
    if args["zone"]:
        stmt = stmt.where(Zone.code == args["zone"])
    if args["aisle"]:
        zone_code, _sep, aisle_code = args["aisle"].partition("/")
        stmt = stmt.where(Zone.code == zone_code, or_(pick_aisle.code == aisle_code, rep_aisle.code == aisle_code))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = _page()
    rows = db.session.execute(stmt.order_by(Zone.seq, Location.code).limit(LOCATIONS_PER_PAGE)
                              .offset((page - 1) * LOCATIONS_PER_PAGE)).all()
    zones = db.session.scalars(select(Zone).where(Zone.warehouse_id == wh.id).order_by(Zone.seq)).all()
    aisles = db.session.execute(select(Zone.code, Aisle.code, Aisle.face).join(Zone, Aisle.zone_id == Zone.id)
                                .where(Zone.warehouse_id == wh.id).order_by(Zone.seq, Aisle.seq)).all()
    pages = max((total + LOCATIONS_PER_PAGE - 1) // LOCATIONS_PER_PAGE, 1)
    return render_template("supervisor/locations.html", warehouses=warehouses, warehouse=wh, rows=rows, zones=zones,
                           aisles=aisles, total=total, page=page, pages=pages, args=args,
                           link_args={k: v for k, v in args.items() if v})


# Page modules of other areas add their routes to this blueprint.
import wms.channels.views  # noqa: E402, F401
import wms.supervisor.order_views  # noqa: E402, F401
import wms.supervisor.printing_views  # noqa: E402, F401
import wms.supervisor.stock_views  # noqa: E402, F401
import wms.supervisor.wave_views  # noqa: E402, F401
