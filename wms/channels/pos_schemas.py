"""Query and answer of the till's stock subscription (GET /warehouses/{code}/stock/changes)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from wms.orders.schemas import Sku, StockOut, Strict

LEDGER_ID_MAX = 2**31 - 1    # stock_ledger.id is an INTEGER column


def _ids_in_range(text: str) -> str:
    ids = [text.split(".")[0], *(part.split("@")[0] for part in text.split(".")[1:])]
    if any(int(i) > LEDGER_ID_MAX for i in ids):
        raise ValueError("not a cursor this server answered (a ledger id out of range)")
    return text


# At most 50 gaps (pos_api.MAX_GAPS) of up to 10 + 1 + 10 digits each, with their dots: under 1,200 characters.
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=r"^[0-9]{1,19}(\.[0-9]{1,19}@[0-9]{1,12})*$"),
                   AfterValidator(_ids_in_range)]


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
