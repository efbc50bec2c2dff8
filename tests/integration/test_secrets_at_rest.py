"""Credentials the WMS reads back are stored encrypted, and `wms secrets rotate` moves them to a new key."""

from __future__ import annotations

import base64
import hashlib

import pyotp
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from tests.conftest import make_test_app
from wms.auth import totp
from wms.auth.models import User
from wms.crypto import SecretUnreadable
from wms.db import db
from wms.orders.models import Channel, ChannelKind

KEY_A = "test-secret-key-not-for-production"  # the `app` fixture's SECRET_KEY
KEY_B = "the-next-secret-key"


def _raw(table: str, column: str) -> list[str]:
    return list(db.session.scalars(sa.text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY id")))


def test_a_channel_created_through_the_api_keeps_only_ciphertext_of_its_webhook_secret(
        app, client, make_warehouse, make_user, make_token, commit) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        wh = make_warehouse("WH")
        admin = make_user("admin", roles=("admin",), all_warehouses=True)
        token = make_token("user", user=admin)
        commit()
    answer = client.post("/api/v1/channels", headers={"Authorization": f"Bearer {token}"},
                         json={"code": "SHOP", "name": "Shop", "kind": "web_shop", "warehouse": wh.code,
                               "webhook_url": "https://shop.example/hooks"})
    assert answer.status_code == 201, answer.json
    secret = answer.json["webhook_secret"]
    with app.app_context():
        stored = _raw("channels", "webhook_secret")
        assert len(stored) == 1 and secret not in stored[0]
        assert db.session.scalar(sa.select(Channel.webhook_secret)) == secret


def _legacy_totp_token(key: str, seed: str) -> str:
    """A TOTP seed as wms.auth.totp encrypted it before wms.crypto (sha256 of 'wms-totp:' + SECRET_KEY)."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"wms-totp:" + key.encode()).digest())).encrypt(
        seed.encode()).decode()


def _everything(app) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    with app.app_context():
        seen: dict[str, str | None] = {c.code: c.webhook_secret for c in db.session.scalars(sa.select(Channel))}
        seen |= {u.username: totp.secret_of(u) for u in db.session.scalars(sa.select(User))}
        return seen


def test_rotation_moves_every_secret_from_the_old_key_to_the_new_one(app, make_warehouse, make_user) -> None:  # type: ignore[no-untyped-def]
    seeds = {"enrolled": pyotp.random_base32(), "legacy": pyotp.random_base32()}
    with app.app_context():  # everything stored under key A
        wh = make_warehouse("WH")
        for i in range(7):
            db.session.add(Channel(code=f"C{i}", name=f"C{i}", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id,
                                   webhook_url="https://shop.example/hooks", webhook_secret=f"whsec-{i}"))
        db.session.add(Channel(code="TILL", name="Till", kind=ChannelKind.POS, warehouse_id=wh.id))
        totp.store_secret(make_user("enrolled"), seeds["enrolled"])
        make_user("legacy").totp_secret_enc = _legacy_totp_token(KEY_A, seeds["legacy"])
        make_user("none")
        db.session.commit()
    expected = {**{f"C{i}": f"whsec-{i}" for i in range(7)}, "TILL": None, **seeds, "none": None}
    assert _everything(app) == expected
    with app.app_context():
        before = _raw("channels", "webhook_secret") + _raw("users", "totp_secret_enc")

    both = make_test_app(app.config["DATABASE_URL"], SECRET_KEY=KEY_B, OLD_SECRET_KEYS=KEY_A)
    only_b = make_test_app(app.config["DATABASE_URL"], SECRET_KEY=KEY_B)
    try:
        assert _everything(both) == expected  # B current, A old: everything still reads
        runner = both.test_cli_runner()
        assert runner.invoke(args=["secrets", "check"]).exit_code != 0  # values still need key A
        result = runner.invoke(args=["secrets", "rotate", "--batch-size", "3"])
        assert result.exit_code == 0, result.output
        assert "channels.webhook_secret: 7 re-encrypted" in result.output
        assert "users.totp_secret_enc: 2 re-encrypted" in result.output
        assert "re-encrypted so far" in result.stderr  # progress per batch
        check = runner.invoke(args=["secrets", "check"])
        assert check.exit_code == 0, check.output

        assert _everything(only_b) == expected  # key A removed: everything still reads
        with only_b.app_context():
            after = _raw("channels", "webhook_secret") + _raw("users", "totp_secret_enc")
        assert not set(before) & set(after)
        with pytest.raises(SecretUnreadable):  # and key A alone reads nothing any more
            _everything(app)
    finally:
        for other in (both, only_b):
            db.engine(other).dispose()


def test_rotate_reports_secrets_no_configured_key_decrypts_and_leaves_them_as_they_are(
        app, make_warehouse) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        wh = make_warehouse("WH")
        db.session.add(Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id,
                               webhook_url="https://shop.example/hooks", webhook_secret="whsec"))
        db.session.commit()
        before = _raw("channels", "webhook_secret")
    stranger = make_test_app(app.config["DATABASE_URL"], SECRET_KEY=KEY_B)  # key A forgotten
    try:
        result = stranger.test_cli_runner().invoke(args=["secrets", "rotate"])
        assert result.exit_code != 0
        assert "1 unreadable" in result.stderr
        with stranger.app_context():
            assert _raw("channels", "webhook_secret") == before
    finally:
        db.engine(stranger).dispose()
