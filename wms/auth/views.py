"""Sign-in pages: password, TOTP second factor (enrolment and recovery codes), handheld badge + PIN."""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from wms.auth import services, sessions
from wms.auth import totp as totp_service
from wms.auth.forms import BadgeForm, CodeForm, LoginForm
from wms.auth.models import User
from wms.auth.setup import page_requires

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")

HANDHELD_HOME = "/hh/"


@bp.post("/language")
def set_language():  # type: ignore[no-untyped-def]
    locale = request.form.get("locale", "en")
    if locale in ("en", "fr"):
        session["locale"] = locale
    nxt = request.form.get("next", "/")
    return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else url_for("supervisor.home"))


def _ip() -> str:
    return request.remote_addr or "unknown"


def _next_target() -> str:
    return services.safe_next(request.values.get("next"), url_for("supervisor.home"))


def _throttled(template: str, err: services.LoginThrottled, **context: Any) -> Any:
    body = render_template(template, error=err.detail, **context)
    return body, 429, {"Retry-After": str(err.extra.get("retry_after", 60))}


def _start_session(user: User, device_id: str | None = None) -> None:
    """A fresh session for a fresh sign-in: nothing from before it survives (no session fixation). Its server-side
    row is what keeps it alive; a handheld's session is bound to the device it began on."""
    locale = session.get("locale")
    sessions.end_session(sessions.current_session_id())
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user, fresh=True)
    session[sessions.SESSION_KEY] = sessions.open_session(user, device_id=device_id)
    session.permanent = True
    session["second_factor_done"] = False


def _device_id(form: Any) -> str | None:
    """The handheld's device id a sign-in form carried (filled in from the device's storage by signin.js)."""
    return sessions.clean_device_id(form.device_id.data)


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    nxt = _next_target()
    if request.method == "GET":
        form.next.data = nxt
        return render_template("auth/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form, error=_("Enter your username and password.")), 422
    try:
        user = services.authenticate_password(form.username.data or "", form.password.data or "", _ip())
    except services.LoginThrottled as err:
        return _throttled("auth/login.html", err, form=form)
    except services.InvalidCredentials:
        # 200, not 401: the failed attempt must be committed for the throttle to count it.
        return render_template("auth/login.html", form=form, error=_("Unknown username or wrong password."))
    # A floor person signing in on a handheld gets a device-bound session, as with a badge; supervisors and admins
    # use pages whose scripts send no device id, so theirs is not bound.
    _start_session(user, None if user.needs_second_factor else _device_id(form))
    if user.needs_second_factor or user.has_totp:
        endpoint = "auth.totp_verify" if user.has_totp else "auth.totp_enrol"
        return redirect(url_for(endpoint, next=nxt))
    if nxt == url_for("supervisor.home") and not user.needs_second_factor:
        return redirect(HANDHELD_HOME)  # pickers, receivers and packers start on the handheld
    return redirect(nxt)


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    sessions.end_session(sessions.current_session_id())
    return _signed_out()


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():  # type: ignore[no-untyped-def]
    """End every session of mine (a handheld left signed in, a browser I no longer have), this one included."""
    services.sign_out_everywhere(current_user)  # type: ignore[arg-type]
    return _signed_out()


def _signed_out():  # type: ignore[no-untyped-def]
    """Forget the person in this browser (keeping the chosen language) and show the sign-in page: the badge
    sign-in when signing out from the handheld (its form sends next=/hh/...), else the password one."""
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    if _handheld_next(request.form.get("next")) is not None:
        return redirect(url_for("auth.badge"))
    return redirect(url_for("auth.login"))


def _handheld_next(target: str | None) -> str | None:
    """`target` when it is a safe path into the handheld app, else None."""
    target = services.safe_next(target, "")
    return target if target.startswith(HANDHELD_HOME) and ".." not in target else None


@bp.route("/totp", methods=["GET", "POST"])
@login_required
def totp_verify():  # type: ignore[no-untyped-def]
    user: User = current_user  # type: ignore[assignment]
    nxt = _next_target()
    if not user.has_totp:
        return redirect(url_for("auth.totp_enrol", next=nxt))
    form = CodeForm()
    if request.method == "GET":
        form.next.data = nxt
        return render_template("auth/totp.html", form=form)
    if not form.validate_on_submit():
        return render_template("auth/totp.html", form=form, error=_("Enter the code from your app.")), 422
    try:
        ok = services.verify_second_factor(user, form.code.data or "", _ip())
    except services.LoginThrottled as err:
        return _throttled("auth/totp.html", err, form=form)
    if not ok:
        return render_template("auth/totp.html", form=form, error=_("This code is wrong or was already used."))
    session["second_factor_done"] = True
    return redirect(nxt)


@bp.route("/totp/enrol", methods=["GET", "POST"])
@login_required
def totp_enrol():  # type: ignore[no-untyped-def]
    user: User = current_user  # type: ignore[assignment]
    nxt = _next_target()
    if user.has_totp:
        # Re-enrolling would let a stolen password replace the second factor: only an admin reset allows it.
        if session.get("second_factor_done"):
            return redirect(nxt)
        return redirect(url_for("auth.totp_verify", next=nxt))
    secret = services.begin_enrolment(user)
    qr_svg = segno.make(totp_service.provisioning_uri(user, secret), error="m").svg_inline(scale=4)
    form = CodeForm()
    context = {"form": form, "secret": secret, "qr_svg": qr_svg}
    if request.method == "GET":
        form.next.data = nxt
        return render_template("auth/enrol.html", **context)
    if not form.validate_on_submit():
        return render_template("auth/enrol.html", error=_("Enter the code from your app."), **context), 422
    try:
        codes = services.confirm_enrolment(user, form.code.data or "", _ip())
    except services.LoginThrottled as err:
        return _throttled("auth/enrol.html", err, **context)
    if codes is None:
        return render_template("auth/enrol.html", error=_("This code is wrong; check your device's clock."),
                               **context)
    session["second_factor_done"] = True
    return render_template("auth/recovery_codes.html", codes=codes, next=nxt)


@bp.route("/recovery-codes", methods=["GET", "POST"])
@page_requires()
def recovery_codes():  # type: ignore[no-untyped-def]
    user: User = current_user  # type: ignore[assignment]
    if not user.has_totp:
        return redirect(url_for("auth.totp_enrol"))
    form = CodeForm()
    left = services.unused_recovery_codes(user)
    if request.method == "GET":
        return render_template("auth/recovery_regenerate.html", form=form, left=left)
    if not form.validate_on_submit():
        return render_template("auth/recovery_regenerate.html", form=form, left=left,
                               error=_("Enter a current code from your app.")), 422
    try:
        codes = services.regenerate_recovery_codes(user, form.code.data or "", _ip())
    except services.LoginThrottled as err:
        return _throttled("auth/recovery_regenerate.html", err, form=form, left=left)
    if codes is None:
        return render_template("auth/recovery_regenerate.html", form=form, left=left,
                               error=_("This code is wrong or was already used (recovery codes do not count)."))
    return render_template("auth/recovery_codes.html", codes=codes, next=url_for("supervisor.home"))


@bp.route("/badge", methods=["GET", "POST"])
def badge():  # type: ignore[no-untyped-def]
    form = BadgeForm()
    nxt = _handheld_next(request.values.get("next")) or HANDHELD_HOME
    if request.method == "GET":
        return render_template("auth/badge.html", form=form, next=nxt)
    if not form.validate_on_submit():
        return render_template("auth/badge.html", form=form, next=nxt,
                               error=_("Scan your badge and enter your PIN.")), 422
    device_id = _device_id(form)
    if device_id is None:
        # The handheld app sends its device id with every call; a session not bound to one could be replayed.
        return render_template("auth/badge.html", form=form, next=nxt,
                               error=_("This sign-in needs the handheld app (with JavaScript).")), 422
    try:
        user = services.authenticate_badge(form.badge.data or "", form.pin.data or "", _ip())
    except services.LoginThrottled as err:
        return _throttled("auth/badge.html", err, form=form, next=nxt)
    except services.InvalidCredentials:
        return render_template("auth/badge.html", form=form, next=nxt, error=_("Unknown badge or wrong PIN."))
    except services.BadgeSignInNotAllowed:
        return render_template(
            "auth/badge.html", form=form, next=nxt,
            error=_("Supervisors and admins sign in with username, password and second factor."),
        ), 403
    _start_session(user, device_id)
    return redirect(nxt)
