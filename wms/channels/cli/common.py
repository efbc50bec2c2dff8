"""What the `wms channels` commands share: domain refusals as messages, the channel by its code, and how
times, lags, JSON and sync log rows are shown."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import click


def refused(err: Any, *, wrote_nothing: bool = True) -> click.ClickException:
    """A domain refusal as a readable message (exit 1); what the command had added is rolled back."""
    from wms.db import db

    db.session.rollback()
    detail = getattr(err, "detail", None) or str(err)
    fields = [f"{e['field']}: {e['message']}" for e in getattr(err, "errors", []) or [] if e.get("message")]
    if fields and any(e.get("message") == detail for e in err.errors):
        detail = ""
    text = "; ".join(x for x in (detail, *fields) if x)
    return click.ClickException(text + (" (nothing was written)" if wrote_nothing else ""))


@contextlib.contextmanager
def sync_pass(what: str, code: str) -> Iterator[None]:
    """Around a pass that talks to the platform: a domain refusal or a platform failure becomes a readable
    one-line error (exit 1) naming `what` failed on channel `code`."""
    from wms.channels.connectors.base import ConnectorError
    from wms.channels.sync.common import describe
    from wms.errors import DomainError

    try:
        yield
    except DomainError as err:
        raise refused(err, wrote_nothing=False) from None
    except ConnectorError as err:
        raise click.ClickException(f"{what} of {code} FAILED: {describe(err)}") from None


def channel_by_code(code: str) -> Any:
    from sqlalchemy import select

    from wms.db import db
    from wms.orders.models import Channel

    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        raise click.ClickException(f"no channel {code!r} (see `wms channels list`)")
    return channel


def when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "never"


def lag(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def echo_json(doc: Any) -> None:
    click.echo(json.dumps(jsonable(doc), indent=2, sort_keys=False))


def kind_of(channel: Any, conn: Any) -> str:
    from wms.orders.models import ChannelKind

    if conn is not None:
        return conn.kind
    return "pos" if channel.kind == ChannelKind.POS else "api"


def log_doc(row: Any) -> dict[str, Any]:
    return {"id": row.id, "direction": row.direction, "started_at": row.started_at, "finished_at": row.finished_at,
            "ok": row.ok, "counts": dict(row.counts or {}), "detail": row.detail, "error": row.error,
            "retries": row.retries}


def log_line(row: Any) -> str:
    state = "ok" if row.ok else ("running" if row.ok is None else "FAILED")
    counts = ", ".join(f"{k} {v}" for k, v in sorted((row.counts or {}).items()))
    text = f"{row.id}\t{when(row.started_at)}\t{row.direction}\t{state}\t{counts or '-'}"
    notes = " | ".join(x for x in ((row.detail or "").replace("\n", "; "), (row.error or "").replace("\n", "; ")) if x)
    return text + (f"\t{notes[:300]}" if notes else "")
