"""The Shipment API half of Mondial Relay (connect-api.mondialrelay.com/api/shipment): the XML
ShipmentCreationRequest we send and the ShipmentCreationResponse we read (StatusList, ShipmentNumber, one Label
per parcel whose Output is the base64 ZPL).

Element names, required elements, lengths and patterns follow the published request XSD
(Mondial-Relay-Shipment-API-.Request.1.0.xsd) as the Dual Carrier documentation v2.7.x describes it; the
request namespace is the one that XSD declares (http://www.example.org/Request).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree

from wms.shipping.carriers import Parcel, Party
from wms.shipping.errors import CarrierResponseInvalid, ShipmentRefused

REQUEST_NS = "http://www.example.org/Request"
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_ORDER_NO = re.compile(r"[^0-9A-Z_-]")
_EMAIL = re.compile(r"[\w\-.@_+]{7,70}")
# Country calling codes of the countries Mondial Relay serves (documentation 8.2.2).
CALLING_CODES = {"FR": "33", "ES": "34", "BE": "32", "DE": "49", "LU": "352", "PT": "351", "AT": "43",
                 "GB": "44", "IT": "39", "NL": "31", "IE": "353", "MC": "377", "CH": "41", "PL": "48"}


@dataclass(frozen=True)
class Credentials:
    login: str
    password: str
    customer_id: str
    culture: str = "fr-FR"


@dataclass(frozen=True)
class Mode:
    """DeliveryMode / CollectionMode: the product code and, for a relay point, its location (CC-number)."""

    code: str
    location: str = ""


def phone(party: Party) -> str:
    """The phone as the API wants it (+ and digits only), or "" when it cannot be made so."""
    digits = re.sub(r"[\s.()/-]", "", party.phone or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0") and party.address.country in CALLING_CODES:
        digits = "+" + CALLING_CODES[party.address.country] + digits[1:]
    return digits if re.fullmatch(r"\+\d{3,20}", digits) else ""


def _fits(value: str, limit: int, what: str) -> str:
    if len(value) > limit:
        raise ShipmentRefused(f"Mondial Relay prints at most {limit} characters for the {what}: {value!r}")
    return value


def _address(parent: etree._Element, party: Party, role: str, *, phone_required: bool) -> None:
    a = party.address
    if len(a.street) > 2 and any(line.strip() for line in a.street[2:]):
        raise ShipmentRefused(f"Mondial Relay prints two street lines; the {role} address has {len(a.street)}")
    number = phone(party)
    if phone_required and not number:
        raise ShipmentRefused(f"Mondial Relay needs the {role} phone number (+ country code) for this service")
    address = etree.SubElement(parent, _q("Address"))
    fields = [
        ("Lastname", _fits(a.name.strip(), 30, f"{role} name")),
        ("Streetname", _fits(a.street[0].strip(), 40, f"{role} street")),
        ("CountryCode", a.country),
        ("PostCode", _fits(a.postal_code.strip(), 10, f"{role} postcode")),
        ("City", _fits(a.city.strip(), 30, f"{role} city")),
        ("AddressAdd2", _fits(party.company.strip(), 30, f"{role} company")),
        ("AddressAdd3", _fits(a.street[1].strip() if len(a.street) > 1 else "", 30, f"{role} second street line")),
        ("PhoneNo", number),
        ("Email", party.email if _EMAIL.fullmatch(party.email or "") else ""),
    ]
    if len(a.postal_code.strip()) < 2:
        raise ShipmentRefused(f"Mondial Relay needs the {role} postcode")
    for tag, value in fields:
        if value:
            etree.SubElement(address, _q(tag)).text = value


def _q(tag: str) -> str:
    return f"{{{REQUEST_NS}}}{tag}"


def _measure(parent: etree._Element, tag: str, value: int, unit: str) -> None:
    etree.SubElement(parent, _q(tag), Value=str(value), Unit=unit)


def order_no(reference: str) -> str:
    """Our reference as OrderNo allows it: upper case, [0-9A-Z_-], 15 characters."""
    return _ORDER_NO.sub("_", reference.upper())[:15]


def creation_request(
    credentials: Credentials,
    *,
    output_format: str,
    reference: str,
    sender: Party,
    recipient: Party,
    parcels: tuple[Parcel, ...],
    delivery: Mode,
    collection: Mode,
    value: Decimal | None,
    phone_required: tuple[str, ...] = (),
) -> bytes:
    """The ShipmentCreationRequest document (UTF-8, no BOM) for one shipment of `parcels`."""
    root = etree.Element(_q("ShipmentCreationRequest"), nsmap={None: REQUEST_NS})
    context = etree.SubElement(root, _q("Context"))
    for tag, text in (("Login", credentials.login), ("Password", credentials.password),
                      ("CustomerId", credentials.customer_id), ("Culture", credentials.culture),
                      ("VersionAPI", "1.0")):
        etree.SubElement(context, _q(tag)).text = text
    output = etree.SubElement(root, _q("OutputOptions"))
    etree.SubElement(output, _q("OutputFormat")).text = output_format
    etree.SubElement(output, _q("OutputType")).text = "ZplCode"
    shipment = etree.SubElement(etree.SubElement(root, _q("ShipmentsList")), _q("Shipment"))
    etree.SubElement(shipment, _q("OrderNo")).text = order_no(reference)
    etree.SubElement(shipment, _q("ParcelCount")).text = str(len(parcels))
    amount = (value or Decimal("0")).quantize(Decimal("0.01"))
    etree.SubElement(shipment, _q("ShipmentValue"), Currency="EUR", Amount=f"{amount:f}")
    for tag, mode in (("DeliveryMode", delivery), ("CollectionMode", collection)):
        attributes = {"Mode": mode.code}
        if mode.location:
            attributes["Location"] = mode.location
        etree.SubElement(shipment, _q(tag), **attributes)
    parcel_list = etree.SubElement(shipment, _q("Parcels"))
    for parcel in parcels:
        element = etree.SubElement(parcel_list, _q("Parcel"))
        if parcel.has_dimensions:
            for tag, mm in (("Length", parcel.length_mm), ("Width", parcel.width_mm), ("Depth", parcel.height_mm)):
                _measure(element, tag, math.ceil(mm / 10), "cm")
        _measure(element, "Weight", parcel.weight_grams, "gr")
    _address(etree.SubElement(shipment, _q("Sender")), sender, "sender", phone_required="sender" in phone_required)
    _address(etree.SubElement(shipment, _q("Recipient")), recipient, "recipient",
             phone_required="recipient" in phone_required)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True)
class CreationAnswer:
    statuses: list[tuple[str, str, str]]
    shipment_number: str
    labels: list[bytes]               # the ZPL of each parcel, in order
    barcodes: list[str]


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _all(root: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in root.iter() if _local(e) == name]


def creation_answer(body: bytes) -> CreationAnswer:
    """Read a ShipmentCreationResponse; the statuses always, the shipment and its labels when there."""
    try:
        root = etree.fromstring(body, _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise CarrierResponseInvalid(f"Mondial Relay answered something that is not XML: {exc}") from exc
    if _local(root) != "ShipmentCreationResponse":
        raise CarrierResponseInvalid(f"Mondial Relay answered a {_local(root)!r} document, not a shipment answer")
    statuses = [(s.get("Code", ""), s.get("Level", ""), s.get("Message", "")) for s in _all(root, "Status")]
    shipments = _all(root, "Shipment")
    number = shipments[0].get("ShipmentNumber", "") if shipments else ""
    labels = []
    for output in _all(root, "Output"):
        text = (output.text or "").strip()
        try:
            labels.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise CarrierResponseInvalid("Mondial Relay answered a label Output that is not base64") from exc
    barcodes = [b.get("Value", "") for b in _all(root, "Barcode")]
    return CreationAnswer(statuses, number, labels, barcodes)
