"""An order naming a carrier not configured here is told which carrier ships it and why, or refused if strict."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.test_dock_world import build_dock
from wms.orders.models import Order, Reservation
from wms.webhooks.models import WebhookEvent


@pytest.fixture
def dock(app, session, make_user):  # type: ignore[no-untyped-def]
    built = build_dock(make_user)
    session.commit()
    return built


def order(external_id: str, **extra: Any) -> dict[str, Any]:
    return {"external_id": external_id, "lines": [{"sku": "MUG", "quantity": 1}], **extra}


def post_order(client, dock, body: dict[str, Any], key: str | None = None):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/channels/SHOP/orders", json=body, headers={
        "Authorization": f"Bearer {dock.channel_token}", "Idempotency-Key": key or str(uuid.uuid4())})


def written(session) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Order, Reservation, WebhookEvent))


def test_an_order_naming_an_unconfigured_carrier_says_the_default_ships_it_and_why(client, session, dock) -> None:  # type: ignore[no-untyped-def]
    key = str(uuid.uuid4())
    resp = post_order(client, dock, order("O-DHL", carrier="dhl"), key=key)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["carrier"] == "dhl" and body["carrier_used"] == "own-fleet"
    [warning] = body["warnings"]
    assert warning["code"] == "carrier-not-configured" and warning["field"] == "carrier"
    assert "'dhl' is not configured" in warning["message"] and "'own-fleet' is used" in warning["message"]
    # The replay, a second send of the same order and a read all say the same.
    assert post_order(client, dock, order("O-DHL", carrier="dhl"), key=key).get_json() == body
    again = post_order(client, dock, order("O-DHL", carrier="dhl"))
    assert again.status_code == 200 and again.get_json()["warnings"] == body["warnings"]
    read = client.get("/api/v1/channels/SHOP/orders/O-DHL", headers={"Authorization": f"Bearer {dock.channel_token}"})
    assert read.get_json()["carrier_used"] == "own-fleet" and read.get_json()["warnings"] == body["warnings"]


def test_the_default_carrier_setting_names_the_substitute(app, client, dock) -> None:  # type: ignore[no-untyped-def]
    app.config["DEFAULT_CARRIER"] = "gs1"
    body = post_order(client, dock, order("O-DHL2", carrier="dhl")).get_json()
    assert body["carrier_used"] == "gs1" and "'gs1' is used" in body["warnings"][0]["message"]


@pytest.mark.parametrize("carrier", [None, "own-fleet", "gs1"])
def test_an_order_naming_a_configured_carrier_or_none_has_no_warning(client, dock, carrier) -> None:  # type: ignore[no-untyped-def]
    extra = {"carrier": carrier} if carrier else {}
    resp = post_order(client, dock, order("O-OK", strict_carrier=True, **extra))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["warnings"] == [] and body["carrier"] == carrier and body["carrier_used"] == (carrier or "own-fleet")


def test_a_strict_order_naming_an_unconfigured_carrier_is_refused_and_nothing_is_written(client, session, dock) -> None:  # type: ignore[no-untyped-def]
    before = written(session)
    resp = post_order(client, dock, order("O-STRICT", carrier="dhl", strict_carrier=True))
    assert resp.status_code == 422
    problem = resp.get_json()
    assert problem["type"].endswith("/carrier-not-configured")
    assert problem["errors"][0]["field"] == "carrier" and "'dhl' is not configured" in problem["detail"]
    assert problem["carriers"] == ["own-fleet", "gs1"]
    assert written(session) == before
    # Not strict, the same order is taken with the default carrier.
    assert post_order(client, dock, order("O-STRICT", carrier="dhl")).status_code == 201


def test_the_document_describes_the_substitute_and_the_strict_refusal(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert {"carrier_used", "warnings"} <= set(schemas["OrderOut"]["required"])
    assert schemas["OrderIn"]["properties"]["strict_carrier"]["type"] == "boolean"
    create = document["paths"]["/api/v1/channels/{channel_code}/orders"]["post"]
    assert "strict_carrier" in create["description"] and "422" in create["responses"]
