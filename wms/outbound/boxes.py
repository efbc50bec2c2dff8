"""Shipping boxes: list, create, update and retire them (box codes are scanned at the pack station)."""

from __future__ import annotations

from sqlalchemy import select

from wms.db import db
from wms.errors import Conflict, NotFound, ValidationFailed, explain_constraint
from wms.outbound.models import Box
from wms.shipping import packing as rules
from wms.shipping.errors import PackingInputInvalid

explain_constraint("uq_boxes_code", Conflict, "A box with this code already exists.")


def list_boxes(*, include_inactive: bool = False) -> list[Box]:
    """Boxes by code; retired ones only when asked."""
    stmt = select(Box).order_by(Box.code)
    if not include_inactive:
        stmt = stmt.where(Box.active.is_(True))
    return list(db.session.scalars(stmt))


def get_box(code: str) -> Box:
    box = db.session.scalar(select(Box).where(Box.code == code))
    if box is None:
        raise NotFound(f"No box {code!r}.")
    return box


def _check(code: str, length: int, width: int, height: int, max_weight_g: int, tare_weight_g: int) -> None:
    try:
        rules.Box(code, length, width, height, max_weight_g, tare_weight_g)
    except PackingInputInvalid as exc:
        raise ValidationFailed(exc.detail) from exc


def create_box(code: str, name: str, inner_length_mm: int, inner_width_mm: int, inner_height_mm: int, *,
               max_weight_g: int, tare_weight_g: int = 0) -> Box:
    """A new box; the same code twice is a conflict unless everything is the same (a replay)."""
    code = code.strip()
    _check(code, inner_length_mm, inner_width_mm, inner_height_mm, max_weight_g, tare_weight_g)
    existing = db.session.scalar(select(Box).where(Box.code == code))
    values = dict(name=name, inner_length_mm=inner_length_mm, inner_width_mm=inner_width_mm,
                  inner_height_mm=inner_height_mm, max_weight_g=max_weight_g, tare_weight_g=tare_weight_g)
    if existing is not None:
        if all(getattr(existing, k) == v for k, v in values.items()) and existing.active:
            return existing
        raise Conflict(f"Box {code} already exists with other dimensions or weights; change it instead.",
                       box=code)
    box = Box(code=code, active=True, **values)
    db.session.add(box)
    db.session.flush()
    return box


def update_box(box: Box, *, name: str | None = None, inner_length_mm: int | None = None,
               inner_width_mm: int | None = None, inner_height_mm: int | None = None,
               max_weight_g: int | None = None, tare_weight_g: int | None = None,
               active: bool | None = None) -> Box:
    """Change a box; fields left None stay as they are."""
    new = {
        "inner_length_mm": inner_length_mm if inner_length_mm is not None else box.inner_length_mm,
        "inner_width_mm": inner_width_mm if inner_width_mm is not None else box.inner_width_mm,
        "inner_height_mm": inner_height_mm if inner_height_mm is not None else box.inner_height_mm,
        "max_weight_g": max_weight_g if max_weight_g is not None else box.max_weight_g,
        "tare_weight_g": tare_weight_g if tare_weight_g is not None else box.tare_weight_g,
    }
    _check(box.code, new["inner_length_mm"], new["inner_width_mm"], new["inner_height_mm"], new["max_weight_g"],
           new["tare_weight_g"])
    for key, value in new.items():
        setattr(box, key, value)
    if name is not None:
        box.name = name
    if active is not None:
        box.active = active
    db.session.flush()
    return box
