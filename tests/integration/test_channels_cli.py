"""`wms channels` against the WooCommerce stand-in on 127.0.0.1 and PostgreSQL: add (credentials from options
and from the environment), refusals that write nothing, connection test, one sync pass of stock and orders,
mapping an unmapped listing and taking its held order in, api and pos channels whose token works on /api/v1."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from tests.integration.stock_world import build_world, put
from tests.jobs_support import jobs  # noqa: F401  (fixture: after-commit defers land in a real jobs schema)
from tests.standins.prestashop import PrestaShopStandIn
from tests.standins.woocommerce import WooCommerceStandIn
from wms.auth.models import ApiToken
from wms.channels.models import ChannelConnection, ChannelListing, HeldChannelOrder
from wms.db import db
from wms.orders.models import Channel, Order


@pytest.fixture
def woo() -> Iterator[WooCommerceStandIn]:
    yield from WooCommerceStandIn().serving()


@pytest.fixture
def world(app, make_user, jobs):  # type: ignore[no-untyped-def]  # noqa: F811
    """WH with 10 mugs and 4 teas in its pick lanes (tests/integration/stock_world.py)."""
    with app.app_context():
        w = build_world(make_user)
        put(w.mug, w.lanes[0], 10)
        put(w.tea, w.lanes[1], 4)
        db.session.commit()
    return w


def add_args(woo: WooCommerceStandIn, code: str = "WOO", *extra: str) -> list[str]:
    return ["channels", "add", code, "--kind", "woocommerce", "--warehouse", "WH", "--url", woo.url, *extra]


def key_options(woo: WooCommerceStandIn) -> list[str]:
    return ["--consumer-key", woo.consumer_key, "--consumer-secret", woo.consumer_secret,
            "--webhook-secret", woo.webhook_secret]


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def token_line(output: str) -> str:
    line = next(ln for ln in output.splitlines() if ln.startswith("API token"))
    return line.rsplit(" ", 1)[1]


@pytest.fixture
def shop(app, runner, world, woo):  # type: ignore[no-untyped-def]
    """WOO added on the stand-in, which lists MUG (ours) and CUP-RED (not ours)."""
    woo.mug_key = woo.add_item("MUG", 0, title="Mug")
    woo.cup_key = woo.add_item("CUP-RED", 5, title="Red cup")
    result = runner.invoke(args=add_args(woo, "WOO", *key_options(woo)))
    assert result.exit_code == 0, result.output
    return woo


# --- add -------------------------------------------------------------------------------------------------------

def test_add_connects_tests_and_imports_with_keys_from_options_and_shows_the_token_once(  # type: ignore[no-untyped-def]
        app, runner, world, woo):
    woo.add_item("MUG", 0)
    woo.add_item("CUP-RED", 5)
    result = runner.invoke(args=[*add_args(woo, "WOO", *key_options(woo)), "--buffer-units", "1",
                                 "--base-url", "https://wms.example.com"])
    assert result.exit_code == 0, result.output
    assert "connection test: OK" in result.output
    assert "listings seen: 2 (new 2, updated 0)" in result.output
    assert "mapped to our SKUs: 1, unmapped: 1" in result.output
    assert "webhook URL for the platform: https://wms.example.com/api/v1/channels/WOO/platform-webhooks" \
        in result.output
    assert "shown this once" in result.output
    for secret in (woo.consumer_key, woo.consumer_secret, woo.webhook_secret):
        assert secret not in result.output
    with app.app_context():
        conn = db.session.scalar(select(ChannelConnection))
        assert conn.kind == "woocommerce" and conn.buffer_units == 1
        assert conn.credentials == {"consumer_key": woo.consumer_key, "consumer_secret": woo.consumer_secret,
                                    "webhook_secret": woo.webhook_secret}
        assert db.session.scalar(select(ApiToken).where(ApiToken.channel_id == conn.channel_id)) is not None


def test_add_reads_the_credentials_from_the_environment(app, runner, world, woo) -> None:  # type: ignore[no-untyped-def]
    app.config["PUBLIC_URL"] = "https://wms.shop.example/"     # what WMS_PUBLIC_URL sets
    env = {"WMS_CHANNEL_CONSUMER_KEY": woo.consumer_key, "WMS_CHANNEL_CONSUMER_SECRET": woo.consumer_secret,
           "WMS_CHANNEL_WEBHOOK_SECRET": woo.webhook_secret,
           "WMS_CHANNEL_API_KEY": "for-a-mirakl-channel"}          # another kind's: ignored
    result = runner.invoke(args=add_args(woo), env=env)
    assert result.exit_code == 0, result.output
    assert "connection test: OK" in result.output
    assert "https://wms.shop.example/api/v1/channels/WOO/platform-webhooks" in result.output
    assert woo.consumer_secret not in result.output
    with app.app_context():
        assert db.session.scalar(select(ChannelConnection)).credentials["consumer_secret"] == woo.consumer_secret


def test_add_reads_missing_credentials_from_stdin_without_echoing_them(app, runner, world, woo) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=[*add_args(woo), "--consumer-key", woo.consumer_key, "--credentials-stdin",
                                 "--json"], input=f"{woo.consumer_secret}\n{woo.webhook_secret}\n")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)                               # the prompts went to stderr
    assert "woocommerce consumer_secret:" in result.stderr
    assert doc["code"] == "WOO" and doc["token"].startswith("wms_") and doc["import"]["seen"] == 0
    assert "Stand-in Shop" in doc["connection_test"]
    assert woo.consumer_secret not in result.output and woo.webhook_secret not in result.output
    with app.app_context():
        assert db.session.scalar(select(ChannelConnection)).credentials["webhook_secret"] == woo.webhook_secret


@pytest.mark.parametrize(("args", "says"), [
    (["--kind", "ebay"], "Invalid value for '--kind'"),
    (["--kind", "woocommerce", "--consumer-key", "ck"], "woocommerce needs consumer_secret, webhook_secret"),
    (["--kind", "woocommerce", "--consumer-key", "ck", "--consumer-secret", "cs", "--webhook-secret", "w",
      "--api-key", "x"], "woocommerce takes no credential api_key"),
    (["--kind", "woocommerce", "--consumer-key", "ck", "--consumer-secret", "cs", "--webhook-secret", "w",
      "--option", "colour=blue"], "woocommerce has no option 'colour'"),
    (["--kind", "woocommerce", "--consumer-key", "ck", "--consumer-secret", "cs", "--webhook-secret", "w",
      "--buffer-percent", "120"], "between 0 and 100"),
    (["--kind", "pos", "--buffer-units", "2"], "has no platform"),
])
def test_a_refused_add_says_why_and_writes_nothing(app, runner, world, woo, args, says) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["channels", "add", "WOO", "--warehouse", "WH", "--url", woo.url, *args]
                           if "pos" not in args else ["channels", "add", "TILL", "--warehouse", "WH", *args])
    assert result.exit_code != 0
    assert says in result.output
    assert "Traceback" not in result.output
    assert (count(app, Channel), count(app, ChannelConnection), count(app, ApiToken)) == (0, 0, 0)
    assert woo.calls == []


def test_a_duplicate_code_is_refused_and_the_first_channel_is_untouched(app, runner, shop) -> None:  # type: ignore[no-untyped-def]
    again = runner.invoke(args=["channels", "add", "WOO", "--kind", "api", "--warehouse", "WH"])
    assert again.exit_code == 1
    assert "A channel with code 'WOO' already exists. (nothing was written)" in again.output
    assert (count(app, Channel), count(app, ApiToken)) == (1, 1)


def test_an_unknown_warehouse_is_refused(app, runner, world) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["channels", "add", "TILL", "--kind", "pos", "--warehouse", "NOPE"])
    assert result.exit_code == 1 and "No warehouse with code 'NOPE'" in result.output
    assert count(app, Channel) == 0


def test_a_channel_whose_keys_are_refused_is_kept_and_the_add_exits_nonzero(app, runner, world, woo) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=add_args(woo, "WOO", "--consumer-key", "ck_wrong", "--consumer-secret", "cs_wrong",
                                         "--webhook-secret", "w"))
    assert result.exit_code == 1
    assert "FAILED" in result.output and "AuthFailed" in result.output
    assert "channel WOO is kept" in result.output
    assert count(app, ChannelConnection) == 1
    fixed = runner.invoke(args=["channels", "set", "WOO", "--consumer-key", woo.consumer_key,
                                "--consumer-secret", woo.consumer_secret])
    assert fixed.exit_code == 0, fixed.output
    assert runner.invoke(args=["channels", "test", "WOO"]).exit_code == 0


# --- test, sync ------------------------------------------------------------------------------------------------

def test_the_connection_test_says_ok_then_failed_when_the_platform_is_down(runner, shop) -> None:  # type: ignore[no-untyped-def]
    ok = runner.invoke(args=["channels", "test", "WOO"])
    assert ok.exit_code == 0 and "connection test of WOO: OK" in ok.output
    shop.fail_next(1, 503)
    failed = runner.invoke(args=["channels", "test", "WOO"])
    assert failed.exit_code == 1
    assert "connection test of WOO FAILED: Unavailable" in failed.output and "HTTP 503" in failed.output
    assert "Traceback" not in failed.output


def test_sync_stock_pushes_what_the_channel_may_sell_and_prints_the_counts(app, runner, shop) -> None:  # type: ignore[no-untyped-def]
    runner.invoke(args=["channels", "set", "WOO", "--buffer-units", "2"])
    result = runner.invoke(args=["channels", "sync", "WOO", "--stock"])
    assert result.exit_code == 0, result.output
    assert "stock: 1 listings pushed, 0 failed" in result.output
    assert "orders:" not in result.output and "fulfilments:" not in result.output   # not asked
    assert shop.stock_of("MUG") == 8                      # 10 mugs less the buffer of 2
    assert shop.stock_of("CUP-RED") == 5                  # not ours: never touched
    shop.fail_next(1, 503, path="batch")
    with app.app_context():
        db.session.execute(ChannelListing.__table__.update().values(dirty=True))
        db.session.commit()
    failed = runner.invoke(args=["channels", "sync", "WOO", "--stock", "--json"])
    assert failed.exit_code == 1
    report = json.loads(failed.stdout)
    assert report["ok"] is False and report["stock_pushed"] == 0 and "503" in report["errors"][0]


def test_sync_orders_takes_in_an_order_placed_on_the_platform(app, runner, shop) -> None:  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["channels", "sync", "WOO", "--stock"]).exit_code == 0
    order_id = shop.checkout("MUG", 2, email="ada@example.com")
    result = runner.invoke(args=["channels", "sync", "WOO", "--orders", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["orders_created"] == 1 and report["ok"] is True
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.external_id == order_id))
        assert order is not None and order.customer_email == "ada@example.com"
    again = runner.invoke(args=["channels", "sync", "WOO"])
    assert again.exit_code == 0 and "0 new" in again.output
    assert count(app, Order) == 1


def test_mapping_an_unmapped_listing_lets_its_held_order_be_taken_in(app, runner, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = shop.checkout("CUP-RED", 1)
    pulled = runner.invoke(args=["channels", "sync", "WOO", "--orders"])
    assert pulled.exit_code == 0, pulled.output
    assert "1 held" in pulled.output
    held = runner.invoke(args=["channels", "held", "WOO"])
    assert f"{order_id}\tunknown-sku" in held.output and "1 order(s) held" in held.output
    listing = runner.invoke(args=["channels", "list", "--json"])
    assert json.loads(listing.stdout)[0]["held_orders"] == 1
    assert json.loads(listing.stdout)[0]["unmapped_listings"] == 1

    assert runner.invoke(args=["channels", "map", "WOO", shop.cup_key, "NO-SUCH-SKU"]).output.count(
        "unknown SKU 'NO-SUCH-SKU'") == 1
    mapped = runner.invoke(args=["channels", "map", "WOO", shop.cup_key, "TEA"])
    assert mapped.exit_code == 0, mapped.output
    assert "1 held order(s) wait" in mapped.output
    retried = runner.invoke(args=["channels", "held", "WOO", "--retry"])
    assert retried.exit_code == 0, retried.output
    assert "1 held order(s) taken in" in retried.output and "0 order(s) held" in retried.output
    with app.app_context():
        assert db.session.scalar(select(Order).where(Order.external_id == order_id)) is not None
        assert db.session.scalar(select(HeldChannelOrder)).resolved_at is not None
    shown = json.loads(runner.invoke(args=["channels", "show", "WOO", "--json"]).stdout)
    assert shown["sync"]["held_orders"] == 0 and shown["sync"]["unmapped_listings"] == 0
    assert shown["credentials"] == ["consumer_key", "consumer_secret", "webhook_secret"]
    log = runner.invoke(args=["channels", "log", "WOO", "--limit", "3"])
    assert log.exit_code == 0 and "\tpull\tok\t" in log.output
    for secret in (shop.consumer_key, shop.consumer_secret, shop.webhook_secret):
        assert secret not in runner.invoke(args=["channels", "show", "WOO"]).output


def test_an_unknown_listing_or_channel_is_a_message_not_a_traceback(runner, shop) -> None:  # type: ignore[no-untyped-def]
    for args, says in ((["map", "WOO", "999999", "MUG"], "has no listing '999999'"),
                       (["sync", "NOPE"], "no channel 'NOPE'"), (["map", "WOO", "1"], "give either a SKU")):
        result = runner.invoke(args=["channels", *args])
        assert result.exit_code != 0 and says in result.output and "Traceback" not in result.output


def test_a_prestashop_shop_added_with_its_key_from_the_environment_gets_stock_and_gives_orders(  # type: ignore[no-untyped-def]
        app, runner, world):
    presta = PrestaShopStandIn().start()
    try:
        presta.add_item("MUG", 0)
        result = runner.invoke(args=["channels", "add", "PS", "--kind", "prestashop", "--warehouse", "WH",
                                     "--url", presta.url, "--option", "shop_timezone=Europe/Paris"],
                               env={"WMS_CHANNEL_WEBSERVICE_KEY": presta.key})
        assert result.exit_code == 0, result.output
        assert "prestashop sends no webhooks: orders are polled" in result.output
        assert "mapped to our SKUs: 1, unmapped: 0" in result.output
        assert presta.key not in result.output
        pushed = runner.invoke(args=["channels", "sync", "PS", "--stock"])
        assert pushed.exit_code == 0 and "stock: 1 listings pushed" in pushed.output, pushed.output
        assert presta.stock_of("MUG") == 10
        order_id = presta.checkout("MUG", 3)
        pulled = json.loads(runner.invoke(args=["channels", "sync", "PS", "--orders", "--json"]).stdout)
        assert pulled["orders_created"] == 1 and pulled["parts"] == ["orders"]
        with app.app_context():
            assert db.session.scalar(select(Order).where(Order.external_id == order_id)) is not None
        assert presta.violations == []
    finally:
        presta.stop()


# --- api and pos -----------------------------------------------------------------------------------------------

def test_api_and_pos_channels_get_a_token_that_works_on_the_api(app, runner, client, world) -> None:  # type: ignore[no-untyped-def]
    api = runner.invoke(args=["channels", "add", "SHOP", "--kind", "api", "--warehouse", "WH", "--name", "Web"])
    assert api.exit_code == 0, api.output
    assert "/api/v1/channels/SHOP/orders" in api.output
    pos = runner.invoke(args=["channels", "add", "TILL", "--kind", "pos", "--warehouse", "WH"])
    assert pos.exit_code == 0, pos.output
    shop_token, till_token = token_line(api.output), token_line(pos.output)

    stock = client.get("/api/v1/warehouses/WH/stock/MUG", headers={"Authorization": f"Bearer {shop_token}"})
    assert stock.status_code == 200, stock.json
    assert stock.json["available"] == 10
    order = client.post("/api/v1/channels/SHOP/orders", headers={
        "Authorization": f"Bearer {shop_token}", "Idempotency-Key": str(uuid.uuid4())},
        json={"external_id": "W-1", "lines": [{"sku": "MUG", "quantity": 1}]})
    assert order.status_code == 201, order.json
    sale = client.post("/api/v1/warehouses/WH/sales", headers={
        "Authorization": f"Bearer {till_token}", "Idempotency-Key": str(uuid.uuid4())},
        json={"reference": "T-1", "lines": [{"sku": "TEA", "quantity": 1}]})
    assert sale.status_code == 201, sale.json
    assert client.post("/api/v1/channels/TILL/orders", headers={
        "Authorization": f"Bearer {shop_token}", "Idempotency-Key": str(uuid.uuid4())},
        json={"external_id": "W-2", "lines": [{"sku": "MUG", "quantity": 1}]}).status_code == 403

    listed = runner.invoke(args=["channels", "list"])
    assert "SHOP\tapi\tWH\t-" in listed.output and "TILL\tpos\tWH\t-" in listed.output
    with app.app_context():
        kinds = dict(db.session.execute(select(Channel.code, Channel.kind)).all())
        assert (kinds["SHOP"].value, kinds["TILL"].value) == ("web_shop", "pos")
    not_connected = runner.invoke(args=["channels", "sync", "SHOP"])
    assert not_connected.exit_code == 1 and "not connected to a platform" in not_connected.output


def test_set_changes_only_what_it_is_given_and_names_changed_credentials_without_their_values(  # type: ignore[no-untyped-def]
        app, runner, shop):
    result = runner.invoke(args=["channels", "set", "WOO", "--buffer-percent", "10", "--cap-percent", "50",
                                 "--sells-from", "WH", "--sells-from", "OTHER",
                                 "--option", "tracking_providers=colissimo=Colissimo",
                                 "--consumer-secret", "cs_rotated"])
    assert result.exit_code == 0, result.output
    assert "buffer_percent 0 -> 10" in result.output and "cap_percent - -> 50" in result.output
    assert "sells_from its own -> OTHER, WH" in result.output
    assert "credentials consumer_secret" in result.output and "cs_rotated" not in result.output
    shown = json.loads(runner.invoke(args=["channels", "show", "WOO", "--json"]).stdout)
    assert (shown["buffer_percent"], shown["cap_percent"], shown["buffer_units"]) == (10, 50, 0)
    assert sorted(shown["sells_from"]) == ["OTHER", "WH"]
    assert shown["options"] == {"tracking_providers": "colissimo=Colissimo"}
    with app.app_context():
        creds = db.session.scalar(select(ChannelConnection)).credentials
        assert creds == {"consumer_key": shop.consumer_key, "consumer_secret": "cs_rotated",
                         "webhook_secret": shop.webhook_secret}
    refused = runner.invoke(args=["channels", "set", "WOO", "--cap-percent", "150", "--buffer-units", "4"])
    assert refused.exit_code == 1 and "cap_percent: between 0 and 100 (nothing was written)" in refused.output
    assert json.loads(runner.invoke(args=["channels", "show", "WOO", "--json"]).stdout)["buffer_units"] == 0
    unchanged = runner.invoke(args=["channels", "set", "WOO", "--cap-percent", "50"])
    assert unchanged.exit_code == 0 and "nothing changed" in unchanged.output
    rotated = runner.invoke(args=["channels", "test", "WOO"])     # the stand-in knows only the old secret
    assert rotated.exit_code == 1 and "AuthFailed" in rotated.output


def test_an_api_channel_is_connected_to_its_platform_later_with_set(app, runner, world, woo) -> None:  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["channels", "add", "WEB", "--kind", "api", "--warehouse", "WH"]).exit_code == 0
    not_yet = runner.invoke(args=["channels", "set", "WEB", "--buffer-units", "1"])
    assert not_yet.exit_code == 1 and "give --kind and --url" in not_yet.output
    result = runner.invoke(args=["channels", "set", "WEB", "--kind", "woocommerce", "--url", woo.url,
                                 *key_options(woo)])
    assert result.exit_code == 0, result.output
    assert "kind - -> woocommerce" in result.output
    assert runner.invoke(args=["channels", "test", "WEB"]).exit_code == 0
