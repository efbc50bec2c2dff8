"""Domain errors of shipping. Input errors are also ValueErrors, so pure callers can catch them plainly."""

from __future__ import annotations

from wms.errors import Conflict, DomainError, NotFound, ValidationFailed


class ShippingInputInvalid(ValidationFailed, ValueError):
    """A shipping value is malformed (an SSCC, a tracking number, a box, a parcel...)."""

    slug = "shipping-input-invalid"
    title = "The shipping data is not valid"


class SsccInvalid(ShippingInputInvalid):
    slug = "sscc-invalid"
    title = "Not a valid SSCC"


class TrackingNumberInvalid(ShippingInputInvalid):
    slug = "tracking-number-invalid"
    title = "Not a valid tracking number"


class PackingInputInvalid(ShippingInputInvalid):
    slug = "packing-input-invalid"
    title = "The packing data is not valid"


class ShipmentRefused(ShippingInputInvalid):
    """The carrier (or our own check of what it needs) refuses to create this shipment."""

    slug = "shipment-refused"
    title = "The carrier refused the shipment"


class CancelRefused(Conflict):
    slug = "carrier-cancel-refused"
    title = "The carrier refused to cancel the shipment"


class ShipmentUnknown(NotFound):
    slug = "carrier-shipment-unknown"
    title = "The carrier does not know this shipment"


class CarrierUnavailable(DomainError):
    """The carrier's API did not answer, answered with a server error, or refused our credentials."""

    status = 503
    slug = "carrier-unavailable"
    title = "The carrier cannot be reached"


class CarrierResponseInvalid(CarrierUnavailable):
    """The carrier answered something we cannot use (missing fields, a tracking number that fails its check)."""

    status = 502
    slug = "carrier-response-invalid"
    title = "The carrier answered something unusable"
