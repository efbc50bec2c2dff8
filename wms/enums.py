"""Warehouse vocabulary shared by models, services and the API."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa


class ZoneKind(StrEnum):
    RACK = "rack"
    RECEIVING_DOCK = "receiving_dock"
    SAS = "sas"
    PACK = "pack"
    SHIP_DOCK = "ship_dock"
    QUARANTINE = "quarantine"
    RETURNS = "returns"
    RESERVE = "reserve"  # overstock (pallets, shelves) that refills the flow-rack lanes from their back face


class Face(StrEnum):
    PICK = "pick"
    REPLENISH = "replenish"


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    PICKER = "picker"
    RECEIVER = "receiver"
    PACKER = "packer"


ROLES_NEEDING_SECOND_FACTOR = frozenset({Role.ADMIN, Role.SUPERVISOR})
FACE_OF_ROLE = {Role.PICKER: Face.PICK, Role.RECEIVER: Face.REPLENISH}


class ResourceKind(StrEnum):
    AISLE = "aisle"
    DOCK_DOOR = "dock_door"
    PACK_STATION = "pack_station"
    SAS = "sas"


class TaskKind(StrEnum):
    PICK = "pick"
    PUTAWAY = "putaway"
    REPLENISH = "replenish"


FACE_OF_TASK = {TaskKind.PICK: Face.PICK, TaskKind.PUTAWAY: Face.REPLENISH, TaskKind.REPLENISH: Face.REPLENISH}


class TaskStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    DONE = "done"
    CANCELLED = "cancelled"


class Unit(StrEnum):
    EACH = "each"
    GRAM = "g"
    MILLILITRE = "ml"
    MILLIMETRE = "mm"


class Symbology(StrEnum):
    EAN13 = "ean13"
    EAN8 = "ean8"
    UPCA = "upca"
    GTIN14 = "gtin14"
    INTERNAL = "internal"


class TokenPurpose(StrEnum):
    CHANNEL = "channel"
    PRINT_SITE = "print_site"
    USER = "user"


class PrinterLanguage(StrEnum):
    ZPL = "zpl"
    PDF = "pdf"


class PrinterPlace(StrEnum):
    RACK_HEAD = "rack_head"
    PACK_STATION = "pack_station"
    RECEIVING_DOCK = "receiving_dock"
    SHIP_DOCK = "ship_dock"
    OFFICE = "office"


class StockReason(StrEnum):
    RECEIPT = "receipt"
    PUTAWAY = "putaway"
    PICK = "pick"
    ADJUSTMENT = "adjustment"
    COUNT = "count"
    RETURN = "return"
    TRANSFER = "transfer"
    SALE = "sale"
    RESERVATION = "reservation"
    QUARANTINE = "quarantine"  # moved into or out of a quality hold
    SCRAP = "scrap"            # destroyed: damaged on receipt or on return


def enum_column(enum: type[StrEnum], name: str) -> sa.Enum:
    """A portable enum: VARCHAR plus a named CHECK constraint (no native PostgreSQL type to migrate)."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
