"""`wms demo seed` also builds the demo shop SHOP (stock on one shelf) and its till TILL, whose token is kept in a
file of mode 0600: a sale with it leaves the shelf and shows in the stock change feed; a second seed changes
nothing; the banner's curl lines work as printed."""

from __future__ import annotations

import re
import shlex
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from wms.auth.models import ApiToken, User
from wms.auth.tokens import verify_token
from wms.catalog.models import Product
from wms.db import Base, db
from wms.demo.shop import SHOP_STOCK
from wms.enums import Face, StockReason, ZoneKind
from wms.layout.models import Aisle, Location, Rack, Warehouse, Zone
from wms.orders.models import Channel, ChannelKind
from wms.stock import services as stock
from wms.stock.models import LedgerEntry, Quant


def _row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    return tmp_path / "instance" / "demo" / "till-token"


@pytest.fixture
def seeded(app, runner, token_file):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["demo", "seed", "--till-token-file", str(token_file)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        yield result.output


def _shop() -> Warehouse:
    return db.session.scalar(select(Warehouse).where(Warehouse.code == "SHOP"))


def _shelf() -> dict[str, tuple[str, int]]:
    """SKU -> (lane, on hand) of the shop's stock."""
    rows = db.session.execute(
        select(Product.sku, Location.code, Quant.on_hand).join(Quant, Quant.product_id == Product.id)
        .join(Location, Location.id == Quant.location_id).where(Location.warehouse_id == _shop().id)).all()
    return {sku: (lane, on_hand) for sku, lane, on_hand in rows}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_shop_is_one_shelf_refilled_from_the_back_and_picked_from_the_floor(seeded) -> None:  # type: ignore[no-untyped-def]
    shop = _shop()
    zones = db.session.scalars(select(Zone).where(Zone.warehouse_id == shop.id)).all()
    assert [(z.code, z.kind) for z in zones] == [("SHELF", ZoneKind.RACK)]
    aisles = {a.code: a for a in db.session.scalars(select(Aisle).where(Aisle.zone_id == zones[0].id))}
    assert {code: a.face for code, a in aisles.items()} == {"BACK": Face.REPLENISH, "FLOOR": Face.PICK}
    assert db.session.scalars(select(Rack.code).where(Rack.zone_id == zones[0].id)).all() == ["S01"]
    lanes = db.session.scalars(select(Location).where(Location.warehouse_id == shop.id)).all()
    assert len(lanes) == 8
    for lane in lanes:
        assert {(f.face, f.aisle_id) for f in lane.faces} == {(Face.PICK, aisles["FLOOR"].id),
                                                              (Face.REPLENISH, aisles["BACK"].id)}
    assert "shop: receiver, supervisor may now work in SHOP" in seeded


def test_the_shelf_holds_the_shop_products_through_the_ledger(seeded) -> None:  # type: ignore[no-untyped-def]
    shelf = _shelf()
    assert {sku: units for sku, (_lane, units) in shelf.items()} == dict(SHOP_STOCK)
    assert len({lane for lane, _units in shelf.values()}) == len(SHOP_STOCK), "one product per lane"
    shop = _shop()
    for sku, (lane_code, units) in shelf.items():
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        lane = db.session.scalar(select(Location).where(Location.warehouse_id == shop.id,
                                                        Location.code == lane_code))
        assert stock.ledger_balance(product, lane) == (units, 0)
        assert stock.stock_of(product, shop).available == units
    reasons = db.session.scalars(select(LedgerEntry.reason).join(Location, Location.id == LedgerEntry.location_id)
                                 .where(Location.warehouse_id == shop.id)).all()
    assert reasons == [StockReason.RECEIPT] * len(SHOP_STOCK)
    assert "shop: 6 shelf lanes filled, 0 already stocked" in seeded


def test_the_till_token_is_kept_only_in_a_private_file(seeded, token_file) -> None:  # type: ignore[no-untyped-def]
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    raw = token_file.read_text().strip()
    token = verify_token(raw)
    till = db.session.scalar(select(Channel).where(Channel.code == "TILL"))
    assert token is not None and token.channel_id == till.id and token.warehouse_id == _shop().id
    assert (till.kind, till.warehouse_id, till.active) == (ChannelKind.POS, _shop().id, True)
    secret = raw.rsplit("_", 1)[1]
    stored = db.session.execute(select(ApiToken.__table__)).all()
    assert not any(secret in str(value) for row in stored for value in row)
    assert str(token_file) in seeded and raw not in seeded


def test_a_sale_with_the_till_token_leaves_the_shelf_and_shows_in_the_change_feed(app, seeded, token_file) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    headers = _auth(token_file.read_text().strip())
    start = client.get("/api/v1/warehouses/SHOP/stock/changes", headers=headers)
    assert start.status_code == 200, start.json
    assert {c["sku"]: c["on_hand"] for c in start.json["changes"]} == dict(SHOP_STOCK)

    sale = {"reference": "T-0001", "lines": [{"sku": "DEMO-040", "quantity": 2}]}
    sold = client.post("/api/v1/warehouses/SHOP/sales", json=sale, headers={**headers, "Idempotency-Key": "T-0001"})
    assert sold.status_code == 201, sold.json
    assert [(ln["sku"], ln["on_hand"], ln["available"]) for ln in sold.json["lines"]] == [("DEMO-040", 1, 1)]
    changes = client.get("/api/v1/warehouses/SHOP/stock/changes", headers=headers,
                         query_string={"after": start.json["cursor"], "wait": 5})
    assert changes.status_code == 200, changes.json
    assert [(c["sku"], c["on_hand"]) for c in changes.json["changes"]] == [("DEMO-040", 1)]

    replay = client.post("/api/v1/warehouses/SHOP/sales", json=sale, headers={**headers, "Idempotency-Key": "T-0001"})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    oversell = client.post("/api/v1/warehouses/SHOP/sales", headers={**headers, "Idempotency-Key": "T-0002"},
                           json={"reference": "T-0002", "lines": [{"sku": "DEMO-040", "quantity": 2}]})
    assert oversell.status_code == 409 and oversell.json["type"] == "/problems/insufficient-stock"
    db.session.expire_all()
    assert _shelf()["DEMO-040"][1] == 1
    sales = db.session.scalars(select(LedgerEntry.delta_on_hand).where(LedgerEntry.reason == StockReason.SALE)).all()
    assert sales == [-2]
    assert client.get("/api/v1/warehouses/DEMO/stock/DEMO-040", headers=headers).status_code == 403


def _replay_curl(client, line: str, token_file: Path):  # type: ignore[no-untyped-def]
    """Run one curl line of the banner through the test client: method, URL, headers and body as printed."""
    words = shlex.split(line.strip())
    assert words[0] == "curl"
    method, url, headers, body = "GET", None, {}, None
    it = iter(words[1:])
    for word in it:
        if word == "-X":
            method = next(it)
        elif word == "-H":
            name, _, value = next(it).partition(": ")
            headers[name] = value
        elif word == "-d":
            body = next(it)
        elif not word.startswith("-"):
            url = word
    cat = re.fullmatch(r"Bearer \$\(cat (.+)\)", headers["Authorization"])
    assert cat is not None and Path(shlex.split(cat.group(1))[0]) == token_file
    headers["Authorization"] = "Bearer " + token_file.read_text().strip()
    assert url is not None and url.startswith("http://wms.test/api/v1/")
    return client.open(url.removeprefix("http://wms.test"), method=method, headers=headers, data=body)


def test_the_banner_prints_curl_lines_that_work_with_the_token_file(app, runner, seeded, token_file) -> None:  # type: ignore[no-untyped-def]
    shown = runner.invoke(args=["demo", "banner", "--base-url", "http://wms.test", "--till-token-file",
                                str(token_file)])
    assert shown.exit_code == 0, shown.output
    assert f"Its token is in {token_file} (mode 0600)" in shown.output
    assert token_file.read_text().strip() not in shown.output, "the banner reads the token, it does not show it"
    sale, feed, follow = [ln for ln in shown.output.splitlines() if ln.strip().startswith("curl")]
    client = app.test_client()
    first = _replay_curl(client, sale, token_file)
    assert first.status_code == 201, first.json
    again = _replay_curl(client, sale, token_file)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    snapshot = _replay_curl(client, feed, token_file)
    assert snapshot.status_code == 200 and {c["sku"] for c in snapshot.json["changes"]} == dict(SHOP_STOCK).keys()
    cursor = snapshot.json["cursor"]
    followed = _replay_curl(client, follow.replace("after=CURSOR&wait=25", f"after={cursor}&wait=0"), token_file)
    assert followed.status_code == 200 and followed.json["changes"] == []


def test_the_banner_says_when_the_token_file_is_missing(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    shown = runner.invoke(args=["demo", "banner", "--till-token-file", str(tmp_path / "nothing")])
    assert shown.exit_code == 0, shown.output
    assert "is missing: `wms demo seed` makes a new token there" in shown.output
    assert "curl" not in shown.output


def test_the_demo_supervisor_and_receiver_work_in_the_shop_pickers_and_packers_do_not(app, seeded, sign_in) -> None:  # type: ignore[no-untyped-def]
    shop = _shop()
    scopes = {u.username: u.warehouse_ids for u in db.session.scalars(select(User))}
    assert shop.id in scopes["supervisor"] and shop.id in scopes["receiver"]
    assert shop.id not in scopes["picker"] and shop.id not in scopes["packer"]
    assert scopes["admin"] is None
    client = app.test_client()
    sign_in(client, db.session.scalar(select(User).where(User.username == "supervisor")))
    page = client.get("/locations?warehouse=SHOP")
    assert page.status_code == 200 and "S01-01-1" in page.get_data(as_text=True)


def test_a_second_seed_changes_nothing_not_even_the_token(app, runner, seeded, token_file) -> None:  # type: ignore[no-untyped-def]
    before = _row_counts()
    ledger_before = db.session.scalars(select(LedgerEntry.id).order_by(LedgerEntry.id)).all()
    token_before = token_file.read_text()
    db.session.rollback()
    again = runner.invoke(args=["demo", "seed", "--till-token-file", str(token_file)])
    assert again.exit_code == 0, again.output
    assert "shop: 0 shelf lanes filled, 6 already stocked" in again.output
    assert f"till: channel TILL already there; its token is in {token_file}" in again.output
    assert "may now work in" not in again.output
    shop_part = again.output.split("warehouse SHOP:")[1]
    counts = re.findall(r"created +(\d+) +updated +(\d+) +unchanged +(\d+) +removed +(\d+)", shop_part)[:7]
    assert all((c, u, r) == ("0", "0", "0") for c, u, _same, r in counts)
    assert _row_counts() == before
    assert db.session.scalars(select(LedgerEntry.id).order_by(LedgerEntry.id)).all() == ledger_before
    assert token_file.read_text() == token_before


def test_a_lost_token_file_gets_a_new_token_and_the_old_one_stops_working(app, runner, seeded, token_file) -> None:  # type: ignore[no-untyped-def]
    old = token_file.read_text().strip()
    token_file.unlink()
    db.session.rollback()
    again = runner.invoke(args=["demo", "seed", "--till-token-file", str(token_file)])
    assert again.exit_code == 0, again.output
    assert "held no live token of TILL" in again.output
    new = token_file.read_text().strip()
    assert new != old and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    client = app.test_client()
    assert client.get("/api/v1/warehouses/SHOP/stock/DEMO-002", headers=_auth(old)).status_code == 401
    fresh = client.get("/api/v1/warehouses/SHOP/stock/DEMO-002", headers=_auth(new))
    assert fresh.status_code == 200 and fresh.json["on_hand"] == 6
