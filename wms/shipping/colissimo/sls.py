"""The SLS REST flavour (SlsServiceWSRest 2.0) of Colissimo's labelling web service, as plain data: our shipment
turned into the `generateLabel` letter, the multipart/related answer split into its parts, and the documented
message codes turned into our errors. No HTTP here: `wms.shipping.colissimo.carrier` sends what this builds."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from wms.shipping.carrier_features import Customs, CustomsCategory, RelayPointInvalid
from wms.shipping.carriers import Parcel, Party, Shipment
from wms.shipping.errors import CarrierResponseInvalid, CarrierUnavailable, ShipmentRefused

# Field lengths of the address block (the SLS specification's "Taille max" column).
MAX_LINE = 35
MAX_FIRST_NAME = 29
MAX_ORDER_NUMBER = 30
MAX_ARTICLES = 100            # 30523: "Le nombre max d'articles est dépassé (100 max)"

# The CN23 category codes of customsDeclarations.contents.category.value.
CATEGORY = {
    CustomsCategory.GIFT: 1,
    CustomsCategory.SAMPLE: 2,
    CustomsCategory.SALE: 3,
    CustomsCategory.DOCUMENTS: 4,
    CustomsCategory.OTHER: 5,
    CustomsCategory.RETURN: 6,
}

# Message ids of the documented list that are about our account, not this shipment: check the contract.
ACCOUNT_CODES = frozenset({"30000", "30007", "30008"})
# ... and those about the chosen pickup point (the relay point).
RELAY_CODES = frozenset({"30400", "30401", "30402", "30403", "30900", "30901", "30902", "30903", "30904"})
# "Service momentanément indisponible" and the parcel-number range being exhausted: try later / call support.
UNAVAILABLE_CODES = frozenset({"40014", "40015"})


@dataclass(frozen=True)
class Message:
    id: str
    type: str
    content: str


def messages_of(info: Any) -> list[Message]:
    """The `messages` of a jsonInfos part (or a plain JSON answer)."""
    raw = info.get("messages") if isinstance(info, dict) else None
    if not isinstance(raw, list):
        return []
    return [
        Message(str(m.get("id", "")), str(m.get("type", "")), str(m.get("messageContent", "")))
        for m in raw
        if isinstance(m, dict)
    ]


def errors_of(info: Any) -> list[Message]:
    return [m for m in messages_of(info) if m.type.upper() == "ERROR"]


def raise_for_errors(info: Any, what: str) -> None:
    """The documented ERROR messages as our errors: account problems, relay point, outage, else a refusal."""
    errors = errors_of(info)
    if not errors:
        return
    text = "; ".join(f"{m.content} ({m.id})" for m in errors)
    ids = {m.id for m in errors}
    if ids & ACCOUNT_CODES:
        raise CarrierUnavailable(f"Colissimo refused our contract for {what}: {text}; check the contract number "
                                 "and password (or API key) and the services the contract opens")
    if ids & UNAVAILABLE_CODES:
        raise CarrierUnavailable(f"Colissimo cannot label {what} now: {text}")
    if ids & RELAY_CODES:
        raise RelayPointInvalid(f"Colissimo refused the pickup point of {what}: {text}")
    raise ShipmentRefused(f"Colissimo refused {what}: {text}")


# --- multipart/related answers -------------------------------------------------------------------------------

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)


def split_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """The parts of a multipart/related (MTOM/XOP) answer by Content-ID without its brackets ("jsonInfos",
    "label", "cn23", "deliveryPaper"), each body exactly as sent (binary labels are kept byte for byte)."""
    match = _BOUNDARY.search(content_type or "")
    if not match:
        raise CarrierResponseInvalid("Colissimo answered a multipart body without a boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise CarrierResponseInvalid("Colissimo answered a multipart body without parts")
    parts: dict[str, bytes] = {}
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):  # the closing delimiter
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise CarrierResponseInvalid("Colissimo answered a multipart part without headers")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        content_id = headers.get("content-id", "").strip("<>")
        if not content_id:
            raise CarrierResponseInvalid("Colissimo answered a multipart part without a Content-ID")
        parts[content_id] = content[:-2] if content.endswith(b"\r\n") else content
    return parts


def json_part(parts: dict[str, bytes]) -> dict[str, Any]:
    raw = parts.get("jsonInfos")
    if raw is None:
        raise CarrierResponseInvalid("Colissimo's answer has no jsonInfos part")
    try:
        info = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CarrierResponseInvalid("Colissimo's jsonInfos part is not JSON") from exc
    if not isinstance(info, dict):
        raise CarrierResponseInvalid("Colissimo's jsonInfos part is not an object")
    return info


# --- the generateLabel letter ----------------------------------------------------------------------------------


def _fits(value: str, limit: int, what: str) -> str:
    if len(value) > limit:
        raise ShipmentRefused(f"Colissimo prints at most {limit} characters for {what}: {value!r}")
    return value


def address(party: Party, role: str, *, mobile: bool = False) -> dict[str, Any]:
    """The SLS address block: the name as first and last name (printed "first last", as written), street on
    line2 (number and street) and line3 (complement)."""
    a = party.address
    if len(a.street) > 2:
        raise ShipmentRefused(f"Colissimo prints two street lines; the {role} address has {len(a.street)}")
    first, _, last = a.name.strip().partition(" ")
    block: dict[str, Any] = {
        "lastName": _fits(last.strip() or first, MAX_LINE, f"the {role} last name"),
        "line2": _fits(a.street[0], MAX_LINE, f"the {role} street"),
        "countryCode": a.country,
        "city": _fits(a.city, MAX_LINE, f"the {role} city"),
        "zipCode": a.postal_code,
    }
    if last.strip():
        block["firstName"] = _fits(first, MAX_FIRST_NAME, f"the {role} first name")
    if len(a.street) > 1 and a.street[1].strip():
        block["line3"] = _fits(a.street[1], MAX_LINE, f"the {role} street complement")
    if party.company:
        block["companyName"] = _fits(party.company, MAX_LINE, f"the {role} company")
    if party.email:
        block["email"] = party.email
    if party.phone:
        block["mobileNumber" if mobile else "phoneNumber"] = party.phone
    elif mobile:
        raise ShipmentRefused(f"Colissimo needs the {role} mobile number to announce a pickup-point delivery")
    return block


def _kg(grams: int) -> float:
    return float((Decimal(grams) / 1000).quantize(Decimal("0.001")))


def customs_declarations(customs: Customs, parcel: Parcel) -> dict[str, Any]:
    """The CN23 block: one article per customs line, quantity with the unit weight (kg) and unit value."""
    if len(customs.lines) > MAX_ARTICLES:
        raise ShipmentRefused(f"A Colissimo CN23 holds at most {MAX_ARTICLES} articles")
    articles = []
    for line in customs.lines:
        unit_weight = Decimal(line.weight_grams) / 1000 / line.quantity
        unit_value = (line.value / line.quantity).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if not line.hs_code or not line.origin_country:
            raise ShipmentRefused(f"The CN23 needs the HS code and origin country of {line.description!r}")
        articles.append({
            "description": _fits(line.description, 64, "a CN23 description"),
            "quantity": line.quantity,
            "weight": float(max(unit_weight.quantize(Decimal("0.001")), Decimal("0.001"))),
            "value": float(unit_value),
            "hsCode": line.hs_code,
            "originCountry": line.origin_country,
            "currency": customs.currency,
        })
    if sum(line.weight_grams for line in customs.lines) > parcel.weight_grams:
        raise ShipmentRefused("The CN23 articles weigh more than the parcel (Colissimo refuses it: 30507)")
    block: dict[str, Any] = {
        "includeCustomsDeclarations": True,
        "contents": {"article": articles, "category": {"value": CATEGORY[customs.category]}},
    }
    if customs.invoice_number:
        block["invoiceNumber"] = customs.invoice_number
    return block


def letter(
    shipment: Shipment,
    parcel: Parcel,
    index: int,
    *,
    product_code: str,
    deposit_date: date,
    commercial_name: str,
    sender: Party,
    addressee: Party,
    relay_product: bool,
    customs: Customs | None,
) -> dict[str, Any]:
    """The `letter` of one parcel's generateLabel request."""
    count = len(shipment.parcels)
    reference = shipment.reference if count == 1 else f"{shipment.reference} {index}/{count}"
    service: dict[str, Any] = {
        "productCode": product_code,
        "depositDate": f"{deposit_date:%Y-%m-%d}",
        "orderNumber": shipment.reference[:MAX_ORDER_NUMBER],
        "commercialName": _fits(commercial_name, MAX_LINE, "the commercial name"),
    }
    parcel_block: dict[str, Any] = {"weight": _kg(parcel.weight_grams)}
    insured = shipment.options.insured_value
    if insured is not None and insured > 0:
        parcel_block["insuranceValue"] = int((insured * 100).quantize(Decimal("1"), ROUND_HALF_UP))
    if relay_product:
        parcel_block["pickupLocationId"] = shipment.relay_point_id
    body: dict[str, Any] = {
        "service": service,
        "parcel": parcel_block,
        "sender": {"senderParcelRef": reference, "address": address(sender, "sender")},
        "addressee": {"address": address(addressee, "addressee", mobile=relay_product)},
    }
    if customs is not None:
        body["customsDeclarations"] = customs_declarations(customs, parcel)
    return body
