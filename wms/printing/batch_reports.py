"""Many daemon reports in one call: one HTTP round trip, one authentication and one commit for a busy site.

Each item carries its own idempotency key, recorded in the same table as the keys of single calls, so an item
is applied once whichever way it arrives; each item runs in its own savepoint, so a refused one (the lease was
lost, the job is gone) leaves the others applied.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from wms.db import db
from wms.errors import DomainError
from wms.idempotency_models import IdempotencyRecord
from wms.printing import jobs
from wms.printing import schemas as s

KEY_PREFIX = "report-item:"


def _digest(item: s.BatchReportItem) -> str:
    data = item.model_dump(mode="json", exclude={"key"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def apply_reports(warehouse_id: int, scope: str, body: s.BatchReportIn) -> list[s.BatchReportResult]:
    keys = [KEY_PREFIX + item.key for item in body.reports]
    seen = {r.key: r for r in db.session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key.in_(keys)))}
    results: list[s.BatchReportResult] = []
    for item, key in zip(body.reports, keys, strict=True):
        digest = _digest(item)
        record = seen.get(key)
        if record is not None:
            if record.request_hash != digest:
                results.append(s.BatchReportResult(
                    job_id=item.job_id, key=item.key, status=409, replayed=True,
                    detail=f"Key {item.key!r} was first used for a different report; nothing applied."))
            else:
                results.append(s.BatchReportResult.model_validate_json(record.response_body).model_copy(
                    update={"replayed": True}))
            continue
        try:
            with db.session.begin_nested():
                job = jobs.get_job(warehouse_id, item.job_id)
                jobs.report(job, body.daemon_id, item.outcome, item.printer_code, item.detail,
                            item.retry_after_seconds, item.possible_duplicate)
                db.session.flush()
            result = s.BatchReportResult(job_id=item.job_id, key=item.key, status=200, state=job.state.value)
        except DomainError as err:
            result = s.BatchReportResult(job_id=item.job_id, key=item.key, status=err.status, detail=err.detail)
        record = IdempotencyRecord(scope=scope, key=key, request_hash=digest, status_code=result.status,
                                   response_body=result.model_dump_json())
        db.session.add(record)
        seen[key] = record
        results.append(result)
    db.session.flush()
    return results
