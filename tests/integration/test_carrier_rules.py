"""Carrier rules end to end: kept through the API with readable refusals, applied at order intake (carrier,
service and reason on the order; a relay delivery without a pick-up point is held and the channel told), used when
packing starts, and the supervisor's page with its "try it"."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.test_dock_world import build_dock
from wms.db import db
from wms.orders.models import Order
from wms.outbound.models import CarrierRule
from wms.waves.services import eligible_orders_query
from wms.webhooks.models import WebhookEvent


@pytest.fixture
def dock(app, session, make_user):  # type: ignore[no-untyped-def]
    built = build_dock(make_user)
    built.product.weight_g = 2500
    built.admin = make_user("ada", roles=("admin",), all_warehouses=True, totp=True)  # type: ignore[attr-defined]
    session.commit()
    return built


@pytest.fixture
def page_dock(app, make_user):  # type: ignore[no-untyped-def]
    """The same dock, built in an app context of its own: each page request then picks its own language."""
    with app.app_context():
        built = build_dock(make_user)
        built.admin = make_user("ada", roles=("admin",), all_warehouses=True, totp=True)  # type: ignore[attr-defined]
        db.session.commit()
        return built


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}


def add_rule(client, dock, **body: Any):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/carrier-rules", json=body, headers=bearer(dock.supervisor))


def post_order(client, dock, external_id: str, quantity: int = 1, **extra: Any):  # type: ignore[no-untyped-def]
    body = {"external_id": external_id, "lines": [{"sku": "MUG", "quantity": quantity}],
            "ship_to": {"name": "Ada L.", "line1": "3 rue Oberkampf", "postcode": "75011", "city": "Paris",
                        "country": "FR"}, **extra}
    return client.post("/api/v1/channels/SHOP/orders", json=body, headers=bearer(dock.channel_token))


def test_the_shipping_method_maps_to_its_carrier_and_the_order_says_which_and_why(client, dock) -> None:  # type: ignore[no-untyped-def]
    rule = add_rule(client, dock, name="Express", shipping_method="Livraison express", carrier="gs1",
                    service="express", channel="SHOP")
    assert rule.status_code == 201, rule.get_json()
    rule_id = rule.get_json()["id"]
    add_rule(client, dock, name="Heavy", min_weight_g=10_000, carrier="gs1", service="heavy", priority=1)
    resp = post_order(client, dock, "O-EXP", shipping_method="  livraison EXPRESS ")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["carrier"] is None and body["carrier_used"] == "gs1" and body["carrier_service"] == "express"
    assert body["carrier_reason"] == f"rule 'Express' (#{rule_id}): shipping method 'livraison EXPRESS'"
    assert body["warnings"] == [] and body["hold"] is None
    # Four mugs weigh 10 kg: the generic weight rule; a single mug: no rule, the default carrier.
    heavy = post_order(client, dock, "O-HEAVY", quantity=4).get_json()
    assert heavy["carrier_service"] == "heavy" and "10 kg ≥ 10 kg" in heavy["carrier_reason"]
    light = post_order(client, dock, "O-LIGHT").get_json()
    assert light["carrier_used"] == "own-fleet" and light["carrier_service"] is None
    assert light["carrier_reason"] == "no rule matched; the default carrier 'own-fleet' is used"
    read = client.get("/api/v1/channels/SHOP/orders/O-EXP", headers=bearer(dock.channel_token)).get_json()
    assert read["carrier_used"] == "gs1" and read["carrier_reason"] == body["carrier_reason"]


def test_a_relay_rule_without_a_pick_up_point_holds_the_order_tells_the_channel_and_no_wave_takes_it(  # type: ignore[no-untyped-def]
        client, session, dock) -> None:
    add_rule(client, dock, name="Relais", shipping_method="Point relais", carrier="own-fleet", relay=True)
    held = post_order(client, dock, "O-RELAY", shipping_method="point relais").get_json()
    assert held["hold"]["kind"] == "relay_point" and "pick-up point" in held["hold"]["reason"]
    with_point = post_order(client, dock, "O-RELAY-2", shipping_method="point relais",
                            relay_point_id="FR-012345").get_json()
    assert with_point["hold"] is None
    session.expire_all()
    events = session.scalars(select(WebhookEvent.topic).order_by(WebhookEvent.id)).all()
    assert events.count("order.held") == 1
    eligible = {o.external_id for o in session.scalars(eligible_orders_query(dock.warehouse))}
    assert "O-RELAY" not in eligible


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "  ", "carrier": "gs1"}, "name"),
    ({"name": "DHL", "carrier": "dhl"}, "carrier"),
    ({"name": "Bad country", "carrier": "gs1", "countries": "FR,XX"}, "countries"),
    ({"name": "Bad time", "carrier": "gs1", "before_time": "25:00"}, "before_time"),
    ({"name": "Bad range", "carrier": "gs1", "min_weight_g": 500, "max_weight_g": 100}, "min_weight_g"),
    ({"name": "Bad value", "carrier": "gs1", "min_value": "50", "max_value": "10"}, "min_value"),
])
def test_a_bad_rule_is_refused_with_the_field_named_and_nothing_written(client, session, dock, body, field) -> None:  # type: ignore[no-untyped-def]
    resp = add_rule(client, dock, **body)
    assert resp.status_code == 422, resp.get_json()
    problem = resp.get_json()
    assert field in {e["field"] for e in problem["errors"]} and "not saved" in problem["detail"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(CarrierRule)) == 0


def test_rules_are_for_supervisors_and_an_order_keeps_the_carrier_chosen_at_intake(client, dock) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/carrier-rules", headers=bearer(dock.packer)).status_code == 403
    rule_id = add_rule(client, dock, name="All FR", countries="fr, be", carrier="gs1").get_json()["id"]
    listed = client.get("/api/v1/carrier-rules", headers=bearer(dock.supervisor)).get_json()
    assert [(r["id"], r["countries"], r["carrier_configured"]) for r in listed] == [(rule_id, "BE,FR", True)]
    post_order(client, dock, "O-FR")
    changed = client.patch(f"/api/v1/carrier-rules/{rule_id}", json={"carrier": "own-fleet"},
                           headers=bearer(dock.supervisor))
    assert changed.status_code == 200 and changed.get_json()["carrier"] == "own-fleet"
    assert post_order(client, dock, "O-FR1").get_json()["carrier_used"] == "own-fleet"  # chosen from now on
    off = client.patch(f"/api/v1/carrier-rules/{rule_id}", json={"active": False, "countries": None},
                       headers=bearer(dock.supervisor)).get_json()
    assert off["active"] is False and off["countries"] is None
    # The order keeps the carrier chosen at its intake; a new order no longer gets the rule.
    assert post_order(client, dock, "O-FR2").get_json()["carrier_used"] == "own-fleet"
    read = client.get("/api/v1/channels/SHOP/orders/O-FR", headers=bearer(dock.channel_token)).get_json()
    assert read["carrier_used"] == "gs1"
    order_id = db.session.scalar(select(Order.id).where(Order.external_id == "O-FR"))
    tried = client.get(f"/api/v1/orders/{order_id}/carrier-choice", headers=bearer(dock.supervisor)).get_json()
    assert tried["carrier"] == "own-fleet" and tried["stored_carrier"] == "gs1"


def test_the_rules_page_adds_refuses_readably_and_tries_an_order(app, client, page_dock, sign_in) -> None:  # type: ignore[no-untyped-def]
    dock = page_dock
    sign_in(client, dock.admin)
    page = client.get("/carrier-rules")
    assert page.status_code == 200 and "No carrier rule yet" in page.get_data(as_text=True)
    bad = client.post("/carrier-rules", data={"name": "Late", "carrier": "gs1", "before_time": "9h"})
    assert bad.status_code == 422 and "HH:MM" in bad.get_data(as_text=True)
    ok = client.post("/carrier-rules", data={"name": "France", "carrier": "gs1", "countries": "FR", "relay": "on"})
    assert ok.status_code == 302
    post_order(app.test_client(), dock, "O-PAGE", relay_point_id="FR-1")
    tried = client.get("/carrier-rules?order=O-PAGE").get_data(as_text=True)
    assert 'id="tried-reason"' in tried and "rule &#39;France&#39;" in tried and "destination FR" in tried
    with app.app_context():
        rule_id = db.session.scalar(select(CarrierRule.id))
    assert client.post(f"/carrier-rules/{rule_id}/active", data={}).status_code == 302
    with app.app_context():
        assert db.session.get(CarrierRule, rule_id).active is False
    client.post("/auth/language", data={"locale": "fr", "next": "/carrier-rules"})
    french = client.get("/carrier-rules").get_data(as_text=True)
    assert "Règles de transporteur" in french


def test_packing_starts_with_the_carrier_and_service_chosen_and_the_packer_may_still_override(session) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_packing_services import build_pack_world, ctx, pack_all
    from wms.outbound import packing_services as pk

    w = build_pack_world()
    rule = CarrierRule(name="Labels", carrier_code="gs1", service="express")
    session.add(rule)
    session.flush()
    w.order.carrier_rule_id, w.order.carrier_used, w.order.carrier_service = rule.id, "gs1", "express"
    session.commit()
    shipment = pk.start_packing(w.station, w.tote, ctx(w))
    assert (shipment.carrier_code, shipment.service) == ("gs1", "express")
    pack_all(w, shipment)
    pk.finish_packing(shipment, ctx(w), carrier_code="own-fleet")
    assert shipment.carrier_code == "own-fleet" and shipment.tracking_number
    assert shipment.service != "express"  # the first carrier's service is not asked of the one that labels it
