"""Products and their barcodes (every barcode belongs to one product, across the whole catalog)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import Symbology, Unit, enum_column


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    unit: Mapped[Unit] = mapped_column(enum_column(Unit, "unit"), default=Unit.EACH)
    weight_g: Mapped[int | None]
    length_mm: Mapped[int | None]
    width_mm: Mapped[int | None]
    height_mm: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    lot_tracked: Mapped[bool] = mapped_column(default=False, server_default=sa.false(),
                                              comment="receiving asks for the lot code")
    expiry_tracked: Mapped[bool] = mapped_column(default=False, server_default=sa.false(),
                                                 comment="receiving asks for the best-before date")
    hs_code: Mapped[str | None] = mapped_column(sa.String(14), comment="customs tariff (HS) code, 6 to 14 digits")
    origin_country: Mapped[str | None] = mapped_column(sa.String(2), comment="ISO country the goods were made in")
    customs_value: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(12, 2), comment="declared value of one unit for customs (CN23), in the seller's currency")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    barcodes: Mapped[list[Barcode]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="Barcode.id"
    )

    __table_args__ = (
        sa.CheckConstraint("sku <> ''", name="sku_not_empty"),
        sa.CheckConstraint("weight_g IS NULL OR weight_g >= 0", name="weight_not_negative"),
        sa.CheckConstraint("customs_value IS NULL OR customs_value >= 0", name="customs_value_not_negative"),
        sa.CheckConstraint("origin_country IS NULL OR length(origin_country) = 2", name="origin_country_iso"),
        sa.CheckConstraint(
            "(length_mm IS NULL OR length_mm > 0) AND (width_mm IS NULL OR width_mm > 0)"
            " AND (height_mm IS NULL OR height_mm > 0)",
            name="dimensions_positive",
        ),
    )

    @property
    def volume_cm3(self) -> float | None:
        if self.length_mm and self.width_mm and self.height_mm:
            return self.length_mm * self.width_mm * self.height_mm / 1000.0
        return None


class Barcode(Base):
    """A scannable code of a product. `normalized` (GTIN-14 for the EAN/UPC family) is unique in the database."""

    __tablename__ = "barcodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(64))
    normalized: Mapped[str] = mapped_column(sa.String(64), unique=True)
    symbology: Mapped[Symbology] = mapped_column(enum_column(Symbology, "symbology"))
    quantity: Mapped[int] = mapped_column(default=1, comment="units of the product one scan counts (packs)")

    product: Mapped[Product] = relationship(back_populates="barcodes")

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("code <> '' AND normalized <> ''", name="code_not_empty"),
    )
