"""Request and response bodies of the printing API (site daemon and supervisors)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from wms.printing.jobs import PRINTER_STATUSES

DaemonId = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"\S")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Detail = Annotated[str, StringConstraints(max_length=2000)]
PrinterStatusName = Literal[PRINTER_STATUSES]  # type: ignore[valid-type]
DocumentKindName = Literal["pick_order", "carrier_label", "tote_label", "location_label", "product_label",
                           "receipt_label", "manifest", "test_page"]
JobStateName = Literal["queued", "claimed", "sent", "printed", "failed", "cancelled"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the site daemon (contract C) ---------------------------------------------------------------------------

class PrinterOut(BaseModel):
    code: str
    name: str
    connection: str = Field(description="socket://host:9100, cups://QUEUE or virtual://NAME")
    language: str = Field(description="zpl or pdf")
    enabled: bool


class SitePrinterOut(PrinterOut):
    backup: str | None = Field(description="code of the backup printer")
    status: str
    place: str
    zone: str | None


class SitePrintersOut(BaseModel):
    printers: list[SitePrinterOut]


class JobOut(BaseModel):
    id: int
    reference: str
    document_kind: str
    content_type: str
    payload_b64: str
    copies: int
    attempt: int
    possible_duplicate: bool
    lease_expires_at: dt.datetime | None
    printer: PrinterOut
    backup: PrinterOut | None
    state: str = Field(description="queued, claimed, sent, printed, failed or cancelled")


class ClaimIn(Strict):
    daemon_id: DaemonId
    max_jobs: Annotated[int, Field(ge=1, le=500)] = 10
    wait_seconds: Annotated[float, Field(ge=0, le=30)] = Field(
        default=0, description="long-poll: wait up to this long when nothing is claimable")


class ClaimOut(BaseModel):
    lease_seconds: int
    jobs: list[JobOut]


class LeaseIn(Strict):
    daemon_id: DaemonId


class ReportIn(Strict):
    daemon_id: DaemonId
    outcome: Literal["sent", "printed", "retry", "failed"]
    printer_code: Code = Field(description="the printer actually used (maybe the backup)")
    detail: Detail | None = None
    retry_after_seconds: Annotated[float, Field(ge=0, le=86400)] | None = None
    possible_duplicate: bool = False


class BatchReportItem(Strict):
    job_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    key: Annotated[str, StringConstraints(min_length=1, max_length=180, pattern=r"\S")] = Field(
        description="this report's own idempotency key (the same key is applied once, in this call or any other)")
    outcome: Literal["sent", "printed", "retry", "failed"]
    printer_code: Code = Field(description="the printer actually used (maybe the backup)")
    detail: Detail | None = None
    retry_after_seconds: Annotated[float, Field(ge=0, le=86400)] | None = None
    possible_duplicate: bool = False


class BatchReportIn(Strict):
    daemon_id: DaemonId
    reports: Annotated[list[BatchReportItem], Field(min_length=1, max_length=500)]


class BatchReportResult(BaseModel):
    job_id: int
    key: str
    status: int = Field(description="what a single report would have answered: 200, 404 or 409 (lease not held)")
    state: str | None = Field(default=None, description="the job's state after the report (status 200)")
    detail: str | None = Field(default=None, description="why the report was refused (status 4xx)")
    replayed: bool = Field(default=False, description="this key was already applied; nothing changed now")


class BatchReportOut(BaseModel):
    results: list[BatchReportResult]


class PrinterStatusIn(Strict):
    code: Code
    status: PrinterStatusName
    detail: Detail | None = None


class StatusIn(Strict):
    daemon_id: DaemonId
    printers: Annotated[list[PrinterStatusIn], Field(max_length=500)]


# --- supervisors ----------------------------------------------------------------------------------------------

class FleetPrinterOut(BaseModel):
    code: str
    name: str
    place: str
    zone: str | None
    resource: str | None
    language: str
    connection: str
    enabled: bool
    backup: str | None
    status: str
    health: Literal["ok", "warning", "down", "unknown"] = Field(
        description="ok = ready; warning = needs a person (paper, head, ribbon, paused, buffer); "
                    "down = offline or error; unknown = never reported or not seen lately")
    status_detail: str | None
    last_seen_at: dt.datetime | None
    status_changed_at: dt.datetime | None
    jobs_waiting: int = Field(description="queued for this printer, not yet claimed")
    jobs_in_progress: int = Field(description="claimed or sent, not yet printed")
    jobs_failed: int = Field(description="failed and not reprinted")


class JobEventOut(BaseModel):
    at: dt.datetime
    state: str
    printer: str | None
    attempt: int
    detail: str | None
    actor: str | None


class JobSummaryOut(BaseModel):
    id: int
    warehouse: str
    reference: str
    document_kind: str
    content_type: str
    copies: int
    state: str
    printer: str
    printed_by: str | None
    attempts: int
    possible_duplicate: bool
    last_error: str | None
    reprint_of: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None


class JobDetailOut(JobSummaryOut):
    lease_owner: str | None
    lease_expires_at: dt.datetime | None
    not_before: dt.datetime | None
    events: list[JobEventOut]


class JobsQuery(Strict):
    state: JobStateName | None = None
    printer: Code | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class RouteIn(Strict):
    document_kind: DocumentKindName
    zone: Code | None = Field(default=None, description="zone code; with neither zone nor resource the rule is "
                                                          "the warehouse default for that kind")
    resource: Code | None = Field(default=None, description="resource code (pack station, dock door, ...)")
    printer: Code


class RoutesIn(Strict):
    routes: Annotated[list[RouteIn], Field(max_length=1000)]


class RouteOut(BaseModel):
    document_kind: str
    zone: str | None
    resource: str | None
    printer: str


class RoutesOut(BaseModel):
    routes: list[RouteOut]
