"""What carriers offer beyond a label, as plain data the adapters and the application share: customs data for
a CN23, options (insurance, signature), relay points with their opening hours, tracking events mapped to our
statuses, and the refusals these bring (a relay point that does not exist, is closed or cannot take the
parcel; a feature the carrier does not offer).

Adapters (wms/shipping/<carrier>.py) override the optional methods of `wms.shipping.carriers.Carrier`
(`find_relay_points`, `relay_point`, `tracking_events`, `create_return`) and name what they offer in
`Carrier.features`; the defaults raise FeatureUnsupported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from wms.labels.documents.shipping import Address
from wms.shipping.errors import ShipmentRefused, ShippingInputInvalid


class Feature(StrEnum):
    RELAY = "relay"                  # delivery to a relay point (search, check, label to it)
    TRACKING = "tracking"            # tracking events can be fetched
    RETURNS = "returns"              # return labels (customer -> warehouse)
    CUSTOMS = "customs"              # customs declaration (CN23) for destinations outside the customs union
    MULTI_PARCEL = "multi_parcel"    # several parcels in one shipment (1/n ... n/n)
    INSURANCE = "insurance"          # declared value insured
    SIGNATURE = "signature"          # delivery against signature
    MANIFEST = "manifest"            # end-of-day bordereau from the carrier
    PDF = "pdf"                      # the label can be asked as PDF (fallback printer)


class FeatureUnsupported(ShippingInputInvalid):
    slug = "carrier-feature-unsupported"
    title = "The carrier does not offer this"


class RelayPointInvalid(ShipmentRefused):
    """The chosen relay point does not exist, is closed, or cannot take the parcel: hold for a supervisor."""

    slug = "relay-point-invalid"
    title = "The relay point cannot take this parcel"


# --- customs -----------------------------------------------------------------------------------------------------

# The EU customs union: the 27 member states plus Monaco (with France); territories outside it are listed below.
EU_CUSTOMS_UNION = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
    "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "MC",
})
# Member-state territories outside the customs (or VAT) territory, for which a CN23 is required, by postcode
# prefix: the French overseas departments and collectivities (97x, 98x), the Canary Islands (35, 38), Ceuta
# (51) and Melilla (52), Livigno and Campione d'Italia (23041, 22061), Heligoland and Büsingen (27498, 78266),
# Mount Athos (630 86).
OUTSIDE_CUSTOMS_TERRITORY: dict[str, tuple[str, ...]] = {
    "FR": ("97", "98"),
    "ES": ("35", "38", "51", "52"),
    "IT": ("23041", "22061"),
    "DE": ("27498", "78266"),
    "GR": ("63086",),
}


def needs_customs(ship_from: Address, ship_to: Address) -> bool:
    """Whether this parcel crosses the EU customs border (a CN23 goes with it)."""
    def inside(address: Address) -> bool:
        if address.country not in EU_CUSTOMS_UNION:
            return False
        postcode = address.postal_code.replace(" ", "")
        return not postcode.startswith(OUTSIDE_CUSTOMS_TERRITORY.get(address.country, ()))
    return inside(ship_from) != inside(ship_to) or not (inside(ship_from) or inside(ship_to))


class CustomsCategory(StrEnum):
    SALE = "sale"                    # sale of goods (the usual case)
    GIFT = "gift"
    SAMPLE = "sample"
    RETURN = "return"                # returned goods
    DOCUMENTS = "documents"
    OTHER = "other"


@dataclass(frozen=True)
class CustomsLine:
    """One article of the CN23: what, how many, value of all of them, net weight of all of them."""

    description: str
    quantity: int
    value: Decimal
    weight_grams: int
    hs_code: str = ""
    origin_country: str = ""

    def __post_init__(self) -> None:
        if not self.description.strip():
            raise ShippingInputInvalid("A customs line needs a description of the goods")
        if not isinstance(self.quantity, int) or self.quantity <= 0:
            raise ShippingInputInvalid(f"Customs line {self.description!r}: a whole quantity above 0")
        if not isinstance(self.value, Decimal) or self.value < 0:
            raise ShippingInputInvalid(f"Customs line {self.description!r}: a value of 0 or more")
        if not isinstance(self.weight_grams, int) or self.weight_grams <= 0:
            raise ShippingInputInvalid(f"Customs line {self.description!r}: a weight in whole grams above 0")
        if self.hs_code and not (self.hs_code.isdigit() and 6 <= len(self.hs_code) <= 10):
            raise ShippingInputInvalid(f"Customs line {self.description!r}: an HS code is 6 to 10 digits")
        if self.origin_country and not (len(self.origin_country) == 2 and self.origin_country.isupper()):
            raise ShippingInputInvalid(f"Customs line {self.description!r}: the origin is a 2-letter ISO code")


@dataclass(frozen=True)
class Customs:
    lines: tuple[CustomsLine, ...]
    currency: str = "EUR"
    category: CustomsCategory = CustomsCategory.SALE
    invoice_number: str = ""
    shipping_cost: Decimal = Decimal("0")

    def __post_init__(self) -> None:
        if not self.lines:
            raise ShippingInputInvalid("A customs declaration needs at least one line")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ShippingInputInvalid("The customs currency is a 3-letter ISO code")

    @property
    def value(self) -> Decimal:
        return sum((line.value for line in self.lines), Decimal("0"))


@dataclass(frozen=True)
class ShippingOptions:
    """What the shipment asks beyond delivery; an adapter refuses (FeatureUnsupported) what its carrier lacks."""

    insured_value: Decimal | None = None     # in the shipment's currency; None: not insured
    signature: bool = False


# --- relay points ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpeningHours:
    """One opening span: ISO weekday (1 = Monday ... 7 = Sunday), local times "HH:MM"."""

    weekday: int
    opens: str
    closes: str


@dataclass(frozen=True)
class RelayPoint:
    carrier: str
    id: str                                   # the carrier's id, as the label needs it
    name: str
    address: Address
    opening_hours: tuple[OpeningHours, ...] = ()
    distance_m: int | None = None             # from the searched address, when the carrier says
    max_weight_grams: int | None = None       # heaviest parcel it takes; None: the carrier's standard limit
    active: bool = True
    closed_from: dt.date | None = None        # announced closure (holidays), inclusive
    closed_until: dt.date | None = None
    latitude: float | None = None
    longitude: float | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def refusal(self, weight_grams: int, day: dt.date) -> str | None:
        """Why this point cannot take a parcel of `weight_grams` handed over on `day`; None when it can."""
        if not self.active:
            return f"relay point {self.id} ({self.name}) is no longer in service"
        if self.closed_from and self.closed_until and self.closed_from <= day <= self.closed_until:
            return (f"relay point {self.id} ({self.name}) is closed from {self.closed_from:%d/%m/%Y} "
                    f"to {self.closed_until:%d/%m/%Y}")
        if self.opening_hours == ():
            return f"relay point {self.id} ({self.name}) has no opening hours"
        if self.max_weight_grams is not None and weight_grams > self.max_weight_grams:
            return (f"relay point {self.id} ({self.name}) takes parcels up to {self.max_weight_grams / 1000:g} kg, "
                    f"this one weighs {weight_grams / 1000:g} kg")
        return None


# --- tracking ----------------------------------------------------------------------------------------------------


class TrackingStatus(StrEnum):
    LABEL_CREATED = "label_created"     # announced to the carrier, not handed over yet
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AT_RELAY_POINT = "at_relay_point"   # waiting at the relay point for the customer
    DELIVERED = "delivered"
    FAILED = "failed"                   # delivery attempt failed, address problem, damaged, lost
    RETURNED = "returned"               # on its way back to us, or back


FINAL_STATUSES = frozenset({TrackingStatus.DELIVERED, TrackingStatus.RETURNED})


@dataclass(frozen=True)
class TrackingEvent:
    tracking_number: str
    at: dt.datetime                      # aware
    status: TrackingStatus
    code: str                            # the carrier's own event code
    text: str                            # the carrier's own wording
    location: str = ""

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("a tracking event's time must carry its offset")
