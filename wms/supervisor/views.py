"""Supervisor pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from wms.auth.setup import page_requires

bp = Blueprint("supervisor", __name__, template_folder="templates")


@bp.get("/")
@page_requires()
def home():  # type: ignore[no-untyped-def]
    return render_template("supervisor/home.html")
