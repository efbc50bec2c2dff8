"""User administration pages (admins): people, roles, warehouses, badges, second factors, API tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from wms.auth import services, sessions
from wms.auth.forms import (
    BadgeSetForm,
    EmptyForm,
    PasswordResetForm,
    TokenCreateForm,
    UserCreateForm,
    UserEditForm,
)
from wms.auth.models import User
from wms.auth.setup import page_requires
from wms.db import db
from wms.enums import TokenPurpose
from wms.errors import DomainError
from wms.layout.models import Warehouse
from wms.orders.models import Channel

bp = Blueprint("users_admin", __name__, url_prefix="/admin", template_folder="templates")

admin_only = page_requires(("admin",))


def _warehouse_choices() -> list[str]:
    return [w.code for w in services.all_warehouses()]


def _form_errors(form: Any) -> str:
    parts = [f"{getattr(form, name).label.text}: {'; '.join(errs)}" for name, errs in form.errors.items()
             if name != "csrf_token"]
    return " ".join(parts) or _("The form is not valid.")


@bp.get("/users")
@admin_only
def users():  # type: ignore[no-untyped-def]
    q = request.args.get("q", "")[:100]
    return render_template("auth/admin/users.html", users=services.search_users(q), q=q)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():  # type: ignore[no-untyped-def]
    form = UserCreateForm()
    form.warehouses.choices = _warehouse_choices()
    if request.method == "GET":
        return render_template("auth/admin/user_new.html", form=form)
    if not form.validate_on_submit():
        return render_template("auth/admin/user_new.html", form=form, error=_form_errors(form)), 422
    try:
        user = services.create_user(
            form.username.data or "",
            display_name=form.display_name.data or "",
            roles=form.roles.data or [],
            warehouses=services.warehouses_by_code(form.warehouses.data or []),
            all_warehouses=bool(form.all_warehouses.data),
            password=form.password.data or "",
            badge=(form.badge.data or "").strip() or None,
            pin=form.pin.data or None,
        )
    except DomainError as err:
        return render_template("auth/admin/user_new.html", form=form, error=err.detail), err.status
    flash(_("User %(name)s created.", name=user.username), "success")
    return redirect(url_for("users_admin.user_edit", user_id=user.id))


def _edit_page(user: User, *, form: UserEditForm | None = None, error: str | None = None, status: int = 200,
               **extra: Any) -> Any:
    if form is None:
        form = UserEditForm(obj=user, formdata=None)
        form.roles.data = sorted(r.value for r in user.roles)
        codes = services.warehouse_codes(user)
        form.warehouses.data = codes or []
        form.all_warehouses.data = user.all_warehouses
    form.warehouses.choices = _warehouse_choices()
    context = {
        "user": user,
        "form": form,
        "error": error,
        "password_form": extra.pop("password_form", None) or PasswordResetForm(formdata=None),
        "badge_form": extra.pop("badge_form", None) or BadgeSetForm(formdata=None),
        "button": EmptyForm(formdata=None),
        "recovery_left": services.unused_recovery_codes(user),
        "live_sessions": sessions.live_sessions(user),
    }
    return render_template("auth/admin/user_edit.html", **context), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user_edit(user_id: int):  # type: ignore[no-untyped-def]
    user = services.get_user(user_id)
    if request.method == "GET":
        return _edit_page(user)
    form = UserEditForm()
    form.warehouses.choices = _warehouse_choices()
    if not form.validate_on_submit():
        return _edit_page(user, form=form, error=_form_errors(form), status=422)
    try:
        services.update_user(
            user,
            roles=form.roles.data or [],
            warehouses=services.warehouses_by_code(form.warehouses.data or []),
            all_warehouses=bool(form.all_warehouses.data),
            active=bool(form.active.data),
            display_name=form.display_name.data or "",
            acting=current_user,  # type: ignore[arg-type]
        )
    except DomainError as err:
        return _edit_page(user, form=form, error=err.detail, status=err.status)
    flash(_("Changes to %(name)s saved.", name=user.username), "success")
    return redirect(url_for("users_admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
@admin_only
def user_password(user_id: int):  # type: ignore[no-untyped-def]
    user = services.get_user(user_id)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        return _edit_page(user, password_form=form, error=_form_errors(form), status=422)
    try:
        services.set_password(user, form.password.data or "")
    except DomainError as err:
        return _edit_page(user, password_form=form, error=err.detail, status=err.status)
    flash(_("New password set for %(name)s.", name=user.username), "success")
    return redirect(url_for("users_admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/badge")
@admin_only
def user_badge(user_id: int):  # type: ignore[no-untyped-def]
    user = services.get_user(user_id)
    form = BadgeSetForm()
    if not form.validate_on_submit():
        return _edit_page(user, badge_form=form, error=_form_errors(form), status=422)
    try:
        services.set_badge(user, form.badge.data or "", form.pin.data or "")
    except DomainError as err:
        return _edit_page(user, badge_form=form, error=err.detail, status=err.status)
    flash(_("Badge and PIN set for %(name)s.", name=user.username), "success")
    return redirect(url_for("users_admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/badge/clear")
@admin_only
def user_badge_clear(user_id: int):  # type: ignore[no-untyped-def]
    user = services.get_user(user_id)
    if not EmptyForm().validate_on_submit():
        return _edit_page(user, error=_("The form is not valid."), status=400)
    services.clear_badge(user)
    flash(_("Badge and PIN removed from %(name)s.", name=user.username), "success")
    return redirect(url_for("users_admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/reset-2fa")
@admin_only
def user_reset_2fa(user_id: int):  # type: ignore[no-untyped-def]
    user = services.get_user(user_id)
    if not EmptyForm().validate_on_submit():
        return _edit_page(user, error=_("The form is not valid."), status=400)
    services.reset_second_factor(user)
    flash(_("Second factor of %(name)s reset; they enrol again at their next sign-in.", name=user.username),
          "success")
    return redirect(url_for("users_admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/deactivate")
@admin_only
def user_deactivate(user_id: int):  # type: ignore[no-untyped-def]
    user = services.get_user(user_id)
    if not EmptyForm().validate_on_submit():
        return _edit_page(user, error=_("The form is not valid."), status=400)
    try:
        services.deactivate_user(user, acting=current_user)  # type: ignore[arg-type]
    except DomainError as err:
        return _edit_page(user, error=err.detail, status=err.status)
    flash(_("%(name)s is deactivated.", name=user.username), "success")
    return redirect(url_for("users_admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/sign-out-everywhere")
@admin_only
def user_sign_out_everywhere(user_id: int):  # type: ignore[no-untyped-def]
    user = services.get_user(user_id)
    if not EmptyForm().validate_on_submit():
        return _edit_page(user, error=_("The form is not valid."), status=400)
    ended = services.sign_out_everywhere(user)
    flash(_("%(name)s is signed out everywhere (%(n)s session(s) ended).", name=user.username, n=ended), "success")
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    return redirect(url_for("users_admin.user_edit", user_id=user.id))


def purpose_label(purpose: TokenPurpose | str) -> str:
    return {TokenPurpose.CHANNEL: _("channel"), TokenPurpose.PRINT_SITE: _("print site"),
            TokenPurpose.USER: _("personal")}.get(TokenPurpose(purpose), str(purpose))


def _channels() -> list[Channel]:
    return list(db.session.scalars(select(Channel).order_by(Channel.code)))


def _token_choices(form: TokenCreateForm) -> None:
    form.purpose.choices = [SelectChoice(p.value, purpose_label(p)) for p in TokenPurpose]
    form.warehouse.choices = ["", *_warehouse_choices()]
    form.channel.choices = [SelectChoice("", "—"), *(SelectChoice(c.code, f"{c.code} · {c.name}")
                                                     for c in _channels())]


def _tokens_page(form: TokenCreateForm | None = None, *, error: str | None = None, status: int = 200,
                 created: dict[str, Any] | None = None) -> Any:
    if form is None:
        form = TokenCreateForm(formdata=None)
        wanted = request.args.get("channel", "")[:32]
        if wanted:  # from a channel's page: a new token for that channel
            form.purpose.data, form.channel.data = TokenPurpose.CHANNEL.value, wanted
    _token_choices(form)
    show_revoked = request.args.get("revoked") == "1"
    channels = _channels()
    context = {
        "form": form,
        "tokens": services.list_tokens(include_revoked=show_revoked),
        "show_revoked": show_revoked,
        "error": error,
        "created": created,
        "button": EmptyForm(formdata=None),
        "warehouse_codes": {w.id: w.code for w in services.all_warehouses()},
        "channel_codes": {c.id: c.code for c in channels},
        "purpose_label": purpose_label,
    }
    resp = make_response(render_template("auth/admin/tokens.html", **context), status)
    if created:
        resp.headers["Cache-Control"] = "no-store"  # the clear token is in this page only
    return resp


@bp.route("/tokens", methods=["GET", "POST"])
@admin_only
def tokens():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return _tokens_page()
    form = TokenCreateForm()
    _token_choices(form)
    if not form.validate_on_submit():
        return _tokens_page(form, error=_form_errors(form), status=422)
    try:
        token, clear = _issue_from_form(form)
    except DomainError as err:
        db.session.rollback()
        return _tokens_page(form, error=err.detail, status=err.status)
    # The clear token is in this response only: it is not stored and no later page can show it.
    created = {"id": token.id, "name": token.name, "purpose": token.purpose.value, "token": clear}
    return _tokens_page(TokenCreateForm(formdata=None), created=created)


def _issue_from_form(form: TokenCreateForm) -> Any:
    acting: User = current_user  # type: ignore[assignment]
    if form.purpose.data == "user":
        owner = services.find_user_by_username(form.username.data or "")
        if owner is None:
            raise services.UserInputInvalid(_("A personal token needs the username of its owner."),
                                            errors=[{"field": "username", "message": "unknown user"}])
        return services.create_personal_token(owner, form.name.data or "", created_by=acting)
    channel = None
    channel_code = (form.channel.data or "").strip()
    if form.purpose.data == TokenPurpose.CHANNEL.value and channel_code:
        channel = db.session.scalar(select(Channel).where(Channel.code == channel_code))
        if channel is None:
            raise services.UserInputInvalid(_("No channel %(code)s.", code=channel_code[:32]),
                                            errors=[{"field": "channel", "message": "unknown channel"}])
    elif channel_code:
        raise services.UserInputInvalid(_("Only a channel token speaks for a channel."),
                                        errors=[{"field": "channel", "message": "channel tokens only"}])
    warehouse_id = _warehouse_id(form.warehouse.data or "")
    if channel is not None:
        if warehouse_id and warehouse_id != channel.warehouse_id:
            raise services.UserInputInvalid(
                _("Channel %(code)s ships from another warehouse: leave the warehouse empty or choose its own.",
                  code=channel.code), errors=[{"field": "warehouse", "message": "not the channel's"}])
        warehouse_id = channel.warehouse_id
    warehouse = db.session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise services.UserInputInvalid(_("A machine token needs its warehouse."),
                                        errors=[{"field": "warehouse", "message": "required"}])
    token, clear = services.create_machine_token(form.name.data or "", form.purpose.data or "", warehouse,
                                                 created_by=acting)
    if channel is not None:
        token.channel_id = channel.id
        if not (form.name.data or "").strip():
            token.name = f"channel {channel.code}"
        db.session.flush()
    return token, clear


def _warehouse_id(code: str) -> int:
    found = services.warehouses_by_code([code]) if code.strip() else []
    return found[0].id if found else 0


@bp.post("/tokens/<int:token_id>/revoke")
@admin_only
def token_revoke(token_id: int):  # type: ignore[no-untyped-def]
    if not EmptyForm().validate_on_submit():
        return _tokens_page(error=_("The form is not valid."), status=400)
    token = services.revoke_token_by_id(token_id)
    flash(_("Token %(prefix)s revoked.", prefix=token.prefix), "success")
    return redirect(url_for("users_admin.tokens"))
