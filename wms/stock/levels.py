"""Minimum and maximum stock levels, per product per warehouse or per pick lane."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base


class StockLevel(Base):
    __tablename__ = "stock_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("locations.id", ondelete="CASCADE"), comment="a pick lane; NULL = the whole warehouse"
    )
    min_qty: Mapped[int]
    max_qty: Mapped[int]

    product = relationship("Product")
    location = relationship("Location")

    __table_args__ = (
        sa.CheckConstraint("min_qty >= 0 AND max_qty >= min_qty AND max_qty > 0", name="min_max_sane"),
        # one warehouse-wide level and one per lane; NULLs are distinct in unique constraints, hence two indexes
        sa.Index("uq_stock_levels_warehouse", "product_id", "warehouse_id", unique=True,
                 postgresql_where=sa.text("location_id IS NULL"), sqlite_where=sa.text("location_id IS NULL")),
        sa.Index("uq_stock_levels_lane", "product_id", "location_id", unique=True,
                 postgresql_where=sa.text("location_id IS NOT NULL"), sqlite_where=sa.text("location_id IS NOT NULL")),
    )
