"""Relay points of orders, on the embedded SQLite database with the Mondial Relay and Sendcloud stand-ins on
127.0.0.1, configured by their settings as in production: the point chosen at checkout is checked by a job after
intake (stored when valid, the order held naming what is wrong when not, left unchecked when the carrier is
away); a supervisor searches the carrier's points by postcode and chooses one, which releases the hold and tells
the channel; the JSON API does the same."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask import Flask, current_app, g
from flask_babel import refresh
from sqlalchemy import select

from tests.conftest import make_test_app
from tests.factories import sign_in_client
from tests.standins.mondial_relay import MondialRelayStandIn, Point
from tests.standins.sendcloud import PUBLIC_KEY as SC_PUBLIC
from tests.standins.sendcloud import SECRET_KEY as SC_SECRET
from tests.standins.sendcloud import SendcloudStandIn, ServicePoint
from wms.catalog.models import Product
from wms.db import db
from wms.dbcli import alembic_config
from wms.jobs.aftercommit import PENDING_KEY
from wms.orders.models import Channel, ChannelKind, Order
from wms.orders.services import LineRequest, OrderRequest, create_order
from wms.outbound import relay_points
from wms.webhooks.models import WebhookEvent

MR = "mondial-relay"
SHIP_TO = {"name": "Amélie Leçon", "line1": "5 place de l'Église", "postcode": "75010", "city": "Paris",
           "country": "FR"}
TODAY = dt.date.today()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated by the real revisions; each test works on a copy."""
    path = tmp_path_factory.mktemp("relay") / "migrated.db"
    command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
    return path


@pytest.fixture
def app(migrated: Path, tmp_path: Path) -> Iterator[Flask]:  # the suite's factories build on this app
    path = tmp_path / "relay.db"
    shutil.copy(migrated, path)
    app = make_test_app(f"sqlite:///{path}")
    yield app
    db.engine(app).dispose()


@pytest.fixture
def mr() -> Iterator[MondialRelayStandIn]:
    standin = MondialRelayStandIn(enseigne="CC20RZ01")
    standin.points = {
        "066974": Point("066974", "Tabac de la Gare", "8 rue de Paris", "75010", "Paris", distance=350),
        "012345": Point("012345", "Presse du Canal", "2 quai de Jemmapes", "75010", "Paris", distance=1240),
    }
    with standin:
        yield standin
    assert standin.violations == [], "the adapter sent a request the documented schema refuses"


@pytest.fixture
def sendcloud() -> Iterator[SendcloudStandIn]:
    with SendcloudStandIn() as standin:
        yield standin
    assert standin.violations == []


def mr_settings(mr: MondialRelayStandIn) -> dict[str, str]:
    return {"MONDIAL_RELAY_ENSEIGNE": mr.enseigne, "MONDIAL_RELAY_PRIVATE_KEY": mr.private_key,
            "MONDIAL_RELAY_LOGIN": mr.login, "MONDIAL_RELAY_PASSWORD": mr.password,
            "MONDIAL_RELAY_CUSTOMER_ID": mr.customer_id, "MONDIAL_RELAY_SHIPMENT_URL": f"{mr.url}/api/shipment",
            "MONDIAL_RELAY_SOAP_URL": f"{mr.url}/Web_Services.asmx", "MONDIAL_RELAY_TIMEOUT": "2"}


@pytest.fixture
def world(app, session, mr, make_warehouse, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    for key, value in mr_settings(mr).items():
        monkeypatch.setitem(app.config, key, value)
    warehouse = make_warehouse("PAR")
    product = Product(sku="MUG-1", name="Mug", weight_g=1200)
    channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=warehouse.id,
                      webhook_url="https://shop.example/hooks", webhook_secret="s3cret")
    db.session.add_all([product, channel])
    supervisor = make_user("sam", roles=("supervisor",), password=None, totp=True, warehouses=(warehouse,))
    db.session.commit()
    return {"warehouse": warehouse, "channel": channel, "supervisor": supervisor, "mr": mr}


def take_in(channel: Channel, external_id: str, point: str | None, *, quantity: int = 1,
            carrier: str = MR) -> Order:
    return create_order(channel, OrderRequest(external_id=external_id, lines=[LineRequest("MUG-1", quantity)],
                                              carrier_code=carrier, ship_to=dict(SHIP_TO),
                                              relay_point_id=point)).order


def topics(order: Order) -> list[str]:
    return list(db.session.scalars(select(WebhookEvent.topic).where(WebhookEvent.object_key == f"order:{order.id}")
                                   .order_by(WebhookEvent.id)))


def fresh(order_id: int) -> Order:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order is not None
    return order


def held_for_relay(world, external_id: str = "SO-1") -> Order:  # type: ignore[no-untyped-def]
    order = take_in(world["channel"], external_id, "999999")
    db.session.commit()
    assert relay_points.run_check(order.id).outcome == "held"
    db.session.commit()
    return fresh(order.id)


def test_an_order_naming_a_relay_point_the_carrier_does_not_know_is_held_by_the_job_deferred_at_intake(
        world) -> None:  # type: ignore[no-untyped-def]
    order = take_in(world["channel"], "SO-1", "999999")
    pending = db.session.info[PENDING_KEY]
    assert [(p.name, p.kwargs) for p in pending.values() if p.name == relay_points.TASK] == [
        (relay_points.TASK, {"order_id": order.id})]
    db.session.commit()  # no job engine on SQLite: the job's work is run here as the worker would
    result = relay_points.run_check(order.id)
    db.session.commit()
    order = fresh(order.id)
    assert result.outcome == "held" and order.hold_kind == "relay_point"
    assert "999999" in order.hold_reason and "Mondial Relay" in order.hold_reason
    assert order.relay_checked_at is None and order.relay_point is None
    assert topics(order)[-1] == "order.held"


def test_a_valid_relay_point_is_stored_as_the_carrier_described_it(world) -> None:  # type: ignore[no-untyped-def]
    order = take_in(world["channel"], "SO-2", "66974")  # the checkout's number without its padding
    db.session.commit()
    assert relay_points.run_check(order.id).outcome == "valid"
    db.session.commit()
    order = fresh(order.id)
    assert not order.held and order.relay_checked_at is not None
    assert order.relay_point_id == "066974"
    assert order.relay_point["name"] == "Tabac de la Gare" and order.relay_point["address"]["postcode"] == "75010"
    assert {"weekday": 1, "opens": "09:00", "closes": "12:30"} in order.relay_point["opening_hours"]
    assert relay_points.unchecked_orders() == []
    order.relay_point_id = "012345"  # the channel's update names another point: it is checked again
    db.session.commit()
    assert relay_points.unchecked_orders() == [order.id]


@pytest.mark.parametrize("trouble, said", [
    ("closure", "is closed from"),
    ("weight", "takes parcels up to 2 kg, this one weighs 2.4 kg"),
])
def test_a_point_closed_in_the_coming_days_or_too_small_for_the_parcel_holds_the_order_saying_why(
        world, trouble, said, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    if trouble == "closure":
        world["mr"].points["066974"].closures = [(TODAY + dt.timedelta(days=2), TODAY + dt.timedelta(days=20))]
    else:
        monkeypatch.setitem(current_app.config, "MONDIAL_RELAY_RELAY_MAX_GRAMS", 2000)
    order = take_in(world["channel"], "SO-3", "066974", quantity=2)
    db.session.commit()
    assert relay_points.run_check(order.id).outcome == "held"
    db.session.commit()
    assert said in fresh(order.id).hold_reason


def test_a_carrier_away_leaves_the_order_unchecked_never_held_and_the_dispatcher_asks_again(
        world) -> None:  # type: ignore[no-untyped-def]
    order = take_in(world["channel"], "SO-4", "066974")
    db.session.commit()
    world["mr"].next_stat = "98"  # "Service indisponible"
    with pytest.raises(relay_points.RelayCheckPostponed, match="unavailable"):
        relay_points.run_check(order.id)
    db.session.rollback()  # what the job engine does with a job that raised
    order = fresh(order.id)
    assert not order.held and order.relay_checked_at is None and "order.held" not in topics(order)
    assert relay_points.unchecked_orders() == [order.id]
    assert relay_points.run_check(order.id).outcome == "valid"  # the carrier is back: the next check passes


def test_the_supervisor_page_lists_held_orders_and_searches_points_with_hours_and_distance(
        app, world, make_warehouse, make_user) -> None:  # type: ignore[no-untyped-def]
    order = held_for_relay(world)
    elsewhere = make_user("lyon", roles=("supervisor",), password=None, totp=True,
                          warehouses=(make_warehouse("LYS"),))
    db.session.commit()
    outsider = app.test_client()
    sign_in_client(app, outsider, elsewhere)
    assert "SO-1" not in outsider.get("/relay-points").get_data(as_text=True)
    assert outsider.get(f"/relay-points/{order.id}").status_code == 404
    assert outsider.post(f"/relay-points/{order.id}/choose", data={"point_id": "066974"}).status_code == 404
    g.pop("_login_user", None)  # the requests share this test's app context: the next client is someone else
    g.pop("principal", None)
    client = app.test_client()
    sign_in_client(app, client, world["supervisor"])
    page = client.get("/relay-points")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="relay-hold-{order.id}"' in html and "SO-1" in html and "Amélie Leçon" in html
    assert "999999" in html and 'href="/relay-points"' in html  # the nav links it
    assert "<script" not in html and "style=" not in html
    found = client.get(f"/relay-points/{order.id}")  # default: the delivery postcode and country
    html = found.get_data(as_text=True)
    assert found.status_code == 200
    assert html.index("Tabac de la Gare") < html.index("Presse du Canal")  # nearest first
    assert "350 m" in html and "1.2 km" in html
    assert "09:00–12:30, 14:00–19:00" in html and re.search(r"<th>Sunday</th><td>closed all day</td>", html)
    assert html.count("Choose this point") == 2
    switched = client.post("/auth/language", data={"locale": "fr", "next": "/relay-points"})
    assert switched.status_code == 302, switched.get_data(as_text=True)[:300]
    refresh()  # the requests share this test's app context, where Flask-Babel keeps the locale it chose
    french = client.get(f"/relay-points/{order.id}").get_data(as_text=True)
    assert 'lang="fr"' in french and "Point relais de la commande SO-1" in french
    assert "<th>Dimanche</th><td>fermé</td>" in french and french.count("Choisir ce point") == 2


def test_choosing_a_point_releases_the_hold_and_tells_the_channel_the_new_point(
        app, world) -> None:  # type: ignore[no-untyped-def]
    order = held_for_relay(world)
    client = app.test_client()
    sign_in_client(app, client, world["supervisor"])
    answer = client.post(f"/relay-points/{order.id}/choose", data={"point_id": "012345", "country": "FR"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/relay-points")
    order = fresh(order.id)
    assert not order.held and order.relay_point_id == "012345" and order.relay_checked_at is not None
    assert topics(order)[-3:] == ["order.held", "order.relay_point_changed", "order.released"]
    changed = db.session.scalar(select(WebhookEvent).where(WebhookEvent.topic == "order.relay_point_changed"))
    data = changed.payload["data"]
    assert data["relay_point_id"] == "012345" and data["previous_relay_point_id"] == "999999"
    assert data["relay_point"]["name"] == "Presse du Canal"
    assert "No order is waiting" in client.get("/relay-points").get_data(as_text=True)


def test_a_carrier_away_or_a_bad_postcode_is_a_readable_message_and_the_order_stays_held(
        app, world) -> None:  # type: ignore[no-untyped-def]
    order = held_for_relay(world)
    client = app.test_client()
    sign_in_client(app, client, world["supervisor"])
    world["mr"].next_stat = "98"
    page = client.get(f"/relay-points/{order.id}?postcode=75010&country=FR")
    assert page.status_code == 200 and "could not be reached; nothing was changed" in page.get_data(as_text=True)
    assert "Give a postcode" in client.get(f"/relay-points/{order.id}?postcode=%3F&country=FR").get_data(
        as_text=True)
    assert "The search was refused" in client.get(  # no point known there: Mondial Relay answers STAT 9
        f"/relay-points/{order.id}?postcode=06000&country=FR").get_data(as_text=True)
    world["mr"].next_stat = "98"
    chosen = client.post(f"/relay-points/{order.id}/choose", data={"point_id": "066974", "country": "FR"},
                         follow_redirects=True)
    assert chosen.status_code == 200 and "could not be reached" in chosen.get_data(as_text=True)
    order = fresh(order.id)
    assert order.held and order.relay_point_id == "999999" and topics(order)[-1] == "order.held"


def api_headers(app: Flask, make_token, user, key: str | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {make_token('user', user=user)}"}
    db.session.commit()
    if key:
        headers["Idempotency-Key"] = key
    return headers


def test_the_api_lists_searches_and_chooses_with_sendcloud_and_answers_503_when_it_is_away(
        app, world, sendcloud, make_token, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for key, value in {"SENDCLOUD_PUBLIC_KEY": SC_PUBLIC, "SENDCLOUD_SECRET_KEY": SC_SECRET,
                       "SENDCLOUD_SHIPPING_OPTION": "mondial_relay:servicepoint",
                       "SENDCLOUD_BASE_URL": f"{sendcloud.url}/api/v3",
                       "SENDCLOUD_SERVICE_POINTS_URL": f"{sendcloud.url}/sp/api/v2"}.items():
        monkeypatch.setitem(app.config, key, value)
    sendcloud.service_points[10563] = ServicePoint(10563, "Tabac de la Mairie", "rue Ordener", "101", "75018",
                                                   "Paris", distance=420)
    order = take_in(world["channel"], "SO-9", "424242", carrier="sendcloud")
    db.session.commit()
    assert relay_points.run_check(order.id).outcome == "held"
    db.session.commit()
    client = app.test_client()
    auth = api_headers(app, make_token, world["supervisor"])
    holds: list[dict[str, Any]] = client.get("/api/v1/relay-holds", headers=auth).get_json()
    assert [(h["order"], h["carrier"], h["relay_point_id"]) for h in holds] == [("SO-9", "sendcloud", "424242")]
    found = client.get("/api/v1/channels/SHOP/orders/SO-9/relay-points?postcode=75018", headers=auth)
    assert found.status_code == 200, found.get_data(as_text=True)
    body = found.get_json()
    assert body["country"] == "FR" and body["weight_grams"] == 1200
    [point] = body["points"]
    assert point["id"] == "10563" and point["distance_m"] == 420 and point["refusal"] is None
    assert {"weekday": 1, "opens": "09:00", "closes": "12:30"} in point["opening_hours"]

    sendcloud.fail_next(1, 503, path="/service-points")  # the carrier away: a readable 503, nothing written
    down = client.post("/api/v1/channels/SHOP/orders/SO-9/relay-point", json={"point_id": "10563"},
                       headers=api_headers(app, make_token, world["supervisor"], "choose-1"))
    assert down.status_code == 503 and down.mimetype == "application/problem+json"
    assert fresh(order.id).held
    chosen = client.post("/api/v1/channels/SHOP/orders/SO-9/relay-point", json={"point_id": "10563"},
                         headers=api_headers(app, make_token, world["supervisor"], "choose-2"))
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    assert chosen.get_json()["relay_point"]["name"] == "Tabac de la Mairie" and chosen.get_json()["held"] is False
    assert topics(fresh(order.id))[-2:] == ["order.relay_point_changed", "order.released"]
