"""Who scanned, with which device and key, and the audit row every handheld call writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from wms.auth.models import User
from wms.db import db
from wms.picking.models import ScanEvent, ScanOutcome


@dataclass(frozen=True)
class ScanContext:
    user: User
    device_id: str | None = None
    idempotency_key: str | None = None
    scanned_at: dt.datetime | None = None


def record(ctx: ScanContext, warehouse_id: int, flow: str, step: str, code: str | None, outcome: ScanOutcome,
           message: str, *, pick_order_id: int | None = None, task_id: int | None = None,
           data: dict[str, Any] | None = None) -> ScanEvent:
    """Add one ScanEvent (flush, no commit)."""
    event = ScanEvent(warehouse_id=warehouse_id, user_id=ctx.user.id, device_id=ctx.device_id,
                      idempotency_key=ctx.idempotency_key, scanned_at=ctx.scanned_at, flow=flow, step=step,
                      code=(code or "")[:200] or None, outcome=outcome, message=message, data=data or {},
                      pick_order_id=pick_order_id, task_id=task_id)
    db.session.add(event)
    db.session.flush()
    return event
