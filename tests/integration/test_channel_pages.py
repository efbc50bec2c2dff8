"""The supervisor's channel pages against the WooCommerce stand-in: roles, adding a channel (its token shown once,
credentials never shown back), refusals that write nothing, test connection, import and SKU mapping, held orders
retried, resync queued (or said impossible), French."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from tests import pg
from tests.conftest import make_test_app
from tests.factories import sign_in_client
from tests.integration.stock_world import build_world, put
from tests.jobs_support import job_counts, jobs  # noqa: F401  (jobs is a fixture)
from tests.standins.woocommerce import WooCommerceStandIn
from wms.auth.models import ApiToken
from wms.channels import services
from wms.channels.models import ChannelConnection, ChannelListing, ChannelSyncLog, HeldChannelOrder
from wms.db import db
from wms.orders.models import Channel, Order

TOKEN = re.compile(r'<code class="token" id="channel-token">([^<]+)</code>')


@pytest.fixture
def shop() -> Iterator[WooCommerceStandIn]:
    yield from WooCommerceStandIn().serving()


@pytest.fixture
def world(app, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        w = build_world(make_user)
        w.admin = make_user("ada", roles=("admin",), all_warehouses=True, totp=True)  # type: ignore[attr-defined]
        put(w.tea, w.lanes[1], 5)
        db.session.commit()
        return w


@pytest.fixture
def admin(client, world, sign_in):  # type: ignore[no-untyped-def]
    sign_in(client, world.admin)
    return client


@pytest.fixture
def supervisor(app, world, sign_in):  # type: ignore[no-untyped-def]
    c = app.test_client()
    sign_in(c, world.supervisor)
    return c


def woo_form(shop: WooCommerceStandIn, **changes: str) -> dict[str, object]:
    form: dict[str, object] = {
        "kind": "woocommerce", "code": "WOO", "name": "Woo shop", "warehouse": "WH", "base_url": shop.url,
        "cred_consumer_key": shop.consumer_key, "cred_consumer_secret": shop.consumer_secret,
        "cred_webhook_secret": shop.webhook_secret, "opt_tracking_providers": "colissimo=Colissimo",
        "buffer_units": "1", "buffer_percent": "10", "cap_percent": "", "sells_from": ["WH"]}
    form.update(changes)
    return form


def add_woo(admin, shop: WooCommerceStandIn, **changes: str) -> str:  # type: ignore[no-untyped-def]
    r = admin.post("/channels/new", data=woo_form(shop, **changes))
    assert r.status_code == 200, r.get_data(as_text=True)
    found = TOKEN.search(r.get_data(as_text=True))
    assert found, "the token is shown"
    return found.group(1)


def rows(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash [a-z]+" role="(?:status|alert)">([^<]*)</p>', html)


# --- roles -------------------------------------------------------------------------------------------------------

def test_supervisors_see_the_channels_and_only_admins_add_or_change_them(app, world, admin, supervisor, shop,
                                                                        make_user, sign_in) -> None:  # type: ignore[no-untyped-def]
    add_woo(admin, shop)
    with app.app_context():
        picker = make_user("pat", roles=("picker",), warehouses=(db.session.get(type(world.warehouse),
                                                                                world.warehouse.id),))
        db.session.commit()
    floor = app.test_client()
    sign_in(floor, picker)
    assert floor.get("/channels").status_code == 403
    assert floor.get("/channels/WOO").status_code == 403

    listed = supervisor.get("/channels")
    html = listed.get_data(as_text=True)
    assert listed.status_code == 200 and "WOO" in html and "WooCommerce" in html and "Woo shop" in html
    assert 'id="add-channel"' not in html
    assert supervisor.get("/channels/WOO").status_code == 200
    assert supervisor.get("/channels/WOO/mapping").status_code == 200
    for path in ("/channels/new", "/channels/new?kind=woocommerce", "/channels/WOO/edit"):
        assert supervisor.get(path).status_code == 403, path
    assert supervisor.post("/channels/new", data=woo_form(shop, code="SUP")).status_code == 403
    assert supervisor.post("/channels/WOO/edit", data={"name": "taken over"}).status_code == 403
    assert rows(app, Channel) == 1
    with app.app_context():
        assert db.session.scalar(select(Channel.name)) == "Woo shop"
    assert 'id="add-channel"' in admin.get("/channels").get_data(as_text=True)

    # a supervisor of another warehouse does not see the channel
    with app.app_context():
        other = make_user("otto", roles=("supervisor",), warehouses=(db.session.get(type(world.other),
                                                                                    world.other.id),), totp=True)
        db.session.commit()
    elsewhere = app.test_client()
    sign_in(elsewhere, other)
    assert "WOO" not in elsewhere.get("/channels").get_data(as_text=True)
    assert elsewhere.get("/channels/WOO").status_code == 403


# --- add, token once, credentials never shown ----------------------------------------------------------------------

def test_adding_a_woocommerce_channel_shows_its_token_once_and_never_its_credentials(app, admin, shop) -> None:  # type: ignore[no-untyped-def]
    assert "WooCommerce" in admin.get("/channels/new").get_data(as_text=True)
    form = admin.get("/channels/new?kind=woocommerce").get_data(as_text=True)
    for name in ("cred_consumer_key", "cred_consumer_secret", "cred_webhook_secret", "opt_tracking_providers",
                 "buffer_units", "buffer_percent", "cap_percent", "sells_from"):
        assert f'name="{name}"' in form, name
    assert form.count('type="password"') == 3

    r = admin.post("/channels/new", data=woo_form(shop))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    token = TOKEN.search(html).group(1)
    assert "/api/v1/channels/WOO/platform-webhooks" in html
    assert shop.consumer_secret not in html
    with app.app_context():
        channel = db.session.scalar(select(Channel).where(Channel.code == "WOO"))
        conn = services.connection_of(channel)
        assert conn.kind == "woocommerce" and conn.base_url == shop.url
        assert conn.credentials["consumer_secret"] == shop.consumer_secret
        assert (conn.buffer_units, conn.buffer_percent, conn.cap_percent) == (1, 10, None)
        assert conn.options == {"tracking_providers": "colissimo=Colissimo"}
        stored = db.session.scalar(select(ApiToken).where(ApiToken.channel_id == channel.id))
        assert stored is not None
        raw = db.session.execute(text("SELECT credentials_json FROM channel_connections")).scalar_one()
    assert shop.consumer_secret not in str(raw)  # encrypted at rest

    # the token works for the channel's own calls ...
    machine = app.test_client()
    r = machine.get("/api/v1/warehouses/WH/stock?sku=TEA", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.get_json()[0]["sku"] == "TEA", r.get_data(as_text=True)
    # ... and is never shown again; nor are the credentials
    for path in ("/channels", "/channels/WOO", "/channels/WOO/edit", "/channels/WOO/mapping"):
        page = admin.get(path).get_data(as_text=True)
        assert token not in page and shop.consumer_secret not in page and shop.consumer_key not in page, path
    edit = admin.get("/channels/WOO/edit").get_data(as_text=True)
    assert re.findall(r'data-field="(\w+)">([^<]+)<', edit) == [
        ("consumer_key", "set"), ("consumer_secret", "set"), ("webhook_secret", "set")]

    # an empty password field keeps what is stored; a typed one replaces it
    data = woo_form(shop, name="Woo renamed", buffer_units="2", cred_consumer_key="", cred_consumer_secret="",
                    cred_webhook_secret="new-hook-secret")
    r = admin.post("/channels/WOO/edit", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        channel = db.session.scalar(select(Channel).where(Channel.code == "WOO"))
        conn = services.connection_of(channel)
        assert channel.name == "Woo renamed" and conn.buffer_units == 2
        assert conn.credentials == {"consumer_key": shop.consumer_key, "consumer_secret": shop.consumer_secret,
                                    "webhook_secret": "new-hook-secret"}


def test_an_api_channel_gets_its_token_and_no_platform(app, admin) -> None:  # type: ignore[no-untyped-def]
    r = admin.post("/channels/new", data={"kind": "api", "code": "OWN", "name": "Own shop", "warehouse": "WH"})
    assert r.status_code == 200 and TOKEN.search(r.get_data(as_text=True))
    assert "platform-webhooks" not in r.get_data(as_text=True)
    detail = admin.get("/channels/OWN").get_data(as_text=True)
    assert "not connected to a platform" in detail and "Sync log" not in detail
    r = admin.post("/channels/OWN/resync")
    assert r.status_code == 302
    assert "not connected to a platform" in admin.get("/channels/OWN").get_data(as_text=True)
    with app.app_context():
        assert services.connection_of(db.session.scalar(select(Channel))) is None


def test_every_kind_has_its_form_with_its_own_fields(app, admin) -> None:  # type: ignore[no-untyped-def]
    from wms.channels.views import kind_fields

    for kind in services.ADD_KINDS:
        r = admin.get(f"/channels/new?kind={kind}")
        html = r.get_data(as_text=True)
        assert r.status_code == 200, kind
        fields = kind_fields(kind)
        secrets = [*fields.credentials, *fields.optional_credentials]
        own_webhook = kind in ("api", "pos")  # their own webhook secret (wms.channels.views.WEBHOOK_KINDS)
        assert html.count('type="password"') == len(secrets) + fields.webhook_secret_apart + own_webhook, kind
        for name in secrets:
            assert f'name="cred_{name}"' in html, (kind, name)
        for name in fields.options:
            assert f'name="opt_{name}"' in html, (kind, name)
        assert ('name="base_url"' in html) == fields.platform, kind
    r = admin.post("/channels/new", data={"kind": "pos", "code": "TILL-1", "name": "Till", "warehouse": "WH"})
    assert r.status_code == 200 and TOKEN.search(r.get_data(as_text=True))
    with app.app_context():
        till = db.session.scalar(select(Channel).where(Channel.code == "TILL-1"))
        assert till.kind.value == "pos" and services.connection_of(till) is None
    # the connector reads the settings on save (no call is made): what it refuses is said on the page
    r = admin.post("/channels/new", data={"kind": "amazon", "code": "AMZ", "warehouse": "WH",
                                          "base_url": "https://sellingpartnerapi-eu.amazon.com",
                                          "cred_client_id": "a", "cred_client_secret": "b", "cred_refresh_token": "c"})
    assert r.status_code == 422
    assert "The platform settings are not usable: amazon: the option seller_id is required" in r.get_data(as_text=True)
    assert rows(app, Channel) == 1


def test_bad_settings_are_explained_on_the_page_and_write_nothing(app, admin, shop) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (dict(cred_consumer_secret=""), "Fill in the credentials"),
        (dict(base_url="ftp://shop"), "The platform URL must start with https://"),
        (dict(buffer_percent="150"), "between 0 and 100"),
        (dict(buffer_units="two"), "enter a whole number"),
        (dict(code=""), "The channel code is 1 to 32"),
        (dict(code="bad code!"), "The channel code is 1 to 32"),
        (dict(warehouse="NOPE"), "Choose the channel&#39;s warehouse"),
        (dict(sells_from=["NOPE"]), "Warehouse NOPE is not one you may sell from"),
        (dict(kind="ebay"), "Choose what kind of channel to add"),
    ]
    for changes, message in cases:
        r = admin.post("/channels/new", data=woo_form(shop, **changes))
        html = r.get_data(as_text=True)
        assert r.status_code == 422, (changes, r.status_code)
        assert message in html, (changes, flashes(html))
        assert shop.consumer_secret not in html  # a refused form never echoes a secret
    assert rows(app, Channel) == 0 and rows(app, ApiToken) == 0 and rows(app, ChannelConnection) == 0

    add_woo(admin, shop)
    r = admin.post("/channels/new", data=woo_form(shop))
    assert r.status_code == 422 and "A channel with code WOO already exists." in r.get_data(as_text=True)
    r = admin.post("/channels/WOO/edit", data=woo_form(shop, cap_percent="101", name="Changed"))
    assert r.status_code == 422 and "between 0 and 100" in r.get_data(as_text=True)
    r = admin.post("/channels/WOO/edit", data=woo_form(shop, name=""))
    assert r.status_code == 422 and "Give the channel a name." in r.get_data(as_text=True)
    assert rows(app, Channel) == 1 and rows(app, ApiToken) == 1
    with app.app_context():
        assert db.session.scalar(select(Channel.name)) == "Woo shop"
        assert db.session.scalar(select(ChannelConnection.cap_percent)) is None
    assert admin.get("/channels/NOPE").status_code == 404
    assert admin.get("/channels/new?kind=ebay").status_code == 200


# --- test connection ---------------------------------------------------------------------------------------------

def test_test_connection_shows_the_platforms_answer_or_its_refusal(app, admin, shop) -> None:  # type: ignore[no-untyped-def]
    add_woo(admin, shop)
    r = admin.post("/channels/WOO/test", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert any(f.startswith("Connected. The platform answered:") for f in flashes(html)), flashes(html)

    r = admin.post("/channels/WOO/edit", data=woo_form(shop, cred_consumer_key="", cred_consumer_secret="cs_wrong",
                                                        cred_webhook_secret=""))
    assert r.status_code == 302
    r = admin.post("/channels/WOO/test", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    failed = [f for f in flashes(html) if f.startswith("The connection failed:")]
    assert failed and "401" in failed[0], flashes(html)
    assert "failed" in html and 'data-direction="connect"' in html  # on the sync log

    shop.stop()
    r = admin.post("/channels/WOO/test", follow_redirects=True)
    assert r.status_code == 200
    assert any("The connection failed:" in f and "cannot reach" in f for f in flashes(r.get_data(as_text=True)))
    with app.app_context():
        logs = db.session.scalars(select(ChannelSyncLog.ok).order_by(ChannelSyncLog.id)).all()
        assert logs == [True, False, False]
        assert db.session.scalar(select(ChannelConnection.consecutive_failures)) == 2


# --- import and mapping ------------------------------------------------------------------------------------------

def test_listings_are_imported_and_mapped_set_cleared_or_refused(app, admin, supervisor, shop) -> None:  # type: ignore[no-untyped-def]
    mug_key = shop.add_item("MUG", 4, title="Mug")
    odd_key = shop.add_item("GREEN-TEA-100G", 2, title="Green tea 100 g")
    add_woo(admin, shop)
    r = supervisor.post("/channels/WOO/import", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Listings read: 2 (new 2). Mapped to our SKUs: 1; unmapped: 1." in flashes(html)
    unmapped = supervisor.get("/channels/WOO/mapping?unmapped=1").get_data(as_text=True)
    assert f'data-item="{odd_key}"' in unmapped and f'data-item="{mug_key}"' not in unmapped

    def mapping() -> dict[str, str | None]:
        with app.app_context():
            return dict(db.session.execute(select(ChannelListing.item_key, ChannelListing.product_id)).all())

    before = mapping()
    r = supervisor.post("/channels/WOO/mapping", data={"item_key": odd_key, "sku": "NO-SUCH", "action": "set"})
    assert r.status_code == 422 and "Unknown SKU NO-SUCH: nothing was changed." in r.get_data(as_text=True)
    r = supervisor.post("/channels/WOO/mapping", data={"item_key": odd_key, "sku": "", "action": "set"})
    assert r.status_code == 422 and "Enter our SKU" in r.get_data(as_text=True)
    r = supervisor.post("/channels/WOO/mapping", data={"item_key": "999:0", "sku": "TEA", "action": "set"})
    assert r.status_code == 404 and "has no listing 999:0" in r.get_data(as_text=True)
    assert mapping() == before

    r = supervisor.post("/channels/WOO/mapping?unmapped=1", data={"item_key": odd_key, "sku": "TEA", "action": "set"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/channels/WOO/mapping?unmapped=1")
    with app.app_context():
        tea_id = db.session.scalar(select(ChannelListing.product_id)
                                   .where(ChannelListing.item_key == odd_key))
    assert tea_id is not None
    assert "Every listing is mapped." in supervisor.get("/channels/WOO/mapping?unmapped=1").get_data(as_text=True)
    page = supervisor.get("/channels/WOO/mapping").get_data(as_text=True)
    assert re.search(rf'name="item_key" value="{odd_key}">\s*<input name="sku"[^>]*value="TEA"', page)

    r = supervisor.post("/channels/WOO/mapping", data={"item_key": mug_key, "sku": "", "action": "clear"},
                        follow_redirects=True)
    assert f"Listing {mug_key} is no longer mapped." in flashes(r.get_data(as_text=True))
    assert mapping()[mug_key] is None


# --- held orders -------------------------------------------------------------------------------------------------

def test_a_held_order_is_shown_and_taken_in_once_its_listing_is_mapped(app, admin, supervisor, shop) -> None:  # type: ignore[no-untyped-def]
    odd_key = shop.add_item("GREEN-TEA-100G", 5, title="Green tea 100 g")
    add_woo(admin, shop)
    external = shop.checkout("GREEN-TEA-100G", 2, email="camille@example.com")
    with app.app_context():
        channel = db.session.scalar(select(Channel))
        report = services.sync_now(channel, stock=False, fulfilments=False)
        assert report.orders_held == 1, report.lines()
    page = supervisor.get("/channels/WOO/mapping").get_data(as_text=True)
    assert f'data-order="{external}"' in page and "unmapped listing or unknown SKU" in page
    assert "camille@example.com" in page  # the order as read
    row = supervisor.get("/channels").get_data(as_text=True).split('data-channel="WOO"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num">(\d+)</td>', row)[-2:] == ["1", "1"]  # unmapped, held

    r = supervisor.post("/channels/WOO/held-orders/retry", follow_redirects=True)
    assert "Held orders taken in: 0; still held: 1." in flashes(r.get_data(as_text=True))
    assert rows(app, Order) == 0

    supervisor.post("/channels/WOO/mapping", data={"item_key": odd_key, "sku": "TEA", "action": "set"})
    r = supervisor.post("/channels/WOO/held-orders/retry", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Held orders taken in: 1; still held: 0." in flashes(html)
    assert "No order is held." in html
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert order.external_id == external
        assert db.session.scalar(select(HeldChannelOrder.resolved_at)) is not None


# --- resync ------------------------------------------------------------------------------------------------------

def test_resync_queues_the_jobs(app, jobs, admin, supervisor, shop) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    add_woo(admin, shop)
    r = supervisor.post("/channels/WOO/resync", follow_redirects=True)
    assert r.status_code == 200
    assert any(f.startswith("Resync queued") for f in flashes(r.get_data(as_text=True)))
    counts = job_counts(app)
    assert counts[("channels.pull", "todo")] == 1 and counts[("channels.reconcile", "todo")] == 1


@pytest.fixture
def empty_database(pg_admin_url: str) -> Iterator[str]:
    """A PostgreSQL database without the jobs schema."""
    name = f"wms_test_nojobs_{os.getpid()}"
    url = pg.create_database(pg_admin_url, name)
    yield url
    pg.drop_database(pg_admin_url, name)


@pytest.mark.parametrize("jobs_url, said", [
    ("sqlite:///no-jobs-here.db", "The job engine is not configured (no jobs database)"),
    ("postgresql://postgres@127.0.0.1:1/nowhere", "The jobs database cannot be reached"),
    ("empty", "The jobs database has no job tables yet"),
])
def test_resync_without_a_job_engine_says_so(database_url, world, shop, request, jobs_url, said) -> None:  # type: ignore[no-untyped-def]
    if jobs_url == "empty":
        jobs_url = request.getfixturevalue("empty_database")
    other = make_test_app(database_url, JOBS_DATABASE_URL=jobs_url)
    try:
        with other.app_context():
            services.add_channel("WOO", "Woo", "woocommerce",
                                 db.session.get(type(world.warehouse), world.warehouse.id), base_url=shop.url,
                                 credentials=shop.connector_config().credentials)
            db.session.commit()
        c = other.test_client()
        sign_in_client(other, c, world.supervisor)
        if said.startswith("The job engine"):
            assert "The job engine is not configured" in c.get("/channels/WOO").get_data(as_text=True)
        r = c.post("/channels/WOO/resync", follow_redirects=True)
        assert r.status_code == 200
        assert any(f.startswith(said) for f in flashes(r.get_data(as_text=True))), flashes(r.get_data(as_text=True))
    finally:
        db.engine(other).dispose()


# --- French ------------------------------------------------------------------------------------------------------

def test_every_channel_page_renders_in_french(app, admin, shop) -> None:  # type: ignore[no-untyped-def]
    shop.add_item("MUG", 4, title="Mug")
    add_woo(admin, shop)
    admin.post("/channels/WOO/import")
    admin.post("/auth/language", data={"locale": "fr", "next": "/channels"})
    expected = {
        "/channels": ["Canaux", "Ajouter un canal", "Dernière lecture"],
        "/channels/new": ["Quel type de canal ?"],
        "/channels/new?kind=woocommerce": ["Clé client", "Tampon (unités)", "Ajouter le canal"],
        "/channels/WOO": ["État de la synchronisation", "Journal de synchronisation", "Tester la connexion",
                          "Resynchroniser maintenant"],
        "/channels/WOO/edit": ["Laissez un champ vide pour garder ce qui est enregistré.", "défini"],
        "/channels/WOO/mapping": ["Annonces", "Commandes en attente", "Notre SKU"],
    }
    for path, words in expected.items():
        r = admin.get(path)
        html = r.get_data(as_text=True)
        assert r.status_code == 200, path
        assert 'lang="fr"' in html
        for word in words:
            assert word.replace("'", "&#39;") in html, (path, word)
        for english in ("Sync log", "Add a channel", "Held orders", "Test connection", "Credentials", "Last pull"):
            assert english not in html, (path, english)
    r = admin.post("/channels/new", data=woo_form(shop, code="WOO"))
    assert r.status_code == 422 and "Un canal de code WOO existe déjà." in r.get_data(as_text=True)
    r = admin.post("/channels/WOO/test", follow_redirects=True)
    assert any(f.startswith("Connecté. La plateforme a répondu") for f in flashes(r.get_data(as_text=True)))
