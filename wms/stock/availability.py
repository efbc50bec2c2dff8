"""Available-to-promise: what the pick faces can still give, per product and warehouse."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from wms.db import db
from wms.enums import ZoneKind
from wms.layout.models import Location, Zone
from wms.stock.models import Quant


@dataclass(frozen=True)
class Availability:
    product_id: int
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def pickable_quants(product_id: int, warehouse_id: int):  # type: ignore[no-untyped-def]
    """Query for the product's quants in pick lanes (rack zones) of the warehouse."""
    return (
        select(Quant)
        .join(Location, Location.id == Quant.location_id)
        .join(Zone, Zone.id == Location.zone_id)
        .where(Quant.product_id == product_id, Location.warehouse_id == warehouse_id,
               Zone.kind == ZoneKind.RACK, Location.active.is_(True))
    )


def availability(product_ids: Iterable[int], warehouse_id: int) -> dict[int, Availability]:
    """On hand, reserved and available units in the pick lanes, for each product (0 when none)."""
    ids = list(product_ids)
    result = {pid: Availability(pid, 0, 0) for pid in ids}
    if not ids:
        return result
    rows = db.session.execute(
        select(Quant.product_id, func.coalesce(func.sum(Quant.on_hand), 0), func.coalesce(func.sum(Quant.reserved), 0))
        .join(Location, Location.id == Quant.location_id)
        .join(Zone, Zone.id == Location.zone_id)
        .where(Quant.product_id.in_(ids), Location.warehouse_id == warehouse_id, Zone.kind == ZoneKind.RACK,
               Location.active.is_(True))
        .group_by(Quant.product_id)
    )
    for pid, on_hand, reserved in rows:
        result[pid] = Availability(pid, int(on_hand), int(reserved))
    return result


def locked_pick_lanes_many(product_ids: Iterable[int], warehouse_id: int) -> dict[int, tuple[dict[int, Quant], list]]:  # type: ignore[type-arg]
    """Lock, in one query, the pick-lane quants with available units of several products.

    Rows are locked in (product, quant) order, the same order every caller uses, so two orders that share
    products wait for each other instead of deadlocking. Returns, per product, its quants by id and the
    LaneStock rows the allocation rule reads (products without available stock are absent).
    """
    from wms.orders.allocation import LaneStock

    ids = sorted(set(product_ids))
    result: dict[int, tuple[dict[int, Quant], list]] = {}  # type: ignore[type-arg]
    if not ids:
        return result
    rows = db.session.execute(
        select(Quant, Location.aisle_index, Location.position_m, Location.level)
        .join(Location, Location.id == Quant.location_id)
        .join(Zone, Zone.id == Location.zone_id)
        .where(Quant.product_id.in_(ids), Location.warehouse_id == warehouse_id, Zone.kind == ZoneKind.RACK,
               Location.active.is_(True), Quant.on_hand > Quant.reserved)
        .order_by(Quant.product_id, Quant.id)
        .with_for_update(of=Quant)
        .execution_options(populate_existing=True)
    ).all()
    for quant, aisle_index, position_m, level in rows:
        by_id, lanes = result.setdefault(quant.product_id, ({}, []))
        by_id[quant.id] = quant
        lanes.append(LaneStock(quant.id, quant.available, aisle_index or 0, position_m or 0.0, level or 0))
    return result


def locked_pick_lanes(product_id: int, warehouse_id: int) -> tuple[dict[int, Quant], list]:  # type: ignore[type-arg]
    """Lock one product's pick-lane quants that have available units; return them by id and as LaneStock rows."""
    return locked_pick_lanes_many([product_id], warehouse_id).get(product_id, ({}, []))
