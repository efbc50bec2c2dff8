"""Webhook secrets are stored encrypted (wms.crypto, purpose webhook): the column is widened for the ciphertext.

Upgrade widens channels.webhook_secret to 512 and encrypts every stored secret with the current SECRET_KEY;
downgrade decrypts them (with SECRET_KEY or any OLD_SECRET_KEYS) and narrows the column back to 128.
The key is found as the app finds it: `wms db upgrade` uses the running app's configuration; plain `alembic`
reads WMS_CONFIG / WMS_SECRET_KEY / WMS_OLD_SECRET_KEYS or the instance folder's secret_key
(wms.config.configured_secret_keys), and never makes a new key. With secrets to convert and no key to be
found, the revision stops with a message saying so, and nothing is written.

Revision ID: ae64fbe3ce97
Revises: 3f1c2b7a9d40
Create Date: 2026-12-02 14:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = 'ae64fbe3ce97'
down_revision = '3f1c2b7a9d40'
branch_labels = None
depends_on = None

channels = sa.table("channels", sa.column("id", sa.Integer), sa.column("webhook_secret", sa.String))
OLD_COMMENT = "HMAC key shared with the channel"
NEW_COMMENT = "HMAC key shared with the channel, encrypted (wms.crypto)"


def _box():  # type: ignore[no-untyped-def]
    from flask import current_app, has_app_context

    from wms.config import configured_secret_keys
    from wms.crypto import SecretBox, parse_old_keys

    if has_app_context():
        if current_app.extensions.get("wms.secret_key_made_now"):
            raise RuntimeError(
                "channels.webhook_secret holds secrets to convert, but this process found no SECRET_KEY and made a "
                "new one in the instance folder just now: the application serving this database uses another. Run "
                "the migration with the application's own environment (WMS_SECRET_KEY, WMS_CONFIG).")
        return SecretBox.from_config(current_app.config)
    current, old = configured_secret_keys()
    if not current:
        raise RuntimeError(
            "channels.webhook_secret holds secrets to convert, but no SECRET_KEY was found (neither WMS_SECRET_KEY, "
            "WMS_CONFIG nor the instance folder's secret_key). Run the migration with the application's own "
            "environment (`wms db upgrade`), or set WMS_SECRET_KEY to the key the application uses.")
    return SecretBox(current, parse_old_keys(old))


def _stored() -> list[tuple[int, str]]:
    return op.get_bind().execute(sa.select(channels.c.id, channels.c.webhook_secret)
                                 .where(channels.c.webhook_secret.is_not(None)).order_by(channels.c.id)).all()


def _convert(rows: list[tuple[int, str]], change: Callable[[str], str]) -> None:
    for channel_id, value in rows:
        op.get_bind().execute(channels.update().where(channels.c.id == channel_id)
                              .values(webhook_secret=change(value)))


def upgrade() -> None:
    rows = _stored()
    box = _box() if rows else None  # before any change: without a key, stop with the schema untouched
    with op.batch_alter_table("channels") as batch:
        batch.alter_column("webhook_secret", existing_type=sa.String(128), type_=sa.String(512),
                           existing_nullable=True, existing_comment=OLD_COMMENT, comment=NEW_COMMENT)
    _convert(rows, lambda plain: box.encrypt("webhook", plain))


def downgrade() -> None:
    rows = _stored()
    if rows:
        box = _box()
        _convert(rows, lambda token: box.decrypt("webhook", token))
    with op.batch_alter_table("channels") as batch:
        batch.alter_column("webhook_secret", existing_type=sa.String(512), type_=sa.String(128),
                           existing_nullable=True, existing_comment=NEW_COMMENT, comment=OLD_COMMENT)
