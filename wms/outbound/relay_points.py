"""Relay points of orders: the point the customer chose at the channel's checkout, checked with the order's carrier
(it exists, is open in the coming days as the carrier reports, takes the parcel's weight); an order whose point
is not valid is held for a supervisor (holds.HoldKind.RELAY_POINT), who searches the carrier's points by postcode
and chooses one; the channel is told (webhooks `order.held`, `order.relay_point_changed`, `order.released`).

- At intake (`after_intake`, called by orders.services.create_order) an order with a relay point whose carrier
  offers relay points (Feature.RELAY) gets a `shipping.check_relay_point` job, deferred after the commit.
- The job (`check_order_relay_point`) stores the point as the carrier described it (`orders.relay_point`, JSON)
  and `relay_checked_at` when it is valid; holds the order with a reason naming what is wrong when it is not.
  A carrier that cannot be reached (CarrierUnavailable, an unusable answer) changes nothing: the order stays
  unchecked, the job fails (kept in wms_job_failures) and the dispatcher (every 20 minutes) defers the unchecked
  orders again. A network error never holds an order.
- The job is deferred with a queueing lock and is NOT retried by the engine (procrastinate #1543, see
  wms.channels.jobs NO_RETRY): the dispatcher is its retry.

Plain functions over db.session (add/flush, never commit), shared by the job, the supervisor page
(relay_views) and the JSON API (relay_api). docs/relay-points.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import or_, select

from wms.db import db, utcnow
from wms.errors import Conflict, DomainError, ValidationFailed
from wms.jobs import defer, defer_after_commit, periodic, task
from wms.layout.models import Warehouse
from wms.orders import holds
from wms.orders.holds import HoldKind
from wms.orders.models import Channel, Order
from wms.shipping.carrier_features import Feature, FeatureUnsupported, RelayPoint, RelayPointInvalid
from wms.shipping.carriers import Carrier
from wms.shipping.errors import CarrierUnavailable, ShippingInputInvalid
from wms.webhooks import outbox

log = logging.getLogger("wms.relay_points")
QUEUE = "shipping"
TASK = "shipping.check_relay_point"
DISPATCH = "shipping.relay_check_dispatch"
NO_RETRY = False           # the dispatcher is the retry (module docstring)
CHECK_DAYS = 3             # the point must take the parcel today and the next days (RELAY_POINT_CHECK_DAYS)
SWEEP_LIMIT = 200
SEARCH_LIMIT = 10
_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class RelayPointChangeRefused(Conflict):
    slug = "relay-point-change-refused"
    title = "The relay point of this order cannot be changed now"


@dataclass(frozen=True)
class RelayCheck:
    """What a check did: `valid` (stored), `held` (reason), `unavailable` (carrier away, unchanged), `skipped`."""

    outcome: str
    reason: str = ""
    point: RelayPoint | None = None


@dataclass(frozen=True)
class FoundPoint:
    """A relay point of a search, and why it cannot take this order's parcel in the coming days (None: it can)."""

    point: RelayPoint
    refusal: str | None


# --- what the order needs --------------------------------------------------------------------------------------


def order_weight_grams(order: Order) -> int:
    """The parcel's expected weight: the sum of the products' weights (a product without weight counts 0)."""
    return sum(line.quantity * (line.product.weight_g or 0) for line in order.lines if line.product is not None)


def ship_country(order: Order) -> str:
    country = str((order.ship_to or {}).get("country") or "FR").strip().upper()
    return country if _COUNTRY.match(country) else "FR"


def check_days() -> int:
    value = current_app.config.get("RELAY_POINT_CHECK_DAYS", CHECK_DAYS) if has_app_context() else CHECK_DAYS
    try:
        return max(0, min(int(value), 30))
    except (TypeError, ValueError):
        return CHECK_DAYS


def carrier_code_of(order: Order) -> str:
    """The carrier that ships the order: the carrier rules' choice (wms.outbound.carrier_choice), else the one it
    names when configured here, else the default."""
    try:
        from wms.outbound.carrier_choice import shipping_carrier
    except ImportError:  # carrier rules not in this build: the order's own carrier or the default
        from wms.outbound import carriers_registry as registry

        return registry.choose_carrier(order.carrier_code).used
    return str(shipping_carrier(order))


def relay_carrier(order: Order) -> Carrier:
    """The order's carrier, ready to answer about relay points; FeatureUnsupported when it has none."""
    from wms.outbound import carriers_registry as registry

    carrier = registry.carrier_for(carrier_code_of(order), db.session.get(Warehouse, order.warehouse_id))
    if Feature.RELAY not in carrier.features:
        raise FeatureUnsupported(f"{carrier.name} has no relay points")
    return carrier


def offers_relay(order: Order) -> bool:
    try:
        relay_carrier(order)
    except DomainError:
        return False
    return True


def _today(order: Order) -> dt.date:
    from wms.outbound.dock import local_day

    warehouse = db.session.get(Warehouse, order.warehouse_id)
    return local_day(warehouse) if warehouse is not None else dt.date.today()


def refusal_over(point: RelayPoint, weight_grams: int, today: dt.date, days: int) -> str | None:
    """Why the point cannot take the parcel on one of the days from `today` to `today + days`; None if it can."""
    for offset in range(days + 1):
        reason = point.refusal(weight_grams, today + dt.timedelta(days=offset))
        if reason:
            return reason
    return None


def point_json(point: RelayPoint) -> dict[str, Any]:
    """The point as the carrier described it, as orders.relay_point keeps it (and webhooks carry it)."""
    a = point.address
    return {
        "carrier": point.carrier, "id": point.id, "name": point.name,
        "address": {"name": a.name, "street": list(a.street), "postcode": a.postal_code, "city": a.city,
                    "country": a.country},
        "opening_hours": [{"weekday": h.weekday, "opens": h.opens, "closes": h.closes} for h in point.opening_hours],
        "distance_m": point.distance_m, "max_weight_grams": point.max_weight_grams,
        "closed_from": point.closed_from.isoformat() if point.closed_from else None,
        "closed_until": point.closed_until.isoformat() if point.closed_until else None,
        "latitude": point.latitude, "longitude": point.longitude,
    }


def _lock(order_id: int) -> Order | None:
    return db.session.scalars(select(Order).where(Order.id == order_id).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()


def _store(order: Order, point: RelayPoint) -> None:
    order.relay_point_id = point.id
    order.relay_point = point_json(point)
    order.relay_checked_at = utcnow()
    db.session.flush()


# --- the check at intake ---------------------------------------------------------------------------------------


def after_intake(order: Order) -> bool:
    """Defer the check of a new order's relay point after the commit, when its carrier offers relay points."""
    if not order.relay_point_id or not offers_relay(order):
        return False
    defer_after_commit(TASK, queueing_lock=f"{TASK}:{order.id}", order_id=order.id)
    return True


def check_order_relay_point(order: Order, *, today: dt.date | None = None) -> RelayCheck:
    """Ask the order's carrier about its relay point: store it when valid, hold the order when not; a carrier that
    cannot be reached leaves the order unchecked (outcome `unavailable`, never a hold)."""
    point_id = (order.relay_point_id or "").strip()
    if not point_id:
        return RelayCheck("skipped", "the order names no relay point")
    if order.status not in holds.HOLDABLE:
        return RelayCheck("skipped", f"the order is {order.status.value}")
    try:
        carrier = relay_carrier(order)
    except DomainError as err:  # not configured here, or no relay points: nothing to check against
        return RelayCheck("skipped", err.detail)
    weight, country = order_weight_grams(order), ship_country(order)
    today = today or _today(order)
    point: RelayPoint | None = None
    try:
        point = carrier.check_relay_point(point_id, country, weight, today)
        reason = refusal_over(point, weight, today, check_days())
    except CarrierUnavailable as err:  # also an answer we cannot use (CarrierResponseInvalid)
        log.warning("order %s: %s did not answer about relay point %s: %s", order.external_id, carrier.name,
                    point_id, err.detail)
        return RelayCheck("unavailable", err.detail)
    except FeatureUnsupported as err:  # e.g. DPD France without its Pickup key: nothing to check against
        return RelayCheck("skipped", err.detail)
    except ShippingInputInvalid as err:  # RelayPointInvalid, or the carrier refusing the look-up itself
        reason = err.detail
    # the carrier was asked without a row lock; the order is read again, locked, before it is changed
    locked = _lock(order.id)
    if locked is None or (locked.relay_point_id or "").strip() != point_id or locked.status not in holds.HOLDABLE:
        return RelayCheck("skipped", "the order changed while the carrier was asked")
    if locked.hold_kind not in (None, HoldKind.RELAY_POINT.value):
        return RelayCheck("skipped", f"the order is held ({locked.hold_kind}); checked again once released")
    if reason:
        text = f"{carrier.name} relay point {point_id}: {reason}. Choose another relay point."
        holds.hold(locked, HoldKind.RELAY_POINT, text)
        return RelayCheck("held", text, point)
    if point is None:  # not reached: no point means a refusal above
        return RelayCheck("skipped", "the carrier described no point")
    _store(locked, point)
    holds.release(locked, kind=HoldKind.RELAY_POINT)
    return RelayCheck("valid", "", point)


class RelayCheckPostponed(Exception):
    """The carrier could not be asked (logged; the dispatcher defers the check again)."""


def run_check(order_id: int) -> RelayCheck:
    """The job's work: check one order's relay point; raises RelayCheckPostponed when the carrier is away."""
    order = db.session.get(Order, order_id)
    if order is None:
        return RelayCheck("skipped", "no such order")
    result = check_order_relay_point(order)
    if result.outcome == "unavailable":
        raise RelayCheckPostponed(f"order {order.external_id}: {result.reason}")
    log.info("order %s: relay point %s %s %s", order.external_id, order.relay_point_id, result.outcome,
             result.reason)
    return result


@task(TASK, queue=QUEUE, lock_key="order:{order_id}:relay", retry=NO_RETRY)
def check_relay_point_job(order_id: int) -> None:
    """Check one order's relay point with its carrier (hold it when the point cannot take the parcel)."""
    run_check(order_id)


def unchecked_orders(limit: int = SWEEP_LIMIT) -> list[int]:
    """Open orders not held whose relay point was never checked, or changed since (a channel's update names
    another point), and whose carrier offers relay points."""
    changed = Order.relay_point["id"].as_string() != Order.relay_point_id
    orders = db.session.scalars(select(Order).where(
        Order.relay_point_id.is_not(None), or_(Order.relay_checked_at.is_(None), changed),
        Order.hold_kind.is_(None), Order.status.in_(holds.HOLDABLE)).order_by(Order.id).limit(limit))
    offers: dict[tuple[str, int], bool] = {}
    due = []
    for order in orders:
        key = (carrier_code_of(order), order.warehouse_id)
        if key not in offers:
            offers[key] = offers_relay(order)
        if offers[key]:
            due.append(order.id)
    return due


def defer_due() -> list[int]:
    """Defer a check for every unchecked relay order (one waiting per order at most: queueing lock)."""
    ids = unchecked_orders()
    for order_id in ids:
        defer(TASK, queueing_lock=f"{TASK}:{order_id}", order_id=order_id)
    return ids


@periodic("*/20 * * * *", DISPATCH, queue=QUEUE)
def dispatch() -> None:
    """Every 20 minutes: the relay point checks left undone (carrier away, a defer lost after commit)."""
    defer_due()


# --- the supervisor's choice -----------------------------------------------------------------------------------


def held_orders(warehouse_ids: frozenset[int] | set[int] | None, limit: int = 300) -> list[Order]:
    """Orders held for a relay point in these warehouses (None: all), oldest hold first."""
    stmt = select(Order).where(Order.hold_kind == HoldKind.RELAY_POINT.value)
    if warehouse_ids is not None:
        stmt = stmt.where(Order.warehouse_id.in_(warehouse_ids))
    return list(db.session.scalars(stmt.order_by(Order.held_at, Order.id).limit(limit)))


def clean_search(postcode: str, country: str, city: str = "") -> tuple[str, str, str]:
    """The search's postcode, country and city, or ValidationFailed naming the field."""
    postcode, country, city = (postcode or "").strip(), (country or "").strip().upper(), (city or "").strip()
    errors = []
    if not _POSTCODE.match(postcode):
        errors.append({"field": "postcode", "message": "2 to 12 letters, digits, spaces or hyphens"})
    if not _COUNTRY.match(country):
        errors.append({"field": "country", "message": "a 2-letter ISO code"})
    if len(city) > 80:
        errors.append({"field": "city", "message": "at most 80 characters"})
    if errors:
        raise ValidationFailed("The search needs a postcode and a country (e.g. 75010, FR).", errors=errors)
    return postcode, country, city


def search_points(order: Order, postcode: str, country: str, city: str = "") -> list[FoundPoint]:
    """The carrier's relay points near a postcode for this order's parcel, nearest first, each with why it cannot
    take the parcel in the coming days. Raises CarrierUnavailable (503), ShippingInputInvalid (422)."""
    postcode, country, city = clean_search(postcode, country, city)
    carrier = relay_carrier(order)
    weight = order_weight_grams(order)
    points = carrier.find_relay_points(country, postcode, city=city, weight_grams=weight, limit=SEARCH_LIMIT)
    today, days = _today(order), check_days()
    return [FoundPoint(p, refusal_over(p, weight, today, days)) for p in points]


def choose_point(order: Order, point_id: str, country: str | None = None) -> Order:
    """The supervisor's choice: checked with the carrier, stored, the relay hold released, and the channel told
    (`order.relay_point_changed` with the point, then `order.released`). Nothing changes when it is refused."""
    point_id = (point_id or "").strip()
    if not point_id or len(point_id) > 64:
        raise ValidationFailed("Choose a relay point.", errors=[{"field": "point_id", "message": "required"}])
    country = (country or ship_country(order)).strip().upper()
    if not _COUNTRY.match(country):
        raise ValidationFailed("The country is a 2-letter ISO code.",
                               errors=[{"field": "country", "message": "a 2-letter ISO code"}])
    if order.status not in holds.HOLDABLE:
        raise RelayPointChangeRefused(f"Order {order.external_id} is {order.status.value}: its relay point "
                                      "cannot be changed now.", order_status=order.status.value)
    carrier = relay_carrier(order)
    weight, today = order_weight_grams(order), _today(order)
    point = carrier.check_relay_point(point_id, country, weight, today)
    reason = refusal_over(point, weight, today, check_days())
    if reason:
        raise RelayPointInvalid(f"{carrier.name} {reason}")
    locked = _lock(order.id)
    if locked is None or locked.status not in holds.HOLDABLE:
        raise RelayPointChangeRefused(f"Order {order.external_id} changed meanwhile: try again.")
    previous = locked.relay_point_id
    _store(locked, point)
    channel = locked.channel or db.session.get(Channel, locked.channel_id)
    outbox.emit(channel, "order.relay_point_changed", f"order:{locked.id}",
                {"order_id": locked.external_id, "relay_point_id": point.id, "previous_relay_point_id": previous,
                 "carrier": carrier_code_of(locked), "relay_point": locked.relay_point})
    from wms.channels.sync import notes

    notes.tell(locked, notes.relay_point_note(locked, previous))
    holds.release(locked, kind=HoldKind.RELAY_POINT)
    return locked
