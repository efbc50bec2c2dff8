"""The handheld browser app (pickers, receivers, packers)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("handheld", __name__, url_prefix="/hh", template_folder="templates", static_folder="static",
               static_url_path="/hh/static")
