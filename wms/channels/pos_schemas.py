"""Query and answer of the till's stock subscription (GET /warehouses/{code}/stock/changes)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from wms.orders.schemas import Sku, StockOut, Strict

Cursor = Annotated[str, StringConstraints(min_length=1, max_length=400, pattern=r"^[0-9]+(\.[0-9]+@[0-9]+)*$")]


class StockChangesQuery(Strict):
    after: Cursor | None = Field(None, description="the `cursor` of the previous answer; omitted: the current "
                                                   "cursor is answered with no changes (start here)")
    wait: Annotated[float, Field(ge=0, le=25)] = Field(0, description="seconds to wait when nothing changed")
    sku: Annotated[list[Sku], Field(max_length=500)] = Field(
        default_factory=list, description="only these SKUs (repeat the parameter); none: every SKU")


class StockChangesOut(BaseModel):
    cursor: str = Field(description="opaque: pass it as `after` next time")
    changes: list[StockOut] = Field(description="SKUs whose stock moved after the cursor, with their levels now")
    waited_seconds: float
