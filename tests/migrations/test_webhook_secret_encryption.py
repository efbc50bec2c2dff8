"""Revision ae64fbe3ce97 encrypts the channels' stored webhook secrets, and its downgrade gives them back."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from tests import pg
from wms import create_app
from wms.crypto import SecretBox
from wms.db import db, make_engine
from wms.dbcli import alembic_config
from wms.orders.models import Channel
from wms.webhooks.dispatcher import SIGNATURE_HEADER, Answer, deliver, verify
from wms.webhooks.models import WebhookEvent

REVISION = "ae64fbe3ce97"
KEY = "migration-test-key"
PLAIN = {"SHOP": "whsec-shop-0123456789", "MKT": "m" * 128}

warehouses = sa.table("warehouses", sa.column("id"), sa.column("code"), sa.column("name"), sa.column("timezone"),
                      sa.column("created_at"))
channels = sa.table("channels", sa.column("id"), sa.column("code"), sa.column("name"), sa.column("kind"),
                    sa.column("warehouse_id"), sa.column("webhook_url"), sa.column("webhook_secret"),
                    sa.column("active"), sa.column("created_at"))


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request, pg_admin_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'secrets.db'}"
        return
    name = f"wms_secret_migration_{os.getpid()}"
    url = pg.create_database(pg_admin_url, name)
    yield url
    pg.drop_database(pg_admin_url, name)


def _before() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(REVISION).down_revision  # type: ignore[return-value]


def _with_channels(url: str) -> None:
    command.upgrade(alembic_config(url), _before())
    engine = make_engine(url)
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    try:
        with engine.begin() as conn:
            conn.execute(warehouses.insert().values(id=1, code="WH", name="Warehouse", timezone="UTC", created_at=now))
            for i, (code, secret) in enumerate(PLAIN.items(), start=1):
                conn.execute(channels.insert().values(id=i, code=code, name=code, kind="web_shop", warehouse_id=1,
                                                      webhook_url="https://shop.example/hooks", webhook_secret=secret,
                                                      active=True, created_at=now))
            conn.execute(channels.insert().values(id=3, code="POS", name="Till", kind="pos", warehouse_id=1,
                                                  active=True, created_at=now))
    finally:
        engine.dispose()


def _stored(url: str) -> dict[str, str | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.select(channels.c.code, channels.c.webhook_secret)).all())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_upgrade_leaves_no_plaintext_secret_and_downgrade_gives_them_back(empty_database: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WMS_SECRET_KEY", KEY)
    _with_channels(empty_database)
    command.upgrade(alembic_config(empty_database), REVISION)

    stored = _stored(empty_database)
    assert stored["POS"] is None
    box = SecretBox(KEY)
    for code, plain in PLAIN.items():
        assert plain not in stored[code] and stored[code].startswith("gAAAA")  # a Fernet token
        assert box.decrypt("webhook", stored[code]) == plain

    command.upgrade(alembic_config(empty_database), "head")
    app = create_app({"DATABASE_URL": empty_database, "SECRET_KEY": KEY, "TESTING": True})
    try:
        with app.app_context():
            read = {c.code: c.webhook_secret for c in db.session.scalars(sa.select(Channel))}
            db.session.add(WebhookEvent(channel_id=1, topic="stock.changed", object_key="MUG", payload={"sku": "MUG"}))
            db.session.commit()
        sent: list[tuple[bytes, dict[str, str]]] = []
        with app.extensions["wms.db"]() as session:  # as the delivery worker does: no app context
            event = session.scalars(sa.select(WebhookEvent)).one()
            deliver(session, event, send=lambda url, body, headers, timeout: sent.append((body, headers))
                    or Answer(204, None))
    finally:
        db.engine(app).dispose()
    assert read == {**PLAIN, "POS": None}
    [(body, headers)] = sent
    assert verify(PLAIN["SHOP"], headers[SIGNATURE_HEADER], body)  # signed with the decrypted secret

    command.downgrade(alembic_config(empty_database), _before())
    assert _stored(empty_database) == {**PLAIN, "POS": None}


def test_without_a_key_the_upgrade_stops_with_a_message_and_changes_nothing(empty_database: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import wms.config

    monkeypatch.delenv("WMS_SECRET_KEY", raising=False)
    monkeypatch.setattr(wms.config, "configured_secret_keys", lambda: (None, ()))  # no env, no instance key file
    _with_channels(empty_database)
    with pytest.raises(RuntimeError, match="no SECRET_KEY was found"):
        command.upgrade(alembic_config(empty_database), REVISION)
    assert _stored(empty_database) == {**PLAIN, "POS": None}


def test_migrations_find_the_key_and_old_keys_the_app_would_use(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from wms.config import configured_secret_keys
    from wms.crypto import parse_old_keys

    monkeypatch.setenv("WMS_SECRET_KEY", "new-key")
    monkeypatch.setenv("WMS_OLD_SECRET_KEYS", "older-key, oldest-key")
    current, old = configured_secret_keys()
    assert (current, parse_old_keys(old)) == ("new-key", ["older-key", "oldest-key"])


def test_wms_db_upgrade_encrypts_with_the_app_key_but_never_with_one_it_made_just_now(empty_database: str,
                                                                                       monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("WMS_SECRET_KEY", raising=False)
    _with_channels(empty_database)
    app = create_app({"DATABASE_URL": empty_database, "SECRET_KEY": "the-app-key", "TESTING": True})
    try:
        app.extensions["wms.secret_key_made_now"] = True  # as when no key was configured nor in instance/
        refused = app.test_cli_runner().invoke(args=["db", "upgrade", REVISION])
        assert refused.exit_code != 0 and "made a new one" in str(refused.exception)
        assert _stored(empty_database) == {**PLAIN, "POS": None}

        app.extensions["wms.secret_key_made_now"] = False
        done = app.test_cli_runner().invoke(args=["db", "upgrade", REVISION])
        assert done.exit_code == 0, done.output
    finally:
        db.engine(app).dispose()
    stored = _stored(empty_database)
    assert {code: SecretBox("the-app-key").decrypt("webhook", stored[code]) for code in PLAIN} == PLAIN


def test_the_app_says_when_it_made_its_key_just_now(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flask import Flask

    from wms.config import load_config

    monkeypatch.delenv("WMS_SECRET_KEY", raising=False)
    monkeypatch.delenv("WMS_CONFIG", raising=False)
    first = Flask("wms", instance_path=str(tmp_path))
    load_config(first, None)
    again = Flask("wms", instance_path=str(tmp_path))
    load_config(again, None)
    assert first.extensions["wms.secret_key_made_now"] is True
    assert again.extensions["wms.secret_key_made_now"] is False
    assert first.config["SECRET_KEY"] == again.config["SECRET_KEY"]
