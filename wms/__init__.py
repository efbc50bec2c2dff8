"""Rack-zone WMS: the Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import IntegrityError
from werkzeug.middleware.proxy_fix import ProxyFix

from wms.config import load_config
from wms.db import db
from wms.errors import from_integrity_error, register_error_handlers, render_error

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def select_locale() -> str:
    from flask import current_app, session
    from flask_login import current_user

    languages = current_app.config["LANGUAGES"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    from wms.auth.principal import cached_principal

    principal = cached_principal()  # the person, when a hot path read them without the ORM
    if principal is not None and principal.locale in languages:
        return principal.locale
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the WMS application; `config` overrides file and environment settings (tests use it)."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    from wms.outbound.carriers_registry import check_configuration  # a carrier set in part: refused here

    with app.app_context():
        check_configuration(app.config)
    if app.config["PROXY_FIX_HOPS"]:
        hops = int(app.config["PROXY_FIX_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    import wms.models  # noqa: F401  (complete metadata before the first query)

    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    register_error_handlers(app)
    _register_commit_boundary(app)
    _register_security_headers(app)

    from flask_babel import get_locale

    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "en")

    from wms.auth import setup as auth_setup

    auth_setup.init_app(app)
    _register_blueprints(app)

    from wms.cli import register_cli

    register_cli(app)
    return app


def _register_blueprints(app: Flask) -> None:
    import wms.api.routes  # noqa: F401  (declares every operation on the api blueprint)
    from handheld import bp as handheld_bp
    from wms.api import api
    from wms.auth.admin_views import bp as users_admin_bp
    from wms.auth.views import bp as auth_bp
    from wms.csp import bp as csp_bp
    from wms.inbound.views import bp as inbound_bp
    from wms.outbound.carrier_rules_views import bp as carrier_rules_bp
    from wms.outbound.dock_views import bp as shipping_dock_bp
    from wms.outbound.relay_views import bp as relay_points_bp
    from wms.returns.views import bp as returns_bp
    from wms.supervisor.exceptions_views import bp as pick_floor_bp
    from wms.supervisor.views import bp as supervisor_bp

    csrf.exempt(api)  # bearer-token calls carry no cookie; cookie calls are checked in the API itself
    csrf.exempt(csp_bp)  # browsers send violation reports without the page's token
    for blueprint in (api, auth_bp, users_admin_bp, supervisor_bp, handheld_bp, inbound_bp, shipping_dock_bp,
                      returns_bp, pick_floor_bp, relay_points_bp, carrier_rules_bp, csp_bp):
        app.register_blueprint(blueprint)


def _register_commit_boundary(app: Flask) -> None:
    """One commit per request: services only add/flush; a successful response commits, anything else rolls back."""

    @app.after_request
    def _commit(response):  # type: ignore[no-untyped-def]
        if not db.has_session():
            return response
        session = g.db_session
        if response.status_code >= 400 or g.get("rollback_only"):
            session.rollback()
            return response
        try:
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            return app.make_response(render_error(from_integrity_error(exc)))
        return response


def _register_security_headers(app: Flask) -> None:
    from wms import csp

    @app.after_request
    def _headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        csp.set_headers(response)  # no inline script or style anywhere: see wms/csp.py
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
