"""Configuration: defaults here, then a file named by WMS_CONFIG, then WMS_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask


class DefaultConfig:
    # sqlite:///<instance>/wms.sqlite3 unless WMS_DATABASE_URL says otherwise (postgresql://...)
    DATABASE_URL: str | None = None
    SECRET_KEY: str | None = None
    # Former SECRET_KEYs, still accepted to decrypt stored secrets until `wms secrets rotate` ran (docs/security.md).
    OLD_SECRET_KEYS: tuple[str, ...] | list[str] | str = ()
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "wms_session"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 12 * 3600  # one long shift
    WTF_CSRF_TIME_LIMIT = 12 * 3600
    WTF_CSRF_SSL_STRICT = False  # Referer checks break behind some TLS-terminating proxies; the token suffices
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "fr")
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_FAILURES_PER_IP = 50
    TOTP_ISSUER = "Rack-zone WMS"
    RECOVERY_CODE_COUNT = 10
    PREFERRED_URL_SCHEME = "https"
    JSON_SORT_KEYS = False
    # Behind a reverse proxy that sets X-Forwarded-For/Proto: number of proxies to trust.
    PROXY_FIX_HOPS = 0


def _coerce(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return value


def _read_settings(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.from_object(DefaultConfig)
    config_file = os.environ.get("WMS_CONFIG")
    if config_file:
        app.config.from_pyfile(os.path.abspath(config_file))
    app.config.from_prefixed_env("WMS")
    if overrides:
        app.config.update(overrides)
    for key in list(app.config):
        app.config[key] = _coerce(app.config[key])


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill app.config in the documented order of precedence (overrides last)."""
    _read_settings(app, overrides)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'wms.sqlite3'}"
    if not app.config.get("SECRET_KEY"):
        path = instance / "secret_key"
        # a key made just now encrypts nothing stored yet: the secrets migration refuses to use one (wms.crypto)
        app.extensions["wms.secret_key_made_now"] = not path.exists()
        app.config["SECRET_KEY"] = _instance_secret(path)


def configured_secret_keys() -> tuple[str | None, Any]:
    """(SECRET_KEY, OLD_SECRET_KEYS) as the app would find them, without starting it and without creating a key:
    for migrations run outside the app. SECRET_KEY is None when neither the configuration nor the instance
    folder holds one (the app would make a new one, which decrypts nothing stored)."""
    app = Flask("wms", instance_relative_config=True)  # the instance folder create_app() uses
    _read_settings(app, None)
    key = app.config.get("SECRET_KEY")
    if not key:
        path = Path(app.instance_path) / "secret_key"
        key = path.read_text().strip() if path.exists() else None
    return key or None, app.config.get("OLD_SECRET_KEYS")


def _instance_secret(path: Path) -> str:
    """A per-installation secret kept in the instance folder (mode 0600) when none is configured."""
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return secret
