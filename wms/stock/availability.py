"""Available-to-promise: what the pick faces can still give, per product and warehouse."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, true

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


def lock_stock(product_ids: Iterable[int], warehouse_ids: Iterable[int], *, location_ids: Iterable[int] = (),
               quant_ids: Iterable[int] = ()) -> dict[int, Quant]:
    """Lock every rack-zone quant of the products in the warehouses, then their quants in `location_ids` and
    the quants `quant_ids`; returns them by id.

    This is the first lock of every stock change (docs/stock.md, "Lock order"): all of a product's pick-lane
    quants, in (product, quant id) order, before any other quant of it and before any order row. Two
    transactions on one product therefore queue on its first quant instead of each holding a lane the other
    needs; locking a row one already holds is free.
    """
    products = sorted(set(product_ids))
    if not products:
        return {}
    in_racks = (select(Location.id).join(Zone, Zone.id == Location.zone_id)
                .where(Location.warehouse_id.in_(sorted(set(warehouse_ids))), Zone.kind == ZoneKind.RACK))
    locked = {q.id: q for q in _locked_quants(Quant.product_id.in_(products), Quant.location_id.in_(in_racks))}
    locations, quants = sorted(set(location_ids)), sorted(set(quant_ids) - set(locked))
    if locations or quants:
        others = or_(Quant.location_id.in_(locations), Quant.id.in_(quants))
        locked.update((q.id, q) for q in _locked_quants(Quant.product_id.in_(products), others,
                                                          Quant.id.not_in(locked) if locked else true()))
    return locked


def _locked_quants(*where: Any) -> list[Quant]:
    return list(db.session.scalars(select(Quant).where(*where).order_by(Quant.product_id, Quant.id)
                                   .with_for_update().execution_options(populate_existing=True)))


def locked_pick_lanes_many(product_ids: Iterable[int], warehouse_id: int) -> dict[int, tuple[dict[int, Quant], list]]:  # type: ignore[type-arg]
    """Lock the products' stock (`lock_stock`) and return, per product, its pick-lane quants with available
    units by id and the LaneStock rows the allocation rule reads (products without available stock are absent).
    """
    from wms.orders.allocation import LaneStock

    ids = sorted(set(product_ids))
    result: dict[int, tuple[dict[int, Quant], list]] = {}  # type: ignore[type-arg]
    if not ids:
        return result
    # The same rows as lock_stock(ids, [warehouse_id]), in the same order, in the same query as the lane data.
    rows = db.session.execute(
        select(Quant, Location.aisle_index, Location.position_m, Location.level, Location.active)
        .join(Location, Location.id == Quant.location_id)
        .join(Zone, Zone.id == Location.zone_id)
        .where(Quant.product_id.in_(ids), Location.warehouse_id == warehouse_id, Zone.kind == ZoneKind.RACK)
        .order_by(Quant.product_id, Quant.id)
        .with_for_update(of=Quant)
        .execution_options(populate_existing=True)
    ).all()
    for quant, aisle_index, position_m, level, active in rows:
        if not active or quant.available <= 0:
            continue
        by_id, lanes = result.setdefault(quant.product_id, ({}, []))
        by_id[quant.id] = quant
        lanes.append(LaneStock(quant.id, quant.available, aisle_index or 0, position_m or 0.0, level or 0))
    return result


def locked_pick_lanes(product_id: int, warehouse_id: int) -> tuple[dict[int, Quant], list]:  # type: ignore[type-arg]
    """Lock one product's pick-lane quants that have available units; return them by id and as LaneStock rows."""
    return locked_pick_lanes_many([product_id], warehouse_id).get(product_id, ({}, []))
