"""The handheld browser app (pickers, receivers): server-rendered pages, small ES modules, an installable PWA whose
service worker keeps the app shell for offline use, and JSON calls under /hh/api (``handheld.api``)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template
from flask_login import current_user
from sqlalchemy import select

from wms.auth.setup import page_requires
from wms.db import db
from wms.enums import Role, TaskStatus
from wms.layout.models import Location
from wms.tasks.models import Task

bp = Blueprint("handheld", __name__, url_prefix="/hh", template_folder="templates", static_folder="static",
               static_url_path="/static")

HANDHELD_ROLES = ("picker", "receiver", "packer", "supervisor")


@bp.get("/")
@page_requires(HANDHELD_ROLES)
def home():  # type: ignore[no-untyped-def]
    """The person's open lane work, in the order it was given, with the face it is done from, the pick orders a
    supervisor gave them with their slot times, and the flows their roles open (picking, replenishment,
    receiving, packing)."""
    from wms.picking.services import assigned_pick_orders, current_pick_order, zones_with_work

    rows = db.session.execute(
        select(Task, Location.code)
        .join(Location, Location.id == Task.location_id)
        .where(Task.assignee_id == current_user.id, Task.status == TaskStatus.ASSIGNED)
        .order_by(Task.id)
    ).all()
    is_picker = Role.PICKER in current_user.roles
    return render_template("handheld/home.html", tasks=rows, is_picker=is_picker,
                           is_receiver=Role.RECEIVER in current_user.roles,
                           is_packer=Role.PACKER in current_user.roles,
                           current_op=current_pick_order(current_user) if is_picker else None,
                           zones=zones_with_work(current_user) if is_picker else [],
                           assigned=assigned_pick_orders(current_user) if is_picker else [])


@bp.get("/pick")
@page_requires(("picker",))
def pick():  # type: ignore[no-untyped-def]
    """The pick screen; its module loads the OP and keeps working from the device when the network drops."""
    return render_template("handheld/pick.html")


@bp.get("/replenish")
@page_requires(("receiver",))
def replenish():  # type: ignore[no-untyped-def]
    """Replenishment tasks for receivers, scanned from the replenish face."""
    return render_template("handheld/replenish.html")


@bp.get("/manifest.webmanifest")
def manifest():  # type: ignore[no-untyped-def]
    """The PWA manifest (install to the home screen, full screen, portrait)."""
    body = render_template("handheld/manifest.webmanifest")
    return Response(body, mimetype="application/manifest+json")


@bp.get("/sw.js")
def service_worker():  # type: ignore[no-untyped-def]
    """The service worker, served from /hh/ so its scope is the whole handheld app."""
    body = (Path(bp.root_path) / "static" / "sw.js").read_text(encoding="utf-8")
    return Response(body, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


# Each module declares its pages and /hh/api calls on this blueprint: picking and replenishment (api), packing
# (pack), receiving and put-away (receive), staging parcels into the shipping sas (stage).
from handheld import api, pack, receive, stage  # noqa: E402,F401
