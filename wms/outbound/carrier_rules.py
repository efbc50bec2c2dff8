"""Carrier rules kept by supervisors: add, change, deactivate, list; every value checked with a readable refusal.

Plain functions over ``db.session`` (add/flush, never commit), shared by the JSON API and the supervisor page.
Changing a rule changes what it chooses from then on: an order keeps the carrier and service chosen at its intake
(orders.carrier_used / carrier_service), with the reason it was told.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from sqlalchemy import or_, select

from wms.db import db
from wms.errors import Conflict, NotFound, ValidationFailed
from wms.layout.models import Warehouse
from wms.orders.models import Channel, Order
from wms.outbound import carriers_registry as registry
from wms.outbound.carrier_choice import parse_countries
from wms.outbound.models import CarrierRule
from wms.picking.text import _

FIELDS = ("name", "priority", "active", "warehouse", "channel", "shipping_method", "countries", "min_weight_g",
          "max_weight_g", "max_side_mm", "min_value", "max_value", "before_time", "carrier", "service", "relay")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
LIMITS = {"name": 120, "shipping_method": 120, "countries": 400, "service": 40}


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (from the CLDR data Babel ships)."""
    from babel import Locale

    return frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha())


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _whole(value: Any, field: str, errors: list[dict[str, str]]) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or number < 0 or number > 10_000_000:
        errors.append({"field": field, "message": _("a whole number from 0 to 10000000")})
        return None
    return number


def _amount(value: Any, field: str, errors: list[dict[str, str]]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        errors.append({"field": field, "message": _("an amount such as 49.90, not negative")})
        return None
    return amount.quantize(Decimal("0.01"))


def _countries(value: Any, errors: list[dict[str, str]]) -> str | None:
    text = _text(value)
    if text is None:
        return None
    exclude, codes = parse_countries(text.replace(" ", ""))
    unknown = sorted(c for c in codes if c not in country_codes())
    if not codes or unknown or "!" in text.replace(" ", "")[1:]:
        errors.append({"field": "countries", "message": _(
            "ISO country codes separated by commas (FR,BE), or ! first to exclude them (!FR); not understood: "
            "%(codes)s", codes=", ".join(unknown) or text)})
        return None
    return ("!" if exclude else "") + ",".join(sorted(codes))


def _warehouse(code: Any, errors: list[dict[str, str]]) -> Warehouse | None:
    code = _text(code)
    if code is None:
        return None
    wh = db.session.scalar(select(Warehouse).where(Warehouse.code == code))
    if wh is None:
        errors.append({"field": "warehouse", "message": _("no warehouse %(code)s", code=code)})
    return wh


def _channel(code: Any, errors: list[dict[str, str]]) -> Channel | None:
    code = _text(code)
    if code is None:
        return None
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        errors.append({"field": "channel", "message": _("no channel %(code)s", code=code)})
    return channel


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's columns from request values (API body or form), or ValidationFailed listing every problem."""
    errors: list[dict[str, str]] = []
    out: dict[str, Any] = {}
    for field, limit in LIMITS.items():
        if field in data:
            out[field] = _text(data[field])
            if out[field] is not None and len(out[field]) > limit:
                errors.append({"field": field, "message": _("at most %(count)s characters", count=limit)})
    if "name" in data and out.get("name") is None:
        errors.append({"field": "name", "message": _("give the rule a name")})
    if "priority" in data:
        priority = _whole(data["priority"], "priority", errors)
        out["priority"] = 100 if priority is None else priority
    for field in ("min_weight_g", "max_weight_g", "max_side_mm"):
        if field in data:
            out[field] = _whole(data[field], field, errors)
    for field in ("min_value", "max_value"):
        if field in data:
            out[field] = _amount(data[field], field, errors)
    if "countries" in data:
        out["countries"] = _countries(data["countries"], errors)
    if "before_time" in data:
        text = _text(data["before_time"])
        if text is not None and not HHMM.match(text):
            errors.append({"field": "before_time", "message": _("a time of day as HH:MM, e.g. 15:30")})
        out["before_time"] = text
    if "carrier" in data:
        code = _text(data["carrier"])
        if code is None or code not in registry.carrier_codes():
            errors.append({"field": "carrier", "message": _(
                "unknown carrier %(code)s; the carriers here are %(codes)s", code=repr(code or ""),
                codes=", ".join(registry.carrier_codes()))})
        out["carrier_code"] = code
    for field in ("active", "relay"):
        if field in data:
            out[field] = bool(data[field])
    if "warehouse" in data:
        wh = _warehouse(data["warehouse"], errors)
        out["warehouse_id"] = wh.id if wh is not None else None
    if "channel" in data:
        channel = _channel(data["channel"], errors)
        out["channel_id"] = channel.id if channel is not None else None
    if errors:
        raise ValidationFailed(_("The carrier rule was not saved: %(problems)s.", problems="; ".join(
            f"{e['field']}: {e['message']}" for e in errors)), errors=errors)
    return out


def _check_ranges(rule: CarrierRule) -> None:
    errors = []
    if rule.min_weight_g is not None and rule.max_weight_g is not None and rule.min_weight_g > rule.max_weight_g:
        errors.append({"field": "min_weight_g", "message": _("the minimum weight is above the maximum")})
    if rule.min_value is not None and rule.max_value is not None and rule.min_value > rule.max_value:
        errors.append({"field": "min_value", "message": _("the minimum value is above the maximum")})
    if rule.channel_id is not None and rule.warehouse_id is not None:
        channel = db.session.get(Channel, rule.channel_id)
        if channel is not None and channel.warehouse_id != rule.warehouse_id:
            errors.append({"field": "channel", "message": _("the channel ships from another warehouse")})
    if errors:
        raise ValidationFailed(_("The carrier rule was not saved: %(problems)s.", problems="; ".join(
            f"{e['field']}: {e['message']}" for e in errors)), errors=errors)


def _require_scope(warehouse_ids: frozenset[int] | None, warehouse_id: int | None) -> None:
    from wms.errors import WarehouseForbidden

    if warehouse_ids is None:
        return
    if warehouse_id is None:
        raise WarehouseForbidden(_("A rule for every warehouse needs access to every warehouse; name yours."))
    if warehouse_id not in warehouse_ids:
        raise WarehouseForbidden(_("That warehouse is outside your scope."))


def create_rule(data: Mapping[str, Any], warehouse_ids: frozenset[int] | None = None) -> CarrierRule:
    """Add a rule from request values (name and carrier required); refused readably, nothing written."""
    data = {k: v for k, v in data.items() if k in FIELDS}
    data.setdefault("name", None)
    data.setdefault("carrier", None)
    values = _values(data)
    rule = CarrierRule(**{"priority": 100, "active": True, "relay": False, **values})
    _check_ranges(rule)
    _require_scope(warehouse_ids, rule.warehouse_id)
    db.session.add(rule)
    db.session.flush()
    return rule


def update_rule(rule: CarrierRule, data: Mapping[str, Any], warehouse_ids: frozenset[int] | None = None) -> CarrierRule:
    """Change the fields given (a null clears a condition); `active: false` deactivates the rule."""
    _require_scope(warehouse_ids, rule.warehouse_id)
    values = _values({k: v for k, v in data.items() if k in FIELDS})
    for key, value in values.items():
        setattr(rule, key, value)
    _check_ranges(rule)
    _require_scope(warehouse_ids, rule.warehouse_id)
    db.session.flush()
    return rule


def get_rule(rule_id: int, warehouse_ids: frozenset[int] | None = None) -> CarrierRule:
    """The rule if the caller may see it (rules for every warehouse are seen by all); NotFound otherwise."""
    rule = db.session.get(CarrierRule, rule_id)
    if rule is None or (warehouse_ids is not None and rule.warehouse_id is not None
                        and rule.warehouse_id not in warehouse_ids):
        raise NotFound(_("No carrier rule %(id)s.", id=rule_id))
    return rule


def list_rules(warehouse_ids: frozenset[int] | None = None, *, warehouse_id: int | None = None,
               include_inactive: bool = True) -> list[CarrierRule]:
    """Rules in the order they are tried (method rules are tried first whatever their priority)."""
    stmt = select(CarrierRule).order_by(CarrierRule.priority, CarrierRule.id)
    if warehouse_ids is not None:
        stmt = stmt.where(or_(CarrierRule.warehouse_id.is_(None), CarrierRule.warehouse_id.in_(warehouse_ids)))
    if warehouse_id is not None:
        stmt = stmt.where(or_(CarrierRule.warehouse_id.is_(None), CarrierRule.warehouse_id == warehouse_id))
    if not include_inactive:
        stmt = stmt.where(CarrierRule.active.is_(True))
    return list(db.session.scalars(stmt))


def find_order(ref: str, warehouse_ids: frozenset[int] | None = None) -> Order:
    """An order by our id (digits) or its channel order id, within the caller's warehouses."""
    ref = (ref or "").strip()
    if not ref:
        raise ValidationFailed(_("Give an order id."), errors=[{"field": "order", "message": "required"}])
    found: list[Order] = []
    if ref.isdigit() and int(ref) < 2**31:
        order = db.session.get(Order, int(ref))
        found = [order] if order is not None else []
    if not found:
        found = list(db.session.scalars(select(Order).where(Order.external_id == ref).limit(5)))
    found = [o for o in found if warehouse_ids is None or o.warehouse_id in warehouse_ids]
    if not found:
        raise NotFound(_("No order %(ref)s.", ref=ref))
    if len(found) > 1:
        raise Conflict(_("Several channels have an order %(ref)s: give our order id.", ref=ref))
    return found[0]
