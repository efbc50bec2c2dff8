"""Printers per site and place (rack head, pack station, receiving dock) with a backup and a last status."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime
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
