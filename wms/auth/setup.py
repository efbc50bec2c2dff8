"""Wire sign-in into the app: Flask-Login's user loader and the page guards used by every blueprint."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from wms.auth import sessions
from wms.auth.models import User, UserSession
from wms.db import db
from wms.enums import Role


def init_app(app: Flask) -> None:
    from wms import login_manager

    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(user_key: str) -> User | None:
        user_id, _, version = user_key.partition(":")
        raw = sessions.current_session_id()
        if not user_id.isdigit() or not 1 <= int(user_id) <= 2**31 - 1 or raw is None:
            return None
        # One round trip on every request: the person with their roles and warehouses, and the session's row.
        found = db.session.execute(
            select(User, UserSession.id, UserSession.device_id)
            .join(UserSession, and_(*sessions.live_session_filter(int(user_id), raw)))
            .where(User.id == int(user_id))
            .options(joinedload(User.role_rows), joinedload(User.warehouse_rows))).unique().one_or_none()
        if found is None:
            return None
        user, session_row_id, device_id = found
        if not user.active or str(user.session_version) != version:
            return None
        if sessions.device_refused(device_id):
            # Another device (or none) presenting a handheld's cookie: the cookie was copied; end the session.
            sessions.revoke_after_request(session_row_id)
            return None
        return user

    app.teardown_request(lambda _exc: sessions.commit_pending_revocations())

    @login_manager.unauthorized_handler
    def _unauthorized() -> Any:
        from wms.errors import AuthenticationRequired, wants_json

        if wants_json():
            raise AuthenticationRequired("Sign in first.")
        if request.blueprint == "handheld":
            # The handheld's start page is the badge sign-in, not the desktop password form.
            return redirect(url_for("auth.badge", next=request.full_path.rstrip("?")))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def page_requires(roles: Iterable[str | Role] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a page: signed in, holding one of `roles`, and past the second factor when the role needs it."""
    wanted = frozenset(Role(r) for r in roles)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from wms import login_manager
            from wms.errors import Forbidden

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            user: User = current_user  # type: ignore[assignment]
            if user.needs_second_factor and not session.get("second_factor_done"):
                if not user.has_totp:
                    flash(_("Set up two-factor authentication to continue."), "warning")
                    return redirect(url_for("auth.totp_enrol", next=request.full_path.rstrip("?")))
                return redirect(url_for("auth.totp_verify", next=request.full_path.rstrip("?")))
            roles_held = user.roles
            if Role.ADMIN in roles_held:
                roles_held = roles_held | {Role.SUPERVISOR}
            if wanted and not (roles_held & wanted):
                raise Forbidden(_("Your role does not give access to this page."))
            return view(*args, **kwargs)

        return wrapper

    return decorator
