"""The handheld browser app (pickers, receivers, packers)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from wms.auth.setup import page_requires
from wms.db import db
from wms.enums import TaskStatus
from wms.layout.models import Location
from wms.tasks.models import Task

bp = Blueprint("handheld", __name__, url_prefix="/hh", template_folder="templates", static_folder="static",
               static_url_path="/hh/static")


@bp.get("/")
@page_requires(("picker", "receiver", "packer", "supervisor"))
def home():  # type: ignore[no-untyped-def]
    """The person's open lane work, in the order it was given, with the face it is done from."""
    rows = db.session.execute(
        select(Task, Location.code)
        .join(Location, Location.id == Task.location_id)
        .where(Task.assignee_id == current_user.id, Task.status == TaskStatus.ASSIGNED)
        .order_by(Task.id)
    ).all()
    return render_template("handheld/home.html", tasks=rows)
