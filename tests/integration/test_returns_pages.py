"""The supervisor's returns pages: authorise, receive, inspect; refusals are shown in words and change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.integration.test_returns_world import (
    World,
    build_world,
    counts,
    ledger_balances,
    on_hand,
    shipped_order,
)
from wms.db import db
from wms.returns.models import Rma, RmaStatus


@pytest.fixture
def world(app, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        w = build_world(make_user)
        shipped_order(w, "O-1", [(w.mug, 2), (w.tea, 1)])
        db.session.commit()
        return w


@pytest.fixture
def page(client, world, sign_in):  # type: ignore[no-untyped-def]
    sign_in(client, world.supervisor)
    return client


def snapshot(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return counts()


def test_a_supervisor_takes_a_return_from_authorisation_to_inspection(app, page, world: World) -> None:
    r = page.post("/warehouses/WH/returns", data={"channel": "SHOP", "order_id": "O-1", "external_id": "",
                                                  "lines": "MUG 2 defective\nTEA 1 not_wanted", "reason": "phone"})
    assert r.status_code == 302, r.get_data(as_text=True)
    detail = r.headers["Location"]
    assert "RMA" in page.get(detail).get_data(as_text=True)
    with app.app_context():
        code = db.session.scalar(select(Rma.code))
    listed = page.get("/warehouses/WH/returns").get_data(as_text=True)
    assert code in listed

    assert page.post(f"{detail}/receive", data={"location": "RET-01", "line_1": "2", "line_2": "1"}).status_code == 302
    r = page.post(f"{detail}/inspect", data={"location": "RET-01", "line_1": "", "line_2": "",
                                             "restock_1": "1", "scrap_1": "1", "note_1": "cracked",
                                             "quarantine_2": "1", "quarantine_location_2": "QUA-01"})
    assert r.status_code == 302
    html = page.get(detail).get_data(as_text=True)
    assert "cracked" in html
    with app.app_context():
        rma = db.session.scalar(select(Rma))
        assert rma.status == RmaStatus.INSPECTED and rma.refund_status.value == "approved"
        assert on_hand(world.tea, world.quarantine) == 1
        assert on_hand(world.mug, world.lanes[0]) == 1
        ledger_balances()


def test_refusals_on_the_pages_are_explained_and_change_nothing(app, page, world: World) -> None:
    before = snapshot(app)
    r = page.post("/warehouses/WH/returns", data={"channel": "SHOP", "order_id": "O-1", "lines": "MUG 5 defective"})
    assert r.status_code == 409 and "more units asked back than were shipped" in r.get_data(as_text=True)
    r = page.post("/warehouses/WH/returns", data={"channel": "SHOP", "order_id": "O-1", "lines": "MUG two"})
    assert r.status_code == 422 and "e.g. MUG 2 defective" in r.get_data(as_text=True)
    r = page.post("/warehouses/WH/returns", data={"channel": "SHOP", "order_id": "O-1", "lines": "LAMP 1 other"})
    assert r.status_code == 409 and "never sold on this order" in r.get_data(as_text=True)
    assert snapshot(app) == before

    r = page.post("/warehouses/WH/returns", data={"channel": "SHOP", "order_id": "O-1", "lines": "MUG 1 other"})
    detail = r.headers["Location"]
    before = snapshot(app)
    r = page.post(f"{detail}/receive", data={"line_1": "3"})
    assert r.status_code == 409 and "more units than were authorised" in r.get_data(as_text=True)
    r = page.post(f"{detail}/receive", data={"line_1": "x"})
    assert r.status_code == 422 and "whole number" in r.get_data(as_text=True)
    r = page.post(f"{detail}/inspect", data={"line_1": "", "scrap_1": "1"})
    assert r.status_code == 409 and "not yet inspected" in r.get_data(as_text=True)
    assert snapshot(app) == before
