"""User administration pages (admins)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("users_admin", __name__, url_prefix="/admin", template_folder="templates")
