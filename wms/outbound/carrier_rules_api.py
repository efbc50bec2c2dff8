"""Carrier rules API (supervisors): list, add, change or deactivate the rules that choose an order's carrier and
service; see what would be chosen for an order now and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from wms.api.framework import caller as _principal
from wms.api.framework import operation
from wms.api.framework import warehouse_in_scope as _warehouse
from wms.db import db
from wms.errors import NotFound
from wms.layout.models import Warehouse
from wms.orders.models import Channel, Order
from wms.outbound import carrier_choice
from wms.outbound import carrier_rules as rules
from wms.outbound import carrier_rules_schemas as s
from wms.outbound import carriers_registry as registry
from wms.outbound.models import CarrierRule, Shipment

ROLES = ("supervisor",)
TAGS = ["carrier rules"]
NEVER_NULL = ("name", "carrier", "priority", "active", "relay")


def rule_out(rule: CarrierRule) -> s.CarrierRuleOut:
    warehouse = db.session.get(Warehouse, rule.warehouse_id) if rule.warehouse_id else None
    channel = db.session.get(Channel, rule.channel_id) if rule.channel_id else None
    return s.CarrierRuleOut(
        id=rule.id, name=rule.name, priority=rule.priority, active=rule.active,
        warehouse=warehouse.code if warehouse else None, channel=channel.code if channel else None,
        shipping_method=rule.shipping_method, countries=rule.countries, min_weight_g=rule.min_weight_g,
        max_weight_g=rule.max_weight_g, max_side_mm=rule.max_side_mm, min_value=rule.min_value,
        max_value=rule.max_value, before_time=rule.before_time, carrier=rule.carrier_code,
        carrier_configured=rule.carrier_code in registry.carrier_codes(), service=rule.service, relay=rule.relay,
        updated_at=rule.updated_at)


def choice_out(order: Order) -> s.CarrierChoiceOut:
    choice = carrier_choice.preview(order)
    shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order.id)
                                 .order_by(Shipment.id.desc()).limit(1))
    return s.CarrierChoiceOut(
        order_id=order.id, order=order.external_id, channel=order.channel.code, carrier=choice.carrier_code,
        service=choice.service, relay=choice.relay, rule_id=choice.rule_id, reason=choice.reason,
        stored_carrier=shipment.carrier_code if shipment else carrier_choice.shipping_carrier(order),
        stored_service=order.carrier_service, stored_reason=order.carrier_reason, hold=order.hold_kind)


def _given(body: s.CarrierRuleFields) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=True)
    return {k: v for k, v in data.items() if not (k in NEVER_NULL and v is None)}


@operation("/carrier-rules", "GET", summary="Carrier rules, in the order they are tried", tags=TAGS,
           query=s.CarrierRulesQuery, response=list[s.CarrierRuleOut], roles=ROLES, errors=(404,))
def carrier_rules_list(query: s.CarrierRulesQuery) -> list[s.CarrierRuleOut]:
    """Rules of the caller's warehouses and rules for every warehouse; `warehouse` keeps those that apply to it.
    Rules naming a shipping method are tried before the others, whatever their priority."""
    warehouse_id = _warehouse(query.warehouse).id if query.warehouse else None
    return [rule_out(r) for r in rules.list_rules(_principal().warehouse_ids, warehouse_id=warehouse_id,
                                                   include_inactive=query.include_inactive)]


@operation("/carrier-rules", "POST", summary="Add a carrier rule", tags=TAGS, body=s.CarrierRuleIn,
           response=s.CarrierRuleOut, status=201, roles=ROLES, idempotent=True)
def carrier_rule_create(body: s.CarrierRuleIn) -> s.CarrierRuleOut:
    """Refused (422, every problem named): an empty name, a carrier not configured here, an unknown country code,
    a time not HH:MM, a minimum above its maximum, an unknown warehouse or channel. A rule for every warehouse
    needs a caller with every warehouse (403)."""
    return rule_out(rules.create_rule(_given(body), _principal().warehouse_ids))


@operation("/carrier-rules/<int:rule_id>", "GET", summary="A carrier rule", tags=TAGS, response=s.CarrierRuleOut,
           roles=ROLES)
def carrier_rule_read(rule_id: int) -> s.CarrierRuleOut:
    """404 for a rule of a warehouse outside the caller's scope."""
    return rule_out(rules.get_rule(rule_id, _principal().warehouse_ids))


@operation("/carrier-rules/<int:rule_id>", "PATCH", summary="Change or deactivate a carrier rule", tags=TAGS,
           body=s.CarrierRulePatchIn, response=s.CarrierRuleOut, roles=ROLES, idempotent=True)
def carrier_rule_update(rule_id: int, body: s.CarrierRulePatchIn) -> s.CarrierRuleOut:
    """Fields left out stay as they are, a null clears a condition, `active: false` deactivates the rule. Orders
    already taken in keep the carrier and service it chose for them."""
    ids = _principal().warehouse_ids
    return rule_out(rules.update_rule(rules.get_rule(rule_id, ids), _given(body), ids))


@operation("/orders/<int:order_id>/carrier-choice", "GET", summary="What the carrier rules choose for an order now",
           tags=TAGS, response=s.CarrierChoiceOut, roles=ROLES)
def carrier_choice_preview(order_id: int) -> s.CarrierChoiceOut:
    """The carrier, service and reason the rules give the order at this moment (nothing is changed), beside
    what was chosen at intake."""
    order = db.session.get(Order, order_id)
    if order is None or not _principal().can_see_warehouse(order.warehouse_id):
        raise NotFound(f"No order {order_id}.")
    return choice_out(order)
