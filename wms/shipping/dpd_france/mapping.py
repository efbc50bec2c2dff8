"""Our shipment data mapped to DPD France EPrint structures (Address, AddressInfo, Contact) and back."""

from __future__ import annotations

from decimal import ROUND_UP, Decimal
from typing import Any

from wms.shipping.carriers import Party
from wms.shipping.errors import ShipmentRefused


def kg(grams: int) -> Decimal:
    return max(Decimal("0.01"), (Decimal(grams) / 1000).quantize(Decimal("0.01"), rounding=ROUND_UP))


def _fit(value: str, limit: int, what: str, role: str) -> str:
    value = " ".join(value.split())
    if len(value) > limit:
        raise ShipmentRefused(f"DPD France takes {limit} characters for the {role} {what}; {value!r} is longer")
    return value


def address(party: Party, role: str) -> dict[str, str]:
    """An EPrint Address: name, street, zip code, city, country, phone (35 characters each, 30 for phone)."""
    a = party.address
    body = {
        "countryPrefix": a.country,
        "zipCode": _fit(a.postal_code, 10, "postal code", role),
        "city": _fit(a.city, 35, "city", role),
        "street": _fit(a.street[0], 35, "street", role),
        "name": _fit(a.name, 35, "name", role),
    }
    if party.phone:
        body["phoneNumber"] = _fit(party.phone, 30, "phone", role)
    return body


def info(party: Party) -> dict[str, str]:
    """Extra recipient lines: company, then the address lines after the first."""
    info: dict[str, str] = {}
    if party.company and party.company != party.address.name:
        info["name2"] = _fit(party.company, 35, "company", "ship-to")
    for key, line in zip(("vinfo1", "vinfo2"), party.address.street[1:3], strict=False):
        if line.strip():
            info[key] = _fit(line, 35, "address line", "ship-to")
    return info


def contact(party: Party, service: str) -> dict[str, str] | None:
    """Predict: the recipient's mobile/email for the delivery slot; Relais: where the pickup notice goes."""
    if service == "classic":
        return None
    contact = {"type": "Predict"} if service == "predict" else {
        "type": "AutomaticSMS" if party.phone else "AutomaticMail"}
    if party.phone:
        contact["sms"] = party.phone
    if party.email:
        contact["email"] = party.email
    return contact


def items(result: Any, container: str, item: str) -> list[Any]:
    holder = getattr(result, container, None)
    values = getattr(holder, item, None) if holder is not None else None
    return list(values or [])
