"""Channels and tokens from the admin pages, so an admin never needs the API: a channel with its own webhook URL and
secret (made and shown once, stored encrypted), connecting an existing channel to a platform (the WooCommerce
stand-in answers the test), deactivate and reactivate, channel tokens issued for a channel (shown once, then only
their name), revoked (the API answers 401), refusals said on the page, non-admins refused, French."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from tests.integration.stock_world import build_world
from tests.standins.woocommerce import WooCommerceStandIn
from wms.auth.models import ApiToken
from wms.channels import services
from wms.channels.models import ChannelConnection
from wms.db import db
from wms.orders.models import Channel

TOKEN = re.compile(r'<code class="token" id="channel-token">([^<]+)</code>')
HOOK_SECRET = re.compile(r'<code class="token" id="webhook-secret">([^<]+)</code>')
CLEAR = re.compile(r'id="clear-token">(wms_[^<]+)<')


@pytest.fixture
def shop() -> Iterator[WooCommerceStandIn]:
    yield from WooCommerceStandIn().serving()


@pytest.fixture
def world(app, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        w = build_world(make_user)
        w.admin = make_user("ada", roles=("admin",), all_warehouses=True, totp=True)  # type: ignore[attr-defined]
        db.session.commit()
        return w


@pytest.fixture
def admin(client, world, sign_in):  # type: ignore[no-untyped-def]
    sign_in(client, world.admin)
    return client


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def add_own_shop(admin, **changes: str) -> str:  # type: ignore[no-untyped-def]
    data = {"kind": "api", "code": "OWN", "name": "Own shop", "warehouse": "WH",
            "webhook_url": "https://own.example.com/wms-events", **changes}
    r = admin.post("/channels/new", data=data)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_data(as_text=True)


def test_an_api_channel_gets_its_webhook_and_a_secret_shown_once_and_refusals_are_readable(app, admin) -> None:  # type: ignore[no-untyped-def]
    form = admin.get("/channels/new?kind=api").get_data(as_text=True)
    assert 'name="webhook_url"' in form and 'name="webhook_secret_own"' in form
    for changes, message in [
        ({"webhook_url": "ftp://own.example.com"}, "The webhook URL must start with https://"),
        ({"webhook_url": "https://own.example.com/a b"}, "The webhook URL must start with https://"),
        ({"webhook_secret_own": "short"}, "A webhook secret is 16 to 200 characters"),
        ({"kind": "ebay"}, "Choose what kind of channel to add"),
        ({"code": "bad code!"}, "The channel code is 1 to 32"),
    ]:
        r = admin.post("/channels/new", data={"kind": "api", "code": "OWN", "warehouse": "WH",
                                              "webhook_url": "https://own.example.com/x", **changes})
        assert r.status_code == 422 and message in r.get_data(as_text=True), changes
    assert count(app, Channel) == 0 and count(app, ApiToken) == 0

    html = add_own_shop(admin)
    token, secret = TOKEN.search(html).group(1), HOOK_SECRET.search(html).group(1)
    assert token.startswith("wms_") and len(secret) >= 32
    assert "https://own.example.com/wms-events" in html
    with app.app_context():
        channel = db.session.scalar(select(Channel))
        assert channel.webhook_url == "https://own.example.com/wms-events" and channel.webhook_secret == secret
        stored = db.session.execute(text("SELECT webhook_secret FROM channels")).scalar_one()
        assert secret not in stored  # encrypted at rest
    detail = admin.get("/channels/OWN").get_data(as_text=True)
    assert secret not in detail and token not in detail and "https://own.example.com/wms-events" in detail
    edit = admin.get("/channels/OWN/edit").get_data(as_text=True)
    assert secret not in edit and 'data-field="webhook_secret_own">set<' in edit

    r = admin.post("/channels/new", data={"kind": "api", "code": "OWN", "warehouse": "WH"})
    assert r.status_code == 422 and "A channel with code OWN already exists." in r.get_data(as_text=True)
    # a new webhook secret is made on request and shown on that page only
    r = admin.post("/channels/OWN/edit", data={"name": "Own shop", "webhook_url": "https://own.example.com/v2",
                                               "new_webhook_secret": "1"})
    fresh = HOOK_SECRET.search(r.get_data(as_text=True)).group(1)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store" and fresh != secret
    assert fresh not in admin.get("/channels/OWN/edit").get_data(as_text=True)
    with app.app_context():
        channel = db.session.scalar(select(Channel))
        assert channel.webhook_url == "https://own.example.com/v2" and channel.webhook_secret == fresh
    assert count(app, Channel) == 1 and count(app, ApiToken) == 1


def test_an_unconnected_channel_is_connected_to_a_platform_from_its_page(app, admin, shop) -> None:  # type: ignore[no-untyped-def]
    add_own_shop(admin)
    assert 'id="connect-platform"' in admin.get("/channels/OWN").get_data(as_text=True)
    assert "WooCommerce" in admin.get("/channels/OWN/connect").get_data(as_text=True)
    assert "Unknown kind ebay." in admin.get("/channels/OWN/connect?kind=ebay").get_data(as_text=True)
    form = admin.get("/channels/OWN/connect?kind=woocommerce").get_data(as_text=True)
    assert 'name="cred_consumer_key"' in form and 'name="base_url"' in form
    data = {"kind": "woocommerce", "base_url": shop.url, "cred_consumer_key": shop.consumer_key,
            "cred_consumer_secret": shop.consumer_secret, "cred_webhook_secret": shop.webhook_secret,
            "sells_from": ["WH"]}
    for changes, message in [({"base_url": "not a url"}, "The platform URL must start with https://"),
                             ({"cred_consumer_secret": ""}, "Fill in the credentials"),
                             ({"kind": "ebay"}, "Choose the platform to connect to.")]:
        r = admin.post("/channels/OWN/connect", data={**data, **changes})
        assert r.status_code == 422 and message in r.get_data(as_text=True), changes
        assert shop.consumer_secret not in r.get_data(as_text=True)
    assert count(app, ChannelConnection) == 0

    r = admin.post("/channels/OWN/connect", data=data, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "OWN is connected to WooCommerce." in html and "Sync status" in html
    edit = admin.get("/channels/OWN/edit").get_data(as_text=True)
    assert shop.consumer_secret not in edit and shop.consumer_key not in edit
    assert 'data-field="consumer_secret">set<' in edit
    r = admin.post("/channels/OWN/test", follow_redirects=True)
    assert "Connected. The platform answered" in r.get_data(as_text=True)
    with app.app_context():
        conn = services.connection_of(db.session.scalar(select(Channel)))
        assert conn.kind == "woocommerce" and conn.credentials["consumer_secret"] == shop.consumer_secret
    # a till is not connected to a platform
    assert admin.post("/channels/new", data={"kind": "pos", "code": "TILL", "warehouse": "WH"}).status_code == 200
    assert 'id="connect-platform"' not in admin.get("/channels/TILL").get_data(as_text=True)
    r = admin.post("/channels/TILL/connect", data={**data})
    assert r.status_code == 422 and "A point of sale records its sales through the API" in r.get_data(as_text=True)
    assert count(app, ChannelConnection) == 1


def test_a_deactivated_channel_is_refused_by_the_api_until_reactivated(app, admin) -> None:  # type: ignore[no-untyped-def]
    token = TOKEN.search(add_own_shop(admin)).group(1)
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/channels/OWN/orders/nope", headers=auth).status_code == 404
    r = admin.post("/channels/OWN/deactivate", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "OWN is deactivated" in html and 'id="reactivate"' in html and 'id="deactivate"' not in html
    assert api.get("/api/v1/channels/OWN/orders/nope", headers=auth).status_code == 409
    r = admin.post("/channels/OWN/reactivate", follow_redirects=True)
    assert "OWN is active again." in r.get_data(as_text=True)
    assert api.get("/api/v1/channels/OWN/orders/nope", headers=auth).status_code == 404


def test_a_channel_token_is_shown_once_listed_by_name_and_revoked_for_good(app, admin) -> None:  # type: ignore[no-untyped-def]
    add_own_shop(admin)
    page = admin.get("/admin/tokens?channel=OWN").get_data(as_text=True)
    assert '<option selected value="OWN">' in page or '<option value="OWN" selected>' in page
    for data, message in [({"purpose": "channel", "channel": "NOPE"}, "No channel NOPE."),
                          ({"purpose": "print_site", "channel": "OWN", "warehouse": "WH"},
                           "Only a channel token speaks for a channel."),
                          ({"purpose": "channel", "channel": "OWN", "warehouse": "OTHER"},
                           "Channel OWN ships from another warehouse")]:
        r = admin.post("/admin/tokens", data=data)
        assert r.status_code == 422 and message in r.get_data(as_text=True), data
    assert count(app, ApiToken) == 1

    r = admin.post("/admin/tokens", data={"name": "shop backend", "purpose": "channel", "channel": "OWN"})
    html = r.get_data(as_text=True)
    clear = CLEAR.search(html).group(1)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store" and "copy it" in html
    listing = admin.get("/admin/tokens").get_data(as_text=True)
    assert "shop backend" in listing and clear not in listing and f"wms_{clear.split('_')[1]}_" in listing
    detail = admin.get("/channels/OWN").get_data(as_text=True)
    assert "shop backend" in detail and clear not in detail
    auth = {"Authorization": f"Bearer {clear}"}
    api = app.test_client()
    assert api.get("/api/v1/channels/OWN/orders/nope", headers=auth).status_code == 404  # speaks for OWN
    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.name == "shop backend"))
        assert token.channel_id == db.session.scalar(select(Channel.id)) and token.warehouse_id is not None
        token_id = token.id
    assert admin.post(f"/admin/tokens/{token_id}/revoke").status_code == 302
    assert api.get("/api/v1/channels/OWN/orders/nope", headers=auth).status_code == 401
    assert api.get("/api/v1/me", headers=auth).status_code == 401
    assert "shop backend" not in admin.get("/channels/OWN").get_data(as_text=True)


def test_only_admins_manage_channels_and_tokens(app, world, admin, sign_in) -> None:  # type: ignore[no-untyped-def]
    add_own_shop(admin)
    supervisor = app.test_client()
    sign_in(supervisor, world.supervisor)
    assert supervisor.get("/channels/OWN").status_code == 200
    assert 'id="deactivate"' not in supervisor.get("/channels/OWN").get_data(as_text=True)
    for path in ("/channels/OWN/connect", "/channels/OWN/connect?kind=woocommerce", "/admin/tokens"):
        assert supervisor.get(path).status_code == 403, path
    for path, data in [("/channels/OWN/deactivate", {}), ("/channels/OWN/reactivate", {}),
                       ("/channels/OWN/connect", {"kind": "woocommerce"}),
                       ("/admin/tokens", {"purpose": "channel", "channel": "OWN"})]:
        assert supervisor.post(path, data=data).status_code == 403, path
    with app.app_context():
        assert db.session.scalar(select(Channel.active)) is True
    assert count(app, ApiToken) == 1 and count(app, ChannelConnection) == 0


def test_the_admin_channel_and_token_pages_render_in_french(app, admin) -> None:  # type: ignore[no-untyped-def]
    add_own_shop(admin)
    admin.post("/channels/OWN/deactivate")
    admin.post("/admin/tokens", data={"purpose": "channel", "channel": "OWN"})
    admin.post("/auth/language", data={"locale": "fr", "next": "/channels"})
    expected = {
        "/channels/new?kind=api": ["Webhooks vers le canal", "URL de webhook"],
        "/channels/OWN": ["Réactiver", "désactivé", "Connecter à une plateforme", "Jetons d’API",
                          "Émettre un jeton"],
        "/channels/OWN/edit": ["Créer un nouveau secret de webhook"],
        "/channels/OWN/connect": ["Quelle plateforme ?"],
        "/channels/OWN/connect?kind=woocommerce": ["Connecter", "Clé client"],
        "/admin/tokens": ["Canal (jeton de canal)", "canal", "personnel"],
    }
    for path, words in expected.items():
        r = admin.get(path)
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and 'lang="fr"' in html, path
        for word in words:
            assert word.replace("'", "&#39;") in html, (path, word)
        for english in ("Reactivate", "Webhooks to the channel", "Which platform?", "Channel (channel token)",
                        "print site"):
            assert english not in html, (path, english)
    r = admin.post("/channels/OWN/connect", data={"kind": "woocommerce", "base_url": "nope"})
    assert r.status_code == 422 and "L&#39;URL de la plateforme doit commencer par https://" in r.get_data(as_text=True)
