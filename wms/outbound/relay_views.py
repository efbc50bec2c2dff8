"""Supervisor page "Orders waiting for a relay point": the orders of the user's warehouses held for a relay point
(order, customer, address, carrier, reason, since); per order a search of the carrier's points by postcode
(opening hours per day, distance) and a button to choose one, which releases the hold and tells the channel."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from wms.db import db
from wms.errors import DomainError, NotFound, ValidationFailed
from wms.orders.models import Order
from wms.outbound import relay_points as rp
from wms.shipping.carrier_features import RelayPoint
from wms.shipping.errors import CarrierUnavailable
from wms.supervisor.views import supervisor_only

bp = Blueprint("relay_points", __name__)


def _order_in_scope(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    ids = current_user.warehouse_ids
    if order is None or (ids is not None and order.warehouse_id not in ids):
        raise NotFound(_("No order %(id)s in your warehouses.", id=order_id))
    return order


def day_names() -> list[str]:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def hours_by_day(point: RelayPoint) -> list[tuple[str, str]]:
    """(day, "09:00–12:30, 14:00–19:00" or "closed all day") for each day of the week, Monday first."""
    names = day_names()
    rows = []
    for weekday in range(1, 8):
        spans = [f"{h.opens}–{h.closes}" for h in point.opening_hours if h.weekday == weekday]
        rows.append((names[weekday - 1], ", ".join(spans) if spans else _("closed all day")))
    return rows


def distance_text(metres: int | None) -> str:
    if metres is None:
        return "—"
    return f"{metres} m" if metres < 1000 else f"{metres / 1000:.1f} km"


def _address(order: Order) -> str:
    to = order.ship_to or {}
    return ", ".join(str(to[k]) for k in ("line1", "line2") if to.get(k)) + " " + " ".join(
        str(to[k]) for k in ("postcode", "city", "country") if to.get(k))


def _row(order: Order) -> dict[str, Any]:
    to = order.ship_to or {}
    return {"order": order, "customer": to.get("name") or order.customer_email or "—", "address": _address(order),
            "carrier": rp.carrier_code_of(order), "postcode": str(to.get("postcode") or ""),
            "country": rp.ship_country(order), "city": str(to.get("city") or "")}


@bp.get("/relay-points")
@supervisor_only
def waiting():  # type: ignore[no-untyped-def]
    orders = rp.held_orders(current_user.warehouse_ids)
    return render_template("supervisor/shipping/relay_points.html", rows=[_row(o) for o in orders])


def _search_message(err: DomainError, carrier: str) -> str:
    if isinstance(err, CarrierUnavailable):
        return _("%(carrier)s could not be reached; nothing was changed. Try again in a moment. (%(detail)s)",
                 carrier=carrier, detail=err.detail)
    if isinstance(err, ValidationFailed) and err.errors and err.errors[0].get("field") in ("postcode", "country"):
        return _("Give a postcode and a 2-letter country code (e.g. 75010, FR).")
    return _("The search was refused: %(detail)s", detail=err.detail)


@bp.get("/relay-points/<int:order_id>")
@supervisor_only
def search(order_id: int):  # type: ignore[no-untyped-def]
    order = _order_in_scope(order_id)
    row = _row(order)
    postcode = request.args.get("postcode", row["postcode"])
    country = request.args.get("country", row["country"])
    city = request.args.get("city", row["city"])
    found: list[rp.FoundPoint] = []
    message = None
    if postcode or "postcode" in request.args:
        try:
            found = rp.search_points(order, postcode, country, city)
        except DomainError as err:
            message = _search_message(err, row["carrier"])
        else:
            if not found:
                message = _("%(carrier)s has no relay point near %(postcode)s %(country)s.", carrier=row["carrier"],
                            postcode=postcode, country=country)
    points = [{"point": f.point, "refusal": f.refusal, "hours": hours_by_day(f.point),
               "distance": distance_text(f.point.distance_m)} for f in found]
    return render_template("supervisor/shipping/relay_search.html", row=row, postcode=postcode, country=country,
                           city=city, points=points, message=message, weight=rp.order_weight_grams(order))


@bp.post("/relay-points/<int:order_id>/choose")
@supervisor_only
def choose(order_id: int) -> Response:
    order = _order_in_scope(order_id)
    back = url_for("relay_points.search", order_id=order.id, postcode=request.form.get("postcode", ""),
                   country=request.form.get("country", ""), city=request.form.get("city", ""))
    try:
        order = rp.choose_point(order, request.form.get("point_id", ""), request.form.get("country") or None)
    except DomainError as err:  # refused before anything was written; nothing is committed
        db.session.rollback()
        if isinstance(err, CarrierUnavailable):
            flash(_("%(carrier)s could not be reached; nothing was changed. Try again in a moment. (%(detail)s)",
                    carrier=rp.carrier_code_of(order), detail=err.detail), "error")
        else:
            flash(_("This relay point cannot be chosen: %(detail)s", detail=err.detail), "error")
        return redirect(back, 303)
    flash(_("Order %(order)s goes to relay point %(point)s (%(name)s); it is released and the channel is told.",
            order=order.external_id, point=order.relay_point_id, name=(order.relay_point or {}).get("name", "")),
          "success")
    return redirect(url_for("relay_points.waiting"), 303)
