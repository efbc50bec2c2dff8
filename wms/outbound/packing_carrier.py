"""What finishing a pack asks of the carrier beyond the parcels, and what the packer is told when the carrier says no.

- Customs: a parcel that crosses the EU customs border (`needs_customs`) carries its CN23 data, built from the
  packed lines: product name, quantity, value (the line's unit price, else the product's customs value), HS code,
  origin and net weight; category sale of goods, in the order's currency (EUR when it has none). A product that
  lacks what the CN23 needs is refused before the carrier is called, naming the SKUs and fields.
- Value and options: the goods' value (sum of the packed lines) goes with every shipment; the declared value is
  insured when the carrier offers insurance and its code is in PACK_INSURED_CARRIERS (or "*"), delivery is against
  signature when the carrier offers it and its code is in PACK_SIGNATURE_CARRIERS.
- Relay point: before a relay label, a carrier that checks relay points re-checks one not checked within
  RELAY_CHECK_MAX_AGE_HOURS (4 by default) with the heaviest parcel's real weight.
- Refusals: every carrier error becomes a problem the packer can read in their language (`carrier_detail` keeps
  the carrier's own words): 422 when the carrier (or our check of what it needs) refuses the data, and the order is
  held for a supervisor (relay point: HoldKind.RELAY_POINT, anything else: HoldKind.CARRIER); 424 when the carrier
  cannot be reached, refuses our access or answers something unusable (nothing held: try again). The refusal rolls
  the request back, so the hold is written after that rollback by `hold_after_refusal`, in its own transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context

from wms.db import db, utcnow
from wms.errors import DomainError
from wms.orders import holds
from wms.orders.models import Order
from wms.outbound.models import Parcel
from wms.picking.text import _
from wms.shipping.carrier_features import (
    Customs,
    CustomsCategory,
    CustomsLine,
    Feature,
    FeatureUnsupported,
    RelayPoint,
    RelayPointInvalid,
    ShippingOptions,
)
from wms.shipping.carriers import Carrier
from wms.shipping.errors import (
    CarrierResponseInvalid,
    CarrierUnavailable,
    ShipmentRefused,
    ShippingInputInvalid,
)

DEFAULT_RELAY_CHECK_MAX_AGE_HOURS = 4
CENT = Decimal("0.01")


def _config(name: str, default: Any) -> Any:
    return current_app.config.get(name, default) if has_app_context() else default


# --- the problems the packer sees ----------------------------------------------------------------------------


class CustomsDataMissing(ShipmentRefused):
    slug = "pack-customs-data-missing"
    title = "Products lack what the customs declaration needs"


class LabelRefused(ShipmentRefused):
    """The carrier refused the shipment's data (address, service, option, relay point): held for a supervisor."""

    slug = "pack-label-refused"
    title = "The carrier refused the label"
    hold_kind: holds.HoldKind | None = holds.HoldKind.CARRIER

    def __init__(self, detail: str, *, order_id: int | None = None, hold_reason: str = "", **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.order_id = order_id
        self.hold_reason = hold_reason


class RelayPointHeld(LabelRefused):
    slug = "pack-relay-point-invalid"
    title = "The relay point cannot take the parcel"
    hold_kind = holds.HoldKind.RELAY_POINT


class CarrierFailed(CarrierUnavailable):
    """The carrier could not be reached, refused our access, or answered something unusable: nothing labelled."""

    status = 424
    slug = "pack-carrier-failed"
    title = "The carrier could not label the parcel"


def packer_problem(exc: DomainError, carrier: Carrier, order: Order) -> DomainError:
    """The carrier's error as the packer reads it (translated), with the carrier's own words kept."""
    if isinstance(exc, LabelRefused | CarrierFailed | CustomsDataMissing):
        return exc
    who = dict(carrier=carrier.name, order=order.external_id)
    extra: dict[str, Any] = {"carrier": carrier.code, "carrier_problem": exc.slug, "carrier_detail": exc.detail,
                             "order": order.external_id}
    if isinstance(exc, RelayPointInvalid):
        point = order.relay_point_id or "-"
        return RelayPointHeld(
            _("The relay point %(point)s cannot take order %(order)s (%(carrier)s): nothing was labelled. The order "
              "is held for a supervisor to choose another point; put the parcel on the held shelf.", point=point,
              **who),
            order_id=order.id, hold_reason=f"{carrier.name}: {exc.detail}"[:500], held=True, **extra)
    if isinstance(exc, FeatureUnsupported):
        return LabelRefused(
            _("%(carrier)s does not offer what order %(order)s asks (service or option): nothing was labelled. The "
              "order is held for a supervisor to change its carrier or service; put the parcel on the held shelf.",
              **who),
            order_id=order.id, hold_reason=f"{carrier.name}: {exc.detail}"[:500], held=True, **extra)
    if isinstance(exc, CarrierResponseInvalid):
        return CarrierFailed(
            _("%(carrier)s answered something unusable for order %(order)s: nothing was labelled. Keep the parcel "
              "at the station and try again; if it happens again, tell a supervisor.", **who), held=False, **extra)
    if isinstance(exc, CarrierUnavailable):
        return CarrierFailed(
            _("%(carrier)s cannot be reached or refused our access for order %(order)s: nothing was labelled. Keep "
              "the parcel at the station and try again in a few minutes; if it lasts, tell a supervisor.", **who),
            held=False, **extra)
    if isinstance(exc, ShippingInputInvalid):
        return LabelRefused(
            _("%(carrier)s refused the label for order %(order)s: nothing was labelled. The order is held for a "
              "supervisor to correct it (address, service, options); put the parcel on the held shelf.", **who),
            order_id=order.id, hold_reason=f"{carrier.name}: {exc.detail}"[:500], held=True, **extra)
    return exc


def hold_after_refusal(err: LabelRefused) -> None:
    """Roll the refused request back, then hold its order in a transaction of its own, committed.

    The refusal must leave nothing of the request (no shipment half-labelled), yet the hold must stay: so the
    request's work is discarded first and the hold is written alone afterwards. The one place packing commits."""
    db.session.rollback()
    if err.order_id is None or err.hold_kind is None:
        return
    order = db.session.get(Order, err.order_id)
    if order is None:
        return
    try:
        holds.hold(order, err.hold_kind, err.hold_reason or err.detail)
    except holds.HoldRefused:
        db.session.rollback()
        return
    db.session.commit()


# --- customs, value, options ---------------------------------------------------------------------------------


def _unit_value(line: Any) -> Decimal | None:
    """One unit's value: the price the channel sold it at, else the product's customs value."""
    price = line.order_line.unit_price
    if price is None:
        price = line.product.customs_value
    return Decimal(price) if price is not None else None


def goods_value(parcels: Iterable[Parcel]) -> Decimal | None:
    """The packed goods' value (sum of the lines); None when a line has no value at all."""
    total = Decimal("0")
    for parcel in parcels:
        for line in parcel.lines:
            unit = _unit_value(line)
            if unit is None:
                return None
            total += unit * line.quantity
    return total.quantize(CENT)


def customs_for(parcels: Iterable[Parcel], currency: str | None) -> Customs:
    """The CN23 data of the packed lines; CustomsDataMissing (naming SKUs and fields) when a product lacks some."""
    return customs_of_lines([pl for parcel in parcels for pl in parcel.lines], currency, CustomsCategory.SALE)


def customs_of_lines(goods: Iterable[Any], currency: str | None, category: CustomsCategory) -> Customs:
    """The CN23 of lines that each have `product`, `quantity` and `order_line` (a parcel's lines, an RMA's lines
    coming back): value = the line's sold price, else the product's customs value."""
    lines: list[CustomsLine] = []
    missing: dict[str, list[str]] = {}
    for pl in goods:
        product = pl.product
        lacks = [name for name, ok in (("hs_code", bool(product.hs_code)),
                                       ("origin_country", bool(product.origin_country)),
                                       ("customs_value", _unit_value(pl) is not None),
                                       ("weight_g", bool(product.weight_g)),
                                       ("name", bool((product.name or "").strip()))) if not ok]
        if lacks:
            missing.setdefault(product.sku, [])
            missing[product.sku] += [f for f in lacks if f not in missing[product.sku]]
            continue
        unit = _unit_value(pl)
        assert unit is not None and product.weight_g
        lines.append(CustomsLine(description=product.name.strip()[:64], quantity=pl.quantity,
                                 value=(unit * pl.quantity).quantize(CENT),
                                 weight_grams=product.weight_g * pl.quantity,
                                 hs_code=(product.hs_code or "")[:10], origin_country=product.origin_country or ""))
    if missing:
        named = "; ".join(f"{sku}: {', '.join(fields)}" for sku, fields in sorted(missing.items()))
        raise CustomsDataMissing(
            _("This parcel leaves the EU customs union and its CN23 lacks data: %(missing)s. Nothing was labelled; "
              "ask a supervisor to complete these products in the catalog.", missing=named),
            errors=[{"field": f"{sku}.{f}", "message": "required for the CN23"}
                    for sku, fields in sorted(missing.items()) for f in fields],
            skus=sorted(missing))
    return Customs(lines=tuple(lines), currency=(currency or "EUR").upper(), category=category)


def _listed(name: str, code: str) -> bool:
    value = _config(name, ())
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    return "*" in value or code in value


def options_for(carrier: Carrier, value: Decimal | None) -> ShippingOptions:
    """Insurance of the goods' value and signature, where configured for this carrier and the carrier offers it."""
    insured = value if (value and Feature.INSURANCE in carrier.features
                        and _listed("PACK_INSURED_CARRIERS", carrier.code)) else None
    signature = Feature.SIGNATURE in carrier.features and _listed("PACK_SIGNATURE_CARRIERS", carrier.code)
    return ShippingOptions(insured_value=insured, signature=signature)


# --- the relay point -----------------------------------------------------------------------------------------


def relay_check_due(order: Order, now: dt.datetime | None = None) -> bool:
    hours = float(_config("RELAY_CHECK_MAX_AGE_HOURS", DEFAULT_RELAY_CHECK_MAX_AGE_HOURS))
    checked = order.relay_checked_at
    if checked is None:
        return True
    if checked.tzinfo is None:
        checked = checked.replace(tzinfo=dt.UTC)
    return (now or utcnow()) - checked > dt.timedelta(hours=hours)


def check_relay_point(carrier: Carrier, order: Order, country: str, parcels: Iterable[Parcel]) -> RelayPoint | None:
    """Re-check the order's relay point with the carrier when it offers relay points and the last check is old;
    RelayPointInvalid when the point cannot take the heaviest parcel today. Records the check on the order."""
    if not order.relay_point_id or Feature.RELAY not in carrier.features or not relay_check_due(order):
        return None
    heaviest = max((p.weight_g or 1) for p in parcels)
    point = carrier.check_relay_point(order.relay_point_id, country, heaviest, dt.date.today())
    order.relay_checked_at = utcnow()
    a = point.address
    order.relay_point = {"carrier": carrier.code, "id": point.id, "name": point.name, "street": list(a.street),
                         "postal_code": a.postal_code, "city": a.city, "country": a.country}
    return point
