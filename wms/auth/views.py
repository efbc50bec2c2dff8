"""Sign-in pages."""

from __future__ import annotations

from flask import Blueprint, redirect, request, session, url_for

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")


@bp.post("/language")
def set_language():  # type: ignore[no-untyped-def]
    locale = request.form.get("locale", "en")
    if locale in ("en", "fr"):
        session["locale"] = locale
    nxt = request.form.get("next", "/")
    return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else url_for("supervisor.home"))
