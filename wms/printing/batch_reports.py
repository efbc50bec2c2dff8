"""Many daemon reports in one call: one HTTP round trip, one authentication and one commit for a busy site.

Each item carries its own idempotency key, recorded in the same table as the keys of single calls, so an item
is applied once whichever way it arrives. The items new to the WMS are applied together by
``jobs.report_many`` (each as ``jobs.report`` would, in order; a refused one — the lease was lost, the job is
gone — changes nothing and leaves the others applied), and their keys are written in one statement.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import insert, select

from wms.db import db, utcnow
from wms.errors import DomainError
from wms.idempotency_models import IdempotencyRecord
from wms.printing import jobs
from wms.printing import schemas as s

KEY_PREFIX = "report-item:"


def _digest(item: s.BatchReportItem) -> str:
    data = item.model_dump(mode="json", exclude={"key"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _replayed(item: s.BatchReportItem, digest: str, request_hash: str, answer: s.BatchReportResult | str
              ) -> s.BatchReportResult:
    """What a key already used answers: its first result, or a 409 when it was first used for another report."""
    if request_hash != digest:
        return s.BatchReportResult(job_id=item.job_id, key=item.key, status=409, replayed=True,
                                   detail=f"Key {item.key!r} was first used for a different report; nothing applied.")
    if isinstance(answer, str):
        answer = s.BatchReportResult.model_validate_json(answer)
    return answer.model_copy(update={"replayed": True})


def apply_reports(warehouse_id: int, scope: str, body: s.BatchReportIn) -> list[s.BatchReportResult]:
    keys = [KEY_PREFIX + item.key for item in body.reports]
    digests = [_digest(item) for item in body.reports]
    stored = {r.key: (r.request_hash, r.response_body) for r in db.session.execute(
        select(IdempotencyRecord.key, IdempotencyRecord.request_hash, IdempotencyRecord.response_body)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key.in_(keys)))}
    # The first item with a key not seen before is applied; the rest answer what that key answers.
    fresh: dict[str, int] = {}
    for n, key in enumerate(keys):
        if key not in stored and key not in fresh:
            fresh[key] = n
    order = sorted(fresh.values())
    outcomes = jobs.report_many(warehouse_id, body.daemon_id, [jobs.ReportItem(
        job_id=body.reports[n].job_id, outcome=body.reports[n].outcome, printer_code=body.reports[n].printer_code,
        detail=body.reports[n].detail, retry_after_seconds=body.reports[n].retry_after_seconds,
        possible_duplicate=body.reports[n].possible_duplicate) for n in order]) if order else []
    applied: dict[int, s.BatchReportResult] = {}
    for n, outcome in zip(order, outcomes, strict=True):
        item = body.reports[n]
        if isinstance(outcome, DomainError):
            applied[n] = s.BatchReportResult(job_id=item.job_id, key=item.key, status=outcome.status,
                                             detail=outcome.detail)
        else:
            applied[n] = s.BatchReportResult(job_id=item.job_id, key=item.key, status=200, state=outcome.value)
    if applied:
        now = utcnow()
        db.session.execute(insert(IdempotencyRecord), [
            {"scope": scope, "key": keys[n], "request_hash": digests[n], "status_code": result.status,
             "response_body": result.model_dump_json(), "created_at": now} for n, result in applied.items()])
    results: list[s.BatchReportResult] = []
    for n, (item, key) in enumerate(zip(body.reports, keys, strict=True)):
        if n in applied:
            results.append(applied[n])
        elif key in stored:
            results.append(_replayed(item, digests[n], *stored[key]))
        else:
            first = fresh[key]
            results.append(_replayed(item, digests[n], digests[first], applied[first]))
    return results
