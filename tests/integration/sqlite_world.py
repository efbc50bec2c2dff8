"""An app on a freshly migrated SQLite file with one picker who signs in by badge (B-0001, PIN 4711)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from flask import Flask

from tests.conftest import HttpsClient
from wms import create_app
from wms.auth.models import User, UserRole
from wms.auth.passwords import hash_secret
from wms.db import db
from wms.dbcli import alembic_config


def badge_picker_app(path: Path, secret_key: str) -> Flask:
    """The embedded default, migrated by the real revisions, with picker `pia` on badge B-0001."""
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "head")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": secret_key,
                      "WTF_CSRF_ENABLED": False, "SERVER_NAME": None})
    app.test_client_class = HttpsClient
    with app.app_context():
        pia = User(username="pia", display_name="Pia", badge_code="B-0001", pin_hash=hash_secret("4711"))
        pia.role_rows = [UserRole(role="picker")]
        db.session.add(pia)
        db.session.commit()
    return app
