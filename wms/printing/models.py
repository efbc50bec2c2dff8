"""Printers per site and place (rack head, pack station, receiving dock) with a backup and a last status."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import PrinterLanguage, PrinterPlace, enum_column


class Printer(Base):
    __tablename__ = "printers"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(120))
    place: Mapped[PrinterPlace] = mapped_column(enum_column(PrinterPlace, "printer_place"))
    zone_id: Mapped[int | None] = mapped_column(index=True)
    resource_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resources.id", ondelete="SET NULL"))
    language: Mapped[PrinterLanguage] = mapped_column(enum_column(PrinterLanguage, "printer_language"))
    connection: Mapped[str] = mapped_column(
        sa.String(255), comment="socket://host:9100, cups://QUEUE or virtual://NAME"
    )
    backup_printer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("printers.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(32), default="unknown")
    status_detail: Mapped[str | None] = mapped_column(sa.Text)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    backup: Mapped[Printer | None] = relationship(remote_side=[id])
    zone = relationship("Zone", primaryjoin="Printer.zone_id == Zone.id", foreign_keys=[zone_id], viewonly=True)

    __table_args__ = (
        sa.UniqueConstraint("warehouse_id", "code"),
        sa.ForeignKeyConstraint(
            ["zone_id", "warehouse_id"], ["zones.id", "zones.warehouse_id"], ondelete="CASCADE"
        ),
        sa.CheckConstraint("backup_printer_id IS NULL OR backup_printer_id <> id", name="backup_is_another"),
        sa.CheckConstraint(
            "connection LIKE 'socket://%' OR connection LIKE 'cups://%' OR connection LIKE 'virtual://%'",
            name="connection_scheme",
        ),
    )


class DocumentKind(StrEnum):
    PICK_ORDER = "pick_order"
    CARRIER_LABEL = "carrier_label"
    TOTE_LABEL = "tote_label"
    LOCATION_LABEL = "location_label"
    PRODUCT_LABEL = "product_label"
    RECEIPT_LABEL = "receipt_label"
    MANIFEST = "manifest"
    TEST_PAGE = "test_page"


class JobState(StrEnum):
    QUEUED = "queued"        # waiting for the site daemon (again, after a failed attempt)
    CLAIMED = "claimed"      # a daemon holds the lease
    SENT = "sent"            # bytes delivered to the printer (or to CUPS); not yet known printed
    PRINTED = "printed"      # the printer reported done (or a clean status after the job)
    FAILED = "failed"        # gave up: no printer and no backup could print it; a supervisor sees why
    CANCELLED = "cancelled"


OPEN_JOB_STATES = (JobState.QUEUED, JobState.CLAIMED, JobState.SENT)


class PrintRoute(Base):
    """Routing rule: a kind of document printed at a place (a zone or a resource) goes to this printer."""

    __tablename__ = "print_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    document_kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, "document_kind"))
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zones.id", ondelete="CASCADE"))
    resource_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resources.id", ondelete="CASCADE"))
    printer_id: Mapped[int] = mapped_column(sa.ForeignKey("printers.id", ondelete="CASCADE"))

    printer: Mapped[Printer] = relationship()

    __table_args__ = (
        sa.CheckConstraint("zone_id IS NULL OR resource_id IS NULL", name="one_place"),
        # one rule per (kind, place); NULL place = the warehouse-wide default for that kind
        sa.Index("uq_print_routes_place", "warehouse_id", "document_kind",
                 sa.text("coalesce(zone_id, 0)"), sa.text("coalesce(resource_id, 0)"), unique=True),
    )


class PrintJob(Base):
    """One document to print, with its bytes, its state and every attempt in ``print_job_events``."""

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    printer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("printers.id", ondelete="RESTRICT"), index=True, comment="where it is meant to print"
    )
    printed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("printers.id", ondelete="SET NULL"), comment="the printer that did print it (maybe the backup)"
    )
    document_kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, "document_kind"))
    reference: Mapped[str] = mapped_column(sa.String(120), comment="what it prints, e.g. the OP code")
    idempotency_key: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(64), comment="application/vnd.zebra.zpl or application/pdf")
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    copies: Mapped[int] = mapped_column(default=1)
    state: Mapped[JobState] = mapped_column(enum_column(JobState, "print_job_state"), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="backoff: not claimed before this")
    lease_owner: Mapped[str | None] = mapped_column(sa.String(120))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    possible_duplicate: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    reprint_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("print_jobs.id", ondelete="SET NULL"))
    wave_id: Mapped[int | None] = mapped_column(sa.ForeignKey("waves.id", ondelete="SET NULL"), index=True)
    pick_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pick_orders.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    printer: Mapped[Printer] = relationship(foreign_keys=[printer_id])
    printed_by: Mapped[Printer | None] = relationship(foreign_keys=[printed_by_id])
    events: Mapped[list[PrintJobEvent]] = relationship(
        back_populates="job", order_by="PrintJobEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("warehouse_id", "idempotency_key"),
        sa.Index("ix_print_jobs_claimable", "warehouse_id", "state", "not_before"),
        sa.CheckConstraint("copies BETWEEN 1 AND 100", name="copies_sane"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("(state = 'claimed') = (lease_owner IS NOT NULL)", name="lease_only_when_claimed"),
        sa.CheckConstraint("state <> 'printed' OR printed_by_id IS NOT NULL", name="printed_names_printer"),
    )


class PrintJobEvent(Base):
    """The state history of a job: every claim, attempt, failure (with its reason), failover and reprint."""

    __tablename__ = "print_job_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("print_jobs.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[JobState] = mapped_column(enum_column(JobState, "print_job_state"))
    printer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("printers.id", ondelete="SET NULL"))
    attempt: Mapped[int] = mapped_column(default=0)
    detail: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str | None] = mapped_column(sa.String(120), comment="daemon id or user name")

    job: Mapped[PrintJob] = relationship(back_populates="events")
