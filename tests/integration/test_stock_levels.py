"""Minimum / maximum levels per product per warehouse and per pick lane, and the below-minimum alerts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.integration.stock_world import build_world, put
from wms.db import Base, db
from wms.errors import NotFound, ValidationFailed
from wms.orders.models import Channel, ChannelKind
from wms.orders.services import LineRequest, OrderRequest, create_order
from wms.stock import levels_services as levels
from wms.stock.levels import StockLevel


@pytest.fixture
def world(session, make_user):  # type: ignore[no-untyped-def]
    w = build_world(make_user)
    session.commit()
    return w


def _counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@pytest.mark.parametrize("min_qty, max_qty", [(0, 1), (5, 5), (0, 1_000_000)])
def test_sane_levels_have_no_errors(min_qty, max_qty):  # type: ignore[no-untyped-def]
    assert levels.level_errors(min_qty, max_qty) == []


@pytest.mark.parametrize("min_qty, max_qty, field", [
    (6, 5, "min_qty"), (0, 0, "max_qty"), (-1, 5, "min_qty"), (1.5, 5, "min_qty"), (1, "9", "max_qty"),
    (True, 5, "min_qty"), (1, 1_000_001, "max_qty"),
])
def test_insane_levels_name_the_field(min_qty, max_qty, field):  # type: ignore[no-untyped-def]
    assert field in {e["field"] for e in levels.level_errors(min_qty, max_qty)}


def test_lane_need_fills_to_the_maximum_within_capacity():  # type: ignore[no-untyped-def]
    assert levels.lane_need(available=3, lane_on_hand=5, underway=0, max_qty=20, capacity=None) == 17
    assert levels.lane_need(available=3, lane_on_hand=5, underway=0, max_qty=20, capacity=12) == 7
    assert levels.lane_need(available=3, lane_on_hand=5, underway=4, max_qty=20, capacity=None) == 13
    assert levels.lane_need(available=3, lane_on_hand=12, underway=0, max_qty=20, capacity=12) == 0


def test_choose_source_prefers_most_free_units_then_location_code():  # type: ignore[no-untyped-def]
    a, b, c = (levels.ReserveSource(1, "R-2", 10), levels.ReserveSource(2, "R-1", 10),
               levels.ReserveSource(3, "R-0", 4))
    assert levels.choose_source([a, b, c]) == b
    assert levels.choose_source([levels.ReserveSource(1, "R-1", 0)]) is None


def test_set_replace_list_and_remove_levels(session, world):  # type: ignore[no-untyped-def]
    wh, lane = world.warehouse, world.lanes[0]
    level, created = levels.set_level(wh, "MUG", min_qty=5, max_qty=20)
    assert created and level.location_id is None
    lane_level, created = levels.set_level(wh, "MUG", min_qty=2, max_qty=8, lane_code=lane.code)
    assert created and lane_level.location_id == lane.id
    again, created = levels.set_level(wh, "MUG", min_qty=4, max_qty=10, lane_code=lane.code)
    assert not created and again.id == lane_level.id and (again.min_qty, again.max_qty) == (4, 10)
    listed = [(p.sku, ln.code if ln else None, lv.min_qty, lv.max_qty) for lv, p, ln in levels.list_levels(wh)]
    assert listed == [("MUG", None, 5, 20), ("MUG", lane.code, 4, 10)]
    levels.remove_level(wh, "MUG", lane.code)
    assert [ln for _lv, _p, ln in levels.list_levels(wh)] == [None]
    with pytest.raises(NotFound):
        levels.remove_level(wh, "MUG", lane.code)


@pytest.mark.parametrize("kwargs, error", [
    ({"sku": "NOPE", "min_qty": 1, "max_qty": 2}, NotFound),
    ({"sku": "MUG", "min_qty": 3, "max_qty": 2}, ValidationFailed),
    ({"sku": "MUG", "min_qty": 1.5, "max_qty": 2}, ValidationFailed),
    ({"sku": "MUG", "min_qty": 0, "max_qty": 0}, ValidationFailed),
    ({"sku": "MUG", "min_qty": 1, "max_qty": 2, "lane_code": "RES-01"}, ValidationFailed),
    ({"sku": "MUG", "min_qty": 1, "max_qty": 2, "lane_code": "QUA-01"}, ValidationFailed),
    ({"sku": "MUG", "min_qty": 1, "max_qty": 2, "lane_code": "O01-01-1"}, NotFound),
])
def test_bad_levels_are_refused_and_nothing_is_written(session, world, kwargs, error):  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        levels.set_level(world.warehouse, **kwargs)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(StockLevel)) == 0


def test_a_lane_alert_appears_under_the_minimum_and_disappears_when_refilled(session, world):  # type: ignore[no-untyped-def]
    wh, lane = world.warehouse, world.lanes[0]
    put(world.mug, lane, 3)
    put(world.mug, world.reserve[0], 40)
    levels.set_level(wh, "MUG", min_qty=5, max_qty=20, lane_code=lane.code)
    [alert] = levels.below_minimum(wh)
    assert (alert.scope, alert.lane, alert.zone, alert.on_hand, alert.available, alert.min_qty) == (
        "lane", lane.code, "A", 3, 3, 5)
    assert (alert.action.kind, alert.action.quantity, alert.action.source) == ("replenish", 17, "RES-01")
    put(world.mug, lane, 2)
    assert levels.below_minimum(wh) == []


def test_a_lane_alert_without_reserve_stock_says_buy(session, world):  # type: ignore[no-untyped-def]
    levels.set_level(world.warehouse, "TEA", min_qty=5, max_qty=12, lane_code=world.lanes[1].code)
    [alert] = levels.below_minimum(world.warehouse)
    assert (alert.on_hand, alert.action.kind, alert.action.quantity, alert.action.short) == (0, "buy", 12, 12)


def test_a_short_reserve_gives_what_it_has_and_names_the_rest(session, world):  # type: ignore[no-untyped-def]
    put(world.tea, world.reserve[1], 4)
    levels.set_level(world.warehouse, "TEA", min_qty=5, max_qty=12, lane_code=world.lanes[1].code)
    [alert] = levels.below_minimum(world.warehouse)
    assert (alert.action.kind, alert.action.quantity, alert.action.source, alert.action.short) == (
        "replenish", 4, "RES-02", 8)


def test_lane_capacity_bounds_the_quantity(session, world):  # type: ignore[no-untyped-def]
    lane = world.lanes[0]
    lane.capacity_units = 10
    put(world.tea, lane, 6)      # another product takes room in the same lane
    put(world.mug, lane, 1)
    put(world.mug, world.reserve[0], 50)
    levels.set_level(world.warehouse, "MUG", min_qty=5, max_qty=20, lane_code=lane.code)
    [alert] = levels.below_minimum(world.warehouse)
    assert (alert.capacity, alert.action.quantity) == (10, 3)


def test_a_warehouse_level_counts_reserve_but_not_quarantine(session, world):  # type: ignore[no-untyped-def]
    wh = world.warehouse
    put(world.mug, world.lanes[0], 4)
    put(world.mug, world.reserve[0], 3)
    put(world.mug, world.dock, 2)
    put(world.mug, world.quarantine, 100)
    levels.set_level(wh, "MUG", min_qty=10, max_qty=30)
    [alert] = levels.below_minimum(wh)
    assert (alert.scope, alert.lane, alert.on_hand, alert.available) == ("warehouse", None, 9, 9)
    assert (alert.action.kind, alert.action.quantity) == ("buy", 21)
    put(world.mug, world.reserve[1], 1)
    assert levels.below_minimum(wh) == []


def test_a_warehouse_level_counts_backorders_as_demand(session, world):  # type: ignore[no-untyped-def]
    wh = world.warehouse
    put(world.mug, world.lanes[0], 12)
    channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id)
    session.add(channel)
    session.flush()
    create_order(channel, OrderRequest("o-1", [LineRequest("MUG", 15)]))
    levels.set_level(wh, "MUG", min_qty=1, max_qty=10)
    [alert] = levels.below_minimum(wh)
    assert (alert.on_hand, alert.reserved, alert.available, alert.backordered) == (12, 12, 0, 3)
    assert alert.action.quantity == 10 - (12 - 12) + 3


def test_levels_of_another_warehouse_are_not_its_alerts(session, world):  # type: ignore[no-untyped-def]
    levels.set_level(world.other, "MUG", min_qty=5, max_qty=10)
    assert levels.below_minimum(world.warehouse) == []
    assert [a.sku for a in levels.below_minimum(world.other)] == ["MUG"]


# --- API ---------------------------------------------------------------------------------------------------------

def _auth(make_token, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {make_token('user', user=user)}"}


@pytest.fixture
def sup(world, make_token, commit):  # type: ignore[no-untyped-def]
    headers = _auth(make_token, world.supervisor)
    commit()
    return headers


def test_api_sets_lists_and_deletes_levels(client, world, sup):  # type: ignore[no-untyped-def]
    lane = world.lanes[0].code
    r = client.put("/api/v1/warehouses/WH/stock-levels", json={"sku": "MUG", "min_qty": 5, "max_qty": 20},
                   headers=sup)
    assert r.status_code == 201, r.json
    assert r.json == {"sku": "MUG", "product_name": "Mug", "warehouse": "WH", "lane": None, "min_qty": 5,
                      "max_qty": 20}
    r = client.put("/api/v1/warehouses/WH/stock-levels", json={"sku": "MUG", "lane": lane, "min_qty": 1,
                                                              "max_qty": 4}, headers=sup)
    assert r.status_code == 201
    r = client.put("/api/v1/warehouses/WH/stock-levels", json={"sku": "MUG", "lane": lane, "min_qty": 2,
                                                              "max_qty": 6}, headers=sup)
    assert (r.status_code, r.json["min_qty"]) == (200, 2)
    listed = client.get("/api/v1/warehouses/WH/stock-levels", headers=sup).json
    assert [(x["lane"], x["min_qty"]) for x in listed] == [(None, 5), (lane, 2)]
    assert [x["lane"] for x in client.get(f"/api/v1/warehouses/WH/stock-levels?lane={lane}", headers=sup).json] \
        == [lane]
    assert client.delete(f"/api/v1/warehouses/WH/stock-levels?sku=MUG&lane={lane}", headers=sup).status_code == 204
    assert client.delete(f"/api/v1/warehouses/WH/stock-levels?sku=MUG&lane={lane}", headers=sup).status_code == 404
    assert [x["lane"] for x in client.get("/api/v1/warehouses/WH/stock-levels", headers=sup).json] == [None]


def test_api_alerts_show_the_figures_and_the_action(client, world, sup, commit):  # type: ignore[no-untyped-def]
    put(world.mug, world.lanes[0], 3)
    put(world.mug, world.reserve[0], 40)
    levels.set_level(world.warehouse, "MUG", min_qty=5, max_qty=20, lane_code=world.lanes[0].code)
    commit()
    [alert] = client.get("/api/v1/warehouses/WH/alerts/below-minimum", headers=sup).json
    assert alert["lane"] == world.lanes[0].code
    assert (alert["on_hand"], alert["reserved"], alert["available"], alert["underway"]) == (3, 0, 3, 0)
    assert alert["action"] == {"kind": "replenish", "quantity": 17, "source": "RES-01", "short": 0}


@pytest.mark.parametrize("body, status", [
    ({"sku": "NOPE", "min_qty": 1, "max_qty": 2}, 404),
    ({"sku": "MUG", "min_qty": 3, "max_qty": 2}, 422),
    ({"sku": "MUG", "min_qty": 1.5, "max_qty": 2}, 422),
    ({"sku": "MUG", "min_qty": "1", "max_qty": 2}, 422),
    ({"sku": "MUG", "min_qty": -1, "max_qty": 2}, 422),
    ({"sku": "MUG", "min_qty": 0, "max_qty": 0}, 422),
    ({"sku": "MUG", "lane": "RES-01", "min_qty": 1, "max_qty": 2}, 422),
    ({"sku": "MUG", "lane": "O01-01-1", "min_qty": 1, "max_qty": 2}, 404),
    ({"sku": "MUG", "min_qty": 1, "max_qty": 2, "colour": "red"}, 422),
])
def test_api_refuses_bad_levels_with_a_problem_and_writes_nothing(app, client, world, sup, body, status):  # type: ignore[no-untyped-def]
    before = _counts()
    db.session.rollback()
    r = client.put("/api/v1/warehouses/WH/stock-levels", json=body, headers=sup)
    assert r.status_code == status, r.json
    assert r.mimetype == "application/problem+json" and r.json["detail"]
    assert _counts() == before


def test_a_token_of_another_warehouse_cannot_read_or_set_levels(client, world, make_user, make_token, commit):  # type: ignore[no-untyped-def]
    outsider = make_user("otto", roles=("supervisor",), warehouses=(world.other,), totp=True)
    headers = _auth(make_token, outsider)
    commit()
    before = _counts()
    db.session.rollback()
    assert client.get("/api/v1/warehouses/WH/stock-levels", headers=headers).status_code == 403
    r = client.put("/api/v1/warehouses/WH/stock-levels", json={"sku": "MUG", "min_qty": 1, "max_qty": 2},
                   headers=headers)
    assert r.status_code == 403 and r.json["type"].endswith("warehouse-forbidden")
    assert client.get("/api/v1/warehouses/WH/alerts/below-minimum", headers=headers).status_code == 403
    assert _counts() == before


def test_a_picker_cannot_set_levels(client, world, make_token, commit):  # type: ignore[no-untyped-def]
    headers = _auth(make_token, world.picker)
    commit()
    r = client.put("/api/v1/warehouses/WH/stock-levels", json={"sku": "MUG", "min_qty": 1, "max_qty": 2},
                   headers=headers)
    assert r.status_code == 403


def test_a_product_no_longer_sold_raises_no_alert(session, world):  # type: ignore[no-untyped-def]
    levels.set_level(world.warehouse, "MUG", min_qty=5, max_qty=10)
    assert [a.sku for a in levels.below_minimum(world.warehouse)] == ["MUG"]
    world.mug.active = False
    assert levels.below_minimum(world.warehouse) == []
