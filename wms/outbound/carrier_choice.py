"""Which carrier and service ship an order, and why: the channel's explicit carrier, else the carrier rules, else
the default carrier.

The core (`facts_of`, `decide`, `choose`) reads attributes only and runs no query, so it is unit-tested with plain
objects. In order:
(a) a carrier the channel named and that is configured here wins;
(b) else the first active rule (lowest priority, then id) naming the order's shipping method (compared trimmed and
    without case) whose other conditions hold;
(c) else the first generic rule (no shipping method) whose conditions all hold: destination countries, total
    weight, longest side of one unit, value, and the local time before the rule's cutoff (warehouse time zone);
(d) else the default carrier (wms.outbound.carriers_registry).
A rule naming a carrier not configured here is skipped; a fact the order lacks (a product without weight,
dimensions or price) makes a rule with that condition not match. Both are said in the reason. `apply` stores the
choice on the order and holds a relay delivery without a pick-up point.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from wms.picking.text import _

REASON_MAX = 500
# The relay (pick-up point) services of the carriers offered here: Colissimo A2P/BPR, Mondial Relay 24R/24L,
# Chronopost Chrono Relais (86), DPD Pickup, GLS ShopDeliveryService.
RELAY_SERVICES = frozenset({"a2p", "bpr", "24r", "24l", "86", "pickup", "shopdeliveryservice", "relay"})


@dataclass(frozen=True)
class Choice:
    """The carrier and service chosen for an order, the rule that chose them (None: no rule), and why."""

    carrier_code: str
    service: str | None
    relay: bool
    rule_id: int | None
    reason: str


@dataclass(frozen=True)
class OrderFacts:
    """What the rules look at, read from an order: None where the order does not tell."""

    channel_id: int | None
    warehouse_id: int | None
    requested: str | None
    shipping_method: str | None
    country: str | None
    weight_g: int | None
    longest_side_mm: int | None
    value: Decimal | None
    currency: str | None
    local_time: dt.time
    unknown: dict[str, str] = field(default_factory=dict)  # fact → what is missing, e.g. "MUG has no weight"


def normalized_method(method: str | None) -> str:
    return " ".join((method or "").split()).casefold()


def parse_countries(text: str | None) -> tuple[bool, frozenset[str]]:
    """("!FR,BE") → (True, {FR, BE}): excluded when the first item starts with '!'."""
    raw = (text or "").strip()
    exclude = raw.startswith("!")
    codes = frozenset(c.strip().lstrip("!").upper() for c in raw.split(",") if c.strip().lstrip("!"))
    return exclude, codes


def is_relay_service(service: str | None) -> bool:
    return (service or "").strip().casefold() in RELAY_SERVICES


def _kg(grams: int) -> str:
    return f"{grams / 1000:g} kg"


def _money(value: Decimal, currency: str | None) -> str:
    return f"{value:.2f} {currency}" if currency else f"{value:.2f}"


def facts_of(order: Any, now: dt.datetime, tz: dt.tzinfo = dt.UTC) -> OrderFacts:
    """The order's destination, weight, longest side, value and the local time of `now` (attributes only)."""
    weight, side, value = 0, 0, Decimal(0)
    unknown: dict[str, str] = {}
    for line in order.lines:
        product, qty = line.product, line.quantity
        if product.weight_g is None:
            unknown.setdefault("weight", _("%(sku)s has no weight", sku=product.sku))
        else:
            weight += product.weight_g * qty
        dims = (product.length_mm, product.width_mm, product.height_mm)
        if None in dims:
            unknown.setdefault("side", _("%(sku)s has no dimensions", sku=product.sku))
        else:
            side = max(side, *dims)
        price = line.unit_price if line.unit_price is not None else product.customs_value
        if price is None:
            unknown.setdefault("value", _("%(sku)s has no price nor customs value", sku=product.sku))
        else:
            value += Decimal(price) * qty
    country = str((order.ship_to or {}).get("country") or "").strip().upper() or None
    if country is None:
        unknown["country"] = _("the address has no country")
    return OrderFacts(
        channel_id=order.channel_id, warehouse_id=order.warehouse_id, requested=order.carrier_code,
        shipping_method=order.shipping_method, country=country,
        weight_g=None if "weight" in unknown else weight, longest_side_mm=None if "side" in unknown else side,
        value=None if "value" in unknown else value, currency=getattr(order, "currency", None),
        local_time=now.astimezone(tz).time().replace(second=0, microsecond=0), unknown=unknown)


def _rule_name(rule: Any) -> str:
    return _("rule '%(name)s' (#%(id)s)", name=rule.name, id=rule.id)


def _conditions(rule: Any, facts: OrderFacts) -> tuple[bool, list[str], str | None]:
    """(all hold, the facts that made them hold, why one could not be judged or None)."""
    said: list[str] = []
    if rule.countries:
        if facts.country is None:
            return False, said, facts.unknown["country"]
        exclude, codes = parse_countries(rule.countries)
        if (facts.country in codes) == exclude:
            return False, said, None
        said.append(_("destination %(country)s", country=facts.country))
    if rule.min_weight_g is not None or rule.max_weight_g is not None:
        if facts.weight_g is None:
            return False, said, _("weight unknown (%(why)s)", why=facts.unknown["weight"])
        if rule.min_weight_g is not None and facts.weight_g < rule.min_weight_g:
            return False, said, None
        if rule.max_weight_g is not None and facts.weight_g > rule.max_weight_g:
            return False, said, None
        if rule.min_weight_g is not None:
            said.append(f"{_kg(facts.weight_g)} ≥ {_kg(rule.min_weight_g)}")
        if rule.max_weight_g is not None:
            said.append(f"{_kg(facts.weight_g)} ≤ {_kg(rule.max_weight_g)}")
    if rule.max_side_mm is not None:
        if facts.longest_side_mm is None:
            return False, said, _("size unknown (%(why)s)", why=facts.unknown["side"])
        if facts.longest_side_mm > rule.max_side_mm:
            return False, said, None
        said.append(_("longest side %(side)s mm ≤ %(max)s mm", side=facts.longest_side_mm, max=rule.max_side_mm))
    if rule.min_value is not None or rule.max_value is not None:
        if facts.value is None:
            return False, said, _("value unknown (%(why)s)", why=facts.unknown["value"])
        if rule.min_value is not None and facts.value < rule.min_value:
            return False, said, None
        if rule.max_value is not None and facts.value > rule.max_value:
            return False, said, None
        if rule.min_value is not None:
            said.append(_("value %(value)s ≥ %(min)s", value=_money(facts.value, facts.currency),
                          min=_money(Decimal(rule.min_value), None)))
        if rule.max_value is not None:
            said.append(_("value %(value)s ≤ %(max)s", value=_money(facts.value, facts.currency),
                          max=_money(Decimal(rule.max_value), None)))
    if rule.before_time:
        try:
            cutoff = dt.time.fromisoformat(rule.before_time)
        except ValueError:  # written past the API's check: never a failed intake for it
            return False, said, _("cutoff %(time)s is not HH:MM", time=rule.before_time)
        if facts.local_time >= cutoff:
            return False, said, None
        said.append(_("%(now)s before the %(cutoff)s cutoff", now=facts.local_time.strftime("%H:%M"),
                      cutoff=rule.before_time))
    return True, said, None


def _applies_to(rule: Any, facts: OrderFacts) -> bool:
    return (bool(rule.active) and rule.channel_id in (None, facts.channel_id)
            and rule.warehouse_id in (None, facts.warehouse_id))


def _ordered(rules: Iterable[Any]) -> list[Any]:
    return sorted(rules, key=lambda r: (r.priority, r.id or 0))


def _finish(text: str, notes: Sequence[str]) -> str:
    if notes:
        text += "; " + _("passed over: %(notes)s", notes="; ".join(notes))
    return text if len(text) <= REASON_MAX else text[:REASON_MAX - 1] + "…"


def decide(facts: OrderFacts, rules: Iterable[Any], configured: Sequence[str], default: str) -> Choice:
    """The choice for these facts among these rules (CarrierRule rows or alike), `configured` carriers here."""
    if facts.requested and facts.requested in configured:
        return Choice(facts.requested, None, False, None,
                      _("the channel asked for carrier '%(carrier)s', configured here", carrier=facts.requested))
    method = normalized_method(facts.shipping_method)
    candidates = [r for r in _ordered(rules) if _applies_to(r, facts)]
    by_method = [r for r in candidates
                 if r.shipping_method and method and normalized_method(r.shipping_method) == method]
    generic = [r for r in candidates if not r.shipping_method]
    notes: list[str] = []
    for rule in [*by_method, *generic]:
        holds, said, unjudged = _conditions(rule, facts)
        if unjudged is not None:
            notes.append(f"{_rule_name(rule)}: {unjudged}")
        if not holds:
            continue
        if rule.carrier_code not in configured:
            notes.append(_("%(rule)s: carrier '%(carrier)s' is not configured here", rule=_rule_name(rule),
                           carrier=rule.carrier_code))
            continue
        if rule.shipping_method:
            said.insert(0, _("shipping method '%(method)s'", method=facts.shipping_method.strip()))
        facts_text = ", ".join(said) or _("no condition")
        relay = bool(rule.relay) or is_relay_service(rule.service)
        return Choice(rule.carrier_code, rule.service or None, relay, rule.id,
                      _finish(f"{_rule_name(rule)}: {facts_text}", notes))
    if facts.requested:
        text = _("carrier '%(carrier)s' is not configured here and no rule matched; the default carrier "
                 "'%(default)s' is used", carrier=facts.requested, default=default)
    else:
        text = _("no rule matched; the default carrier '%(default)s' is used", default=default)
    return Choice(default, None, False, None, _finish(text, notes))


def choose(order: Any, rules: Iterable[Any], now: dt.datetime, *, tz: dt.tzinfo = dt.UTC,
           configured: Sequence[str] | None = None, default: str | None = None) -> Choice:
    """The carrier, service and reason for `order` among `rules` at `now` (carriers from the registry unless
    given)."""
    if configured is None or default is None:
        from wms.outbound import carriers_registry as registry

        configured = registry.carrier_codes() if configured is None else configured
        default = registry.default_carrier_code() if default is None else default
    return decide(facts_of(order, now, tz), rules, configured, default)


# --- over the session: the rules of an order, storing the choice ----------------------------------------------


def rules_for(order: Any) -> list[Any]:
    """The active rules that may apply to the order (its warehouse or all, its channel or all), in order."""
    from sqlalchemy import or_, select

    from wms.db import db
    from wms.outbound.models import CarrierRule

    stmt = select(CarrierRule).where(
        CarrierRule.active.is_(True),
        or_(CarrierRule.warehouse_id.is_(None), CarrierRule.warehouse_id == order.warehouse_id),
        or_(CarrierRule.channel_id.is_(None), CarrierRule.channel_id == order.channel_id),
    ).order_by(CarrierRule.priority, CarrierRule.id)
    return list(db.session.scalars(stmt))


def warehouse_tz(warehouse_id: int | None) -> dt.tzinfo:
    from wms.db import db
    from wms.layout.models import Warehouse
    from wms.waves.slots import warehouse_zone

    return warehouse_zone(db.session.get(Warehouse, warehouse_id) if warehouse_id else None)


def preview(order: Any, now: dt.datetime | None = None) -> Choice:
    """What would be chosen for the order now, and why (nothing is stored)."""
    from wms.db import utcnow

    return choose(order, rules_for(order), now or utcnow(), tz=warehouse_tz(order.warehouse_id))


def apply(order: Any, now: dt.datetime | None = None) -> Choice:
    """Choose the order's carrier and service, store them with the reason, and hold a relay delivery that has no
    pick-up point (kind relay_point; the channel is told)."""
    from wms.orders import holds

    choice = preview(order, now)
    order.carrier_used = choice.carrier_code
    order.carrier_service = choice.service
    order.carrier_reason = choice.reason
    order.carrier_rule_id = choice.rule_id
    if choice.relay and not (order.relay_point_id or "").strip():
        holds.hold(order, holds.HoldKind.RELAY_POINT,
                   _("Delivery to a relay point (%(carrier)s) but the order names no pick-up point: choose a "
                     "pick-up point for the customer, then release the order.", carrier=choice.carrier_code))
    return choice


def shipping_carrier(order: Any) -> str:
    """The carrier that ships the order: the one chosen at intake; for orders taken in before that was kept, the
    rule's when a rule chose it, else the one asked for when configured here, else the default carrier."""
    from wms.db import db
    from wms.outbound import carriers_registry as registry
    from wms.outbound.models import CarrierRule

    if order.carrier_used:
        return str(order.carrier_used)
    if order.carrier_rule_id is not None:
        rule = db.session.get(CarrierRule, order.carrier_rule_id)
        if rule is not None:
            return rule.carrier_code
    return registry.choose_carrier(order.carrier_code).used
