"""Who may call what: every catalog and layout endpoint against every kind of caller, and warehouse scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import g

from tests.factories import open_test_session
from wms.auth.sessions import SESSION_KEY
from wms.catalog import services as catalog

CALLERS = ["anonymous", "picker", "receiver", "packer", "supervisor", "supervisor_without_second_factor", "admin",
           "channel_token", "print_site_token"]
PEOPLE = {"picker", "receiver", "packer", "supervisor", "supervisor_without_second_factor", "admin"}

# Expected status per caller, in CALLERS order.
READ_BY_PEOPLE_AND_CHANNELS = (401, 200, 200, 200, 200, 403, 200, 200, 403)
READ_BY_PEOPLE_AND_SITES = (401, 200, 200, 200, 200, 403, 200, 200, 200)
READ_BY_PEOPLE_AND_PRINT_SITE = (401, 200, 200, 200, 200, 403, 200, 403, 200)


def supervisors_only(ok: int) -> tuple[int, ...]:
    return (401, 403, 403, 403, ok, 403, ok, 403, 403)


ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, tuple[int, ...]]] = [
    ("GET", "/api/v1/products", None, READ_BY_PEOPLE_AND_CHANNELS),
    ("GET", "/api/v1/products?q=widget&limit=5", None, READ_BY_PEOPLE_AND_CHANNELS),
    ("GET", "/api/v1/products/SKU-1", None, READ_BY_PEOPLE_AND_CHANNELS),
    ("GET", "/api/v1/barcodes/4006381333931", None, READ_BY_PEOPLE_AND_CHANNELS),
    ("POST", "/api/v1/products", {"sku": "NEW-1", "name": "New", "barcodes": [{"code": "73513537"}]},
     supervisors_only(201)),
    ("PATCH", "/api/v1/products/SKU-1", {"name": "Renamed"}, supervisors_only(200)),
    ("POST", "/api/v1/products/SKU-1/barcodes", {"code": "036000291452", "quantity": 6}, supervisors_only(201)),
    ("DELETE", "/api/v1/products/SKU-1/barcodes/4006381333931", None, supervisors_only(204)),
    ("GET", "/api/v1/warehouses", None, READ_BY_PEOPLE_AND_SITES),
    ("GET", "/api/v1/warehouses/WH-A", None, READ_BY_PEOPLE_AND_SITES),
    ("GET", "/api/v1/warehouses/WH-A/locations?zone=A&limit=3", None, READ_BY_PEOPLE_AND_PRINT_SITE),
    ("GET", "/api/v1/warehouses/WH-A/locations/A01-01-1", None, READ_BY_PEOPLE_AND_PRINT_SITE),
]


@pytest.fixture
def world(session, make_warehouse, make_rack_zone, make_user, make_token, commit):  # type: ignore[no-untyped-def]
    wh_a, wh_b = make_warehouse("WH-A"), make_warehouse("WH-B")
    make_rack_zone(wh_a, "A")
    make_rack_zone(wh_b, "B")
    catalog.create_product("SKU-1", "Widget", barcodes=[catalog.BarcodeSpec("4006381333931")])
    users = {role: make_user(roles=(role,), warehouses=(wh_a,), totp=role in ("supervisor", "admin"))
             for role in ("picker", "receiver", "packer", "supervisor", "admin")}
    tokens = {
        "channel_token": make_token("channel", warehouse=wh_a),
        "print_site_token": make_token("print_site", warehouse=wh_a),
        "channel_token_b": make_token("channel", warehouse=wh_b),
    }
    commit()
    return {"users": users, "tokens": tokens, "warehouses": (wh_a, wh_b)}


def sign_in(app, client, user, *, second_factor: bool) -> None:  # type: ignore[no-untyped-def]
    """Like the shared factory, but the session identifier is computed from the client's own address and agent
    (Flask-Login's strong session protection drops the session when they differ)."""
    from flask_login.utils import _create_identifier

    with app.test_request_context(base_url="https://localhost", environ_base=client.environ_base):
        ident = _create_identifier()
    with client.session_transaction() as sess:
        sess.update({"_user_id": user.get_id(), "_fresh": True, "_id": ident, "second_factor_done": second_factor,
                     SESSION_KEY: open_test_session(app, user)})


@pytest.fixture
def call_as(app, client, world) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    def call(caller: str, method: str, url: str, body: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        # Requests made while the `session` fixture holds an app context share its `g`, where the caller is
        # cached: forget the previous caller as a fresh production request would.
        g.pop("principal", None)
        headers = {}
        if caller in PEOPLE:
            role = "supervisor" if caller == "supervisor_without_second_factor" else caller
            sign_in(app, client, world["users"][role], second_factor=caller != "supervisor_without_second_factor")
        elif caller in world["tokens"]:
            headers["Authorization"] = f"Bearer {world['tokens'][caller]}"
        elif caller.startswith("wms_"):
            headers["Authorization"] = f"Bearer {caller}"
        return client.open(url, method=method, headers=headers, json=body)

    return call


@pytest.mark.parametrize(("method", "url", "body", "expected"), ENDPOINTS,
                         ids=[f"{m} {u}" for m, u, _, _ in ENDPOINTS])
@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_gets_the_expected_status(call_as, caller, method, url, body, expected):  # type: ignore[no-untyped-def]
    resp = call_as(caller, method, url, body)
    want = expected[CALLERS.index(caller)]
    assert resp.status_code == want, resp.get_data(as_text=True)
    if want >= 400:
        assert resp.mimetype == "application/problem+json"
        assert {"type", "title", "status", "detail"} <= set(resp.json)
        if caller == "supervisor_without_second_factor":
            assert resp.json["type"] == "/problems/second-factor-required"


@pytest.mark.parametrize("url", ["/api/v1/warehouses/WH-B", "/api/v1/warehouses/WH-B/locations",
                                 "/api/v1/warehouses/WH-B/locations/B01-01-1"])
@pytest.mark.parametrize("caller", ["picker", "supervisor", "print_site_token"])
def test_a_caller_of_warehouse_a_cannot_read_warehouse_b(call_as, caller, url):  # type: ignore[no-untyped-def]
    resp = call_as(caller, "GET", url)
    assert resp.status_code == 403
    assert resp.json["type"] == "/problems/warehouse-forbidden"
    assert resp.mimetype == "application/problem+json"


def test_a_channel_token_of_warehouse_a_cannot_read_warehouse_b(call_as):  # type: ignore[no-untyped-def]
    resp = call_as("channel_token", "GET", "/api/v1/warehouses/WH-B")
    assert resp.status_code == 403
    assert resp.json["type"] == "/problems/warehouse-forbidden"


@pytest.mark.parametrize("url", ["/api/v1/warehouses/NOPE", "/api/v1/warehouses/NOPE/locations",
                                 "/api/v1/warehouses/NOPE/locations/A01-01-1",
                                 "/api/v1/warehouses/WH-A/locations/NOPE"])
def test_an_unknown_warehouse_or_location_is_a_404(call_as, url):  # type: ignore[no-untyped-def]
    resp = call_as("supervisor", "GET", url)
    assert resp.status_code == 404
    assert resp.json["type"] == "/problems/not-found"


def test_warehouse_list_shows_only_the_callers_scope(call_as, world, make_user, make_token, commit):  # type: ignore[no-untyped-def]
    assert [w["code"] for w in call_as("channel_token_b", "GET", "/api/v1/warehouses").json] == ["WH-B"]
    assert [w["code"] for w in call_as("picker", "GET", "/api/v1/warehouses").json] == ["WH-A"]
    everywhere = make_user(roles=("supervisor",), all_warehouses=True)
    narrowed = make_token("user", user=everywhere, warehouse=world["warehouses"][1])
    wide = make_token("user", user=everywhere)
    commit()
    assert [w["code"] for w in call_as(wide, "GET", "/api/v1/warehouses").json] == ["WH-A", "WH-B"]
    assert [w["code"] for w in call_as(narrowed, "GET", "/api/v1/warehouses").json] == ["WH-B"]
    resp = call_as(narrowed, "GET", "/api/v1/warehouses/WH-A")
    assert resp.json["type"] == "/problems/warehouse-forbidden"


def test_warehouse_detail_lists_zones_aisles_and_printers(call_as, world, session, commit):  # type: ignore[no-untyped-def]
    from wms.enums import PrinterPlace, ZoneKind
    from wms.layout import services as layout

    wh_a = world["warehouses"][0]
    zone = wh_a.zones[0]
    layout.add_zone(wh_a, "DOCK", ZoneKind.RECEIVING_DOCK)
    backup = layout.add_printer(wh_a, "P-BAK", place=PrinterPlace.OFFICE, connection="virtual://bak")
    layout.add_printer(wh_a, "P-A", place=PrinterPlace.RACK_HEAD, zone=zone, connection="socket://10.0.0.5:9100",
                       backup=backup)
    commit()
    body = call_as("supervisor", "GET", "/api/v1/warehouses/WH-A").json
    assert [(z["code"], z["kind"]) for z in body["zones"]] == [("A", "rack"), ("DOCK", "receiving_dock")]
    assert [(a["code"], a["face"]) for a in body["zones"][0]["aisles"]] == [
        ("AR0", "replenish"), ("AP1", "pick"), ("AR2", "replenish")]
    assert [(r["code"], r["pick_aisle"], r["replenish_aisle"]) for r in body["zones"][0]["racks"]] == [
        ("A01", "AP1", "AR0"), ("A02", "AP1", "AR2")]
    assert [(p["code"], p["zone"], p["backup"]) for p in body["printers"]] == [
        ("P-A", "A", "P-BAK"), ("P-BAK", None, None)]
    assert "connection" not in body["printers"][0]


def test_location_has_coordinates_and_both_faces(call_as):  # type: ignore[no-untyped-def]
    body = call_as("receiver", "GET", "/api/v1/warehouses/WH-A/locations/A02-03-2").json
    assert (body["zone"], body["rack"], body["bay"], body["level"], body["aisle_index"], body["position_m"]) == (
        "A", "A02", 3, 2, 1, 2.5)
    assert body["faces"] == [{"face": "pick", "aisle": "AP1"}, {"face": "replenish", "aisle": "AR2"}]


def test_locations_filter_by_zone_and_code_with_paging(call_as):  # type: ignore[no-untyped-def]
    page = call_as("picker", "GET", "/api/v1/warehouses/WH-A/locations?q=A01-0&limit=3&offset=2").json
    assert page["total"] == 8
    assert [loc["code"] for loc in page["items"]] == ["A01-02-1", "A01-02-2", "A01-03-1"]
    assert call_as("picker", "GET", "/api/v1/warehouses/WH-A/locations?zone=A").json["total"] == 16
    resp = call_as("picker", "GET", "/api/v1/warehouses/WH-A/locations?zone=ZZ")
    assert resp.status_code == 404
    resp = call_as("picker", "GET", "/api/v1/warehouses/WH-A/locations?limit=501")
    assert resp.status_code == 422
    assert resp.json["errors"][0]["field"] == "limit"
