"""Import stock through the ledger: a count sets a location's quantity, a receipt adds to it.

Every change goes through `adjust_stock` (locked quant, one ledger row), so the ledger stays the truth. After the
whole file, as `wms.stock.operations.after_change` does for one change: stock that arrived in a pick lane first serves
waiting backorders, then every channel of the warehouse is told the new availability (one event per product, not
per row).

A count is idempotent by nature (the second import finds the quantity already there). A receipt is applied once
per (reference, warehouse, location, SKU): its ledger row carries an idempotency key built from them, the reference
being `--reference` or, without it, the SHA-256 of the file. Importing the same receipt file twice adds once.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select, tuple_

from wms.auth.models import User
from wms.catalog.models import Product
from wms.csvio.formats import Format, Row, stock_format
from wms.csvio.reader import Problem
from wms.db import db
from wms.enums import StockReason, ZoneKind
from wms.errors import NotFound
from wms.layout.models import Location, Warehouse, Zone
from wms.orders.models import Order, OrderLine, OrderStatus
from wms.stock.availability import lock_stock
from wms.stock.models import LedgerEntry, Quant
from wms.stock.services import adjust_stock
from wms.webhooks import outbox

MODES = ("count", "receipt")


class StockImporter:
    def __init__(self, mode: str = "count", *, user: User | None = None, reference: str | None = None,
                 filename: str = "stock.csv") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode = mode
        self.format: Format = stock_format(mode)
        self.user = user
        self.reference = reference
        self.filename = filename
        self._warehouses: dict[str, Warehouse | None] = {}
        self._changed: dict[int, set[int]] = defaultdict(set)  # warehouse id -> product ids
        self._arrived_in_pick_lane: set[tuple[int, int]] = set()  # (product id, warehouse id)
        self._zone_kinds: dict[int, ZoneKind | None] = {}

    def _warehouse(self, code: str) -> Warehouse | None:
        if code not in self._warehouses:
            self._warehouses[code] = db.session.scalar(select(Warehouse).where(Warehouse.code == code))
        return self._warehouses[code]

    def _lookup(self, rows: list[Row]) -> tuple[dict[str, Product], dict[tuple[int, str], Location]]:
        skus = {r.values["sku"] for r in rows}
        products = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(skus)))}
        wanted = {(wh.id, r.values["location"]) for r in rows if (wh := self._warehouse(r.values["warehouse"]))}
        locations = {}
        if wanted:
            locations = {(loc.warehouse_id, loc.code): loc for loc in db.session.scalars(
                select(Location).where(tuple_(Location.warehouse_id, Location.code).in_(sorted(wanted))))}
        return products, locations

    def check(self, rows: list[Row]) -> list[Problem]:
        products, locations = self._lookup(rows)
        problems = []
        counted: list[tuple[Row, Product, Location]] = []
        for row in rows:
            v = row.values
            warehouse = self._warehouse(v["warehouse"])
            location = locations.get((warehouse.id, v["location"])) if warehouse else None
            product = products.get(v["sku"])
            if warehouse is None:
                problems.append(Problem(row.line, "warehouse", f"no warehouse has code {v['warehouse']}",
                                        v["warehouse"]))
            elif location is None:
                problems.append(Problem(row.line, "location", f"no location {v['location']} in warehouse "
                                                              f"{v['warehouse']}", v["location"]))
            elif self.mode == "receipt" and not location.active:
                problems.append(Problem(row.line, "location", f"location {location.code} is not active; "
                                                              "nothing can be received into it", location.code))
            if product is None:
                problems.append(Problem(row.line, "sku", f"no product has SKU {v['sku']}", v["sku"]))
            if product is not None and location is not None and self.mode == "count":
                counted.append((row, product, location))
        problems += self._check_reserved(counted)
        return problems

    def _check_reserved(self, counted: list[tuple[Row, Product, Location]]) -> list[Problem]:
        if not counted:
            return []
        pairs = sorted({(p.id, loc.id) for _, p, loc in counted})
        reserved = {(r.product_id, r.location_id): r.reserved for r in db.session.execute(
            select(Quant.product_id, Quant.location_id, Quant.reserved)
            .where(tuple_(Quant.product_id, Quant.location_id).in_(pairs), Quant.reserved > 0))}
        return [Problem(row.line, "quantity", f"{reserved[(p.id, loc.id)]} units are reserved for orders in "
                                              f"{loc.code}; a count cannot be lower",
                        str(row.values["quantity"]))
                for row, p, loc in counted if reserved.get((p.id, loc.id), 0) > row.values["quantity"]]

    def _receipt_key(self, file_sha256: str, v: dict[str, Any]) -> str:
        basis = self.reference if self.reference is not None else "sha256:" + file_sha256
        digest = hashlib.sha256(basis.encode()).hexdigest()[:16]
        return f"csv-receipt:{digest}:{v['warehouse']}/{v['location']}/{v['sku']}"

    def _resolve(self, rows: list[Row]) -> list[tuple[Row, Product, Location]]:
        products, locations = self._lookup(rows)
        resolved = []
        for row in rows:
            v = row.values
            warehouse = self._warehouse(v["warehouse"])
            product = products.get(v["sku"])
            location = locations.get((warehouse.id, v["location"])) if warehouse else None
            if product is None or location is None:
                raise NotFound(f"Line {row.line}: {self.format.describe_key(row.key)} was removed from the "
                               "catalog or the layout during the import.")
            resolved.append((row, product, location))
        return resolved

    def _locked_quants(self, resolved: list[tuple[Row, Product, Location]]) -> dict[tuple[int, int], Quant]:
        # The batch's products' stock locked at once, in the global lock order (docs/stock.md "Lock order": their
        # pick-lane quants, then the other quants the rows name), so an import racing intake or another import
        # cannot deadlock; adjust_stock locks each again (already ours) before it changes it.
        pairs = {(p.id, loc.id) for _, p, loc in resolved}
        quants = lock_stock({p.id for _, p, _ in resolved}, {loc.warehouse_id for _, _, loc in resolved},
                            location_ids={loc.id for _, _, loc in resolved})
        return {(q.product_id, q.location_id): q for q in quants.values() if (q.product_id, q.location_id) in pairs}

    def apply(self, rows: list[Row], file_sha256: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        resolved = self._resolve(rows)
        quants = self._locked_quants(resolved)
        keys = {row.line: self._receipt_key(file_sha256, row.values) for row in rows} if self.mode == "receipt" \
            else {}
        done = set(db.session.scalars(select(LedgerEntry.idempotency_key).where(
            LedgerEntry.product_id.in_(sorted({p.id for _, p, _ in resolved})),
            LedgerEntry.idempotency_key.in_(keys.values())))) if keys else set()
        reference = (self.reference or f"csv:{self.filename}")[:120]
        for row, product, location in resolved:
            quant = quants.get((product.id, location.id))
            if self.mode == "count":
                delta, reason, key = row.values["quantity"] - (quant.on_hand if quant else 0), StockReason.COUNT, None
            else:
                delta, reason, key = row.values["quantity"], StockReason.RECEIPT, keys[row.line]
            if delta == 0 or key in done:
                counts["unchanged"] += 1
                continue
            adjust_stock(product, location, delta, reason=reason, actor_user=self.user, idempotency_key=key,
                         reference=reference, note=f"CSV {self.mode} import, line {row.line}")
            counts["updated" if quant else "created"] += 1
            self._changed[location.warehouse_id].add(product.id)
            if delta > 0 and self._is_pick_lane(location):
                self._arrived_in_pick_lane.add((product.id, location.warehouse_id))
        return counts

    def _is_pick_lane(self, location: Location) -> bool:
        if location.zone_id not in self._zone_kinds:
            self._zone_kinds[location.zone_id] = db.session.scalar(select(Zone.kind).where(Zone.id == location.zone_id))
        return self._zone_kinds[location.zone_id] == ZoneKind.RACK

    def _waiting(self) -> set[tuple[int, int]]:
        """(product id, warehouse id) of backordered order lines, in one query rather than one per product."""
        if not self._arrived_in_pick_lane:
            return set()
        return {(product_id, warehouse_id) for product_id, warehouse_id in db.session.execute(
            select(OrderLine.product_id, Order.warehouse_id).join(Order, Order.id == OrderLine.order_id)
            .where(Order.status == OrderStatus.BACKORDERED, OrderLine.allocated < OrderLine.quantity)
            .distinct())}

    def finish(self) -> None:
        from wms.orders.services import allocate_backorders

        for product_id, warehouse_id in sorted(self._arrived_in_pick_lane & self._waiting()):
            allocate_backorders(product_id, warehouse_id)
        for warehouse_id, product_ids in sorted(self._changed.items()):
            outbox.stock_changed_many(sorted(product_ids), warehouse_id)
        db.session.flush()
