"""Bodies of the handheld JSON calls (strict: unknown fields and wrong types are refused)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TakeIn(_Body):
    zone_id: int = Field(ge=1, le=2**31 - 1)


class PickScanIn(_Body):
    step: Literal["location", "item", "tote", "quantity", "drop"]
    code: str | None = Field(default=None, min_length=1, max_length=200)
    quantity: int | None = Field(default=None, ge=0, le=1_000_000)
    line_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    scanned_at: dt.datetime | None = None


class PickExceptionIn(_Body):
    kind: Literal["short", "empty", "damaged", "wrong_item"]
    quantity: int = Field(default=0, ge=0, le=1_000_000)
    code: str | None = Field(default=None, min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=500)
    line_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    scanned_at: dt.datetime | None = None


class TaskScanIn(_Body):
    step: Literal["source", "lane", "quantity"]
    code: str | None = Field(default=None, min_length=1, max_length=200)
    quantity: int | None = Field(default=None, ge=0, le=1_000_000)
    scanned_at: dt.datetime | None = None
