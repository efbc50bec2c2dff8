"""The handheld's start page is the badge sign-in: a signed-out /hh/ (or any handheld page) goes there, not to the
desktop password form, and comes back to the page asked for; signing out from the handheld returns to it. The pick
sheet names the sas drop points to scan, and a wrong drop scan is answered with their codes."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.e2e.handheld_support import PIN, PickWorld, build_world, ean_for
from wms.db import db
from wms.layout.models import Zone

DEVICE = "hh-start-test-device"


def sign_in_by_badge(client: FlaskClient, badge: str, next_page: str | None = None) -> str:
    url = "/auth/badge" + (f"?next={next_page}" if next_page is not None else "")
    resp = client.post(url, data={"badge": badge, "pin": PIN, "device_id": DEVICE})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp.headers["Location"]


def test_a_signed_out_handheld_starts_on_the_badge_sign_in_and_returns_to_it_on_sign_out(app: Flask) -> None:
    with app.app_context():
        world: PickWorld = build_world(orders=1)
        badge = world.picker.badge_code
        db.session.commit()
    client = app.test_client()

    start = client.get("/hh/")
    assert start.status_code == 302 and start.headers["Location"] == "/auth/badge?next=/hh/"
    page = client.get(start.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="badge"' in page and 'id="pin"' in page and 'id="password"' not in page
    assert "No badge? Sign in with a username and password" in page  # for the few without a badge

    deep = client.get("/hh/pick")
    assert deep.headers["Location"] == "/auth/badge?next=/hh/pick"
    assert client.get("/hh/api/session", headers={"Accept": "application/json"}).status_code == 401  # JSON stays 401
    assert sign_in_by_badge(client, badge, "/hh/pick") == "/hh/pick"  # back to the page asked for
    assert client.get("/hh/").status_code == 200

    signed_out = client.post("/auth/logout", data={"next": "/hh/"})  # the handheld home's Sign out button
    assert signed_out.status_code == 302 and signed_out.headers["Location"] == "/auth/badge"
    for elsewhere in ("https://evil.example/hh/", "/admin/users", "/hh/../admin/users"):
        assert sign_in_by_badge(client, badge, elsewhere) == "/hh/"  # never out of the handheld app
        client.post("/auth/logout", data={"next": "/hh/"})
    sign_in_by_badge(client, badge)
    desktop = client.post("/auth/logout")
    assert desktop.headers["Location"] == "/auth/login"  # the desktop sign-out is unchanged
    assert client.get("/").headers["Location"].startswith("/auth/login")  # and so are the desktop pages


def test_the_pick_sheet_names_the_sas_drop_points_and_a_wrong_drop_scan_names_them_too(app: Flask) -> None:
    with app.app_context():
        world = build_world(orders=1)
        sas_zone = db.session.scalar(select(Zone).where(Zone.code == "SAS"))
        from wms.layout import services as layout

        layout.add_floor_location(sas_zone, "SAS-02")
        badge, zone_id = world.picker.badge_code, world.site.zones["A"].id
        db.session.commit()
    client = app.test_client()
    sign_in_by_badge(client, badge)
    token = client.get("/hh/api/session", headers={"X-Device-Id": DEVICE}).get_json()["csrf_token"]

    def post(path: str, body: dict) -> dict:  # type: ignore[type-arg]
        resp = client.post("/hh/api" + path, json=body, headers={"Idempotency-Key": str(uuid.uuid4()),
                                                                 "X-Device-Id": DEVICE, "X-CSRFToken": token})
        assert resp.status_code < 500, resp.get_data(as_text=True)
        return resp.get_json()

    sheet = post("/pick/take", {"zone_id": zone_id})["sheet"]
    assert sheet["op"]["drop_points"] == ["SAS-01", "SAS-02"]
    op_id = sheet["op"]["id"]
    with app.app_context():
        from wms.catalog.models import Product

        eans = {p.sku: ean_for(p) for p in db.session.scalars(select(Product))}
    for line in sheet["lines"]:
        for step, value in (("location", line["location"]), ("item", eans[line["sku"]]), ("tote", line["tote"])):
            answer = post(f"/pick/{op_id}/scan", {"step": step, "code": value, "line_id": line["id"]})
            assert answer["outcome"] != "refused", answer
        post(f"/pick/{op_id}/scan", {"step": "quantity", "quantity": line["quantity"], "line_id": line["id"]})
    wrong = post(f"/pick/{op_id}/scan", {"step": "drop", "code": sheet["lines"][0]["location"]})
    assert wrong["outcome"] == "refused"
    assert wrong["message"].endswith("is not a sas drop point; scan SAS-01, SAS-02.")
    done = post(f"/pick/{op_id}/scan", {"step": "drop", "code": "SAS-02"})
    assert done["outcome"] == "applied" and done["state"]["step"] == "done"
