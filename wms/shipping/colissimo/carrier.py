"""The Colissimo carrier: labels, return labels, CN23 and the bordereau through SLS (REST 2.0), tracking through
La Poste's Suivi v2. See the package docstring for the documents followed and what is verified."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from wms.retry import note_outside_effect
from wms.shipping import tracking
from wms.shipping.carrier_features import Feature, RelayPoint, RelayPointInvalid, TrackingEvent, needs_customs
from wms.shipping.carriers import (
    PDF,
    ZPL,
    Cancellation,
    Manifest,
    ParcelLabel,
    Party,
    Shipment,
    ShipmentLabel,
)
from wms.shipping.colissimo import relay, sls, suivi
from wms.shipping.errors import (
    CarrierResponseInvalid,
    CarrierUnavailable,
    ShipmentRefused,
    ShippingInputInvalid,
    TrackingNumberInvalid,
)
from wms.shipping.http_carrier import HttpCarrier, HttpResponse

DEFAULT_BASE_URL = "https://ws.colissimo.fr/sls-ws/SlsServiceWSRest/2.0"
DEFAULT_SUIVI_URL = "https://api.laposte.fr/suivi/v2"
DEFAULT_RELAY_URL = "https://ws.colissimo.fr/pointretrait-ws-cxf/rest/v2/pointretrait"
LABEL_FORMATS = ("ZPL_10x15_203dpi", "ZPL_10x15_300dpi")
HOME = {"DOM", "DOS"}                # France (and the EU): home without / with signature
RELAY = {"BPR", "A2P"}               # post office / relay shop: pickupLocationId
OVERSEAS = {"COM", "CDS"}            # French overseas: without / with signature
INTERNATIONAL = {"COLI"}             # Colissimo Expert international
RETURNS = {"CORE", "CORI"}           # return to France: from France / from abroad
PRODUCTS = HOME | RELAY | OVERSEAS | INTERNATIONAL


@dataclass(frozen=True)
class ColissimoLabel(ShipmentLabel):
    """A Colissimo label job, with the CN23 (a PDF for the document printer) when the parcel needs one."""

    customs_document: bytes | None = None
    partner_numbers: tuple[str, ...] = ()    # parcelNumberPartner: the routing barcode's data, per parcel


class ColissimoCarrier(HttpCarrier):
    """Colissimo with a contract number and its web-service password (or an SLS API key)."""

    features: ClassVar[frozenset[Feature]] = frozenset({
        Feature.MULTI_PARCEL, Feature.CUSTOMS, Feature.RETURNS, Feature.INSURANCE, Feature.SIGNATURE,
        Feature.MANIFEST, Feature.TRACKING, Feature.RELAY,
    })

    def __init__(
        self,
        *,
        contract_number: str,
        password: str = "",
        api_key: str = "",
        sender: Party,
        commercial_name: str,
        label_format: str = "ZPL_10x15_203dpi",
        base_url: str = DEFAULT_BASE_URL,
        suivi_url: str = DEFAULT_SUIVI_URL,
        suivi_key: str = "",
        relay_url: str = DEFAULT_RELAY_URL,
        relay_product: str = "A2P",
        code: str = "colissimo",
        name: str = "Colissimo",
        **http: Any,
    ) -> None:
        if not (contract_number.isdigit() and len(contract_number) <= 6):
            raise ShippingInputInvalid("A Colissimo contract number is up to 6 digits")
        if not (password or api_key):
            raise ShippingInputInvalid("Colissimo needs the contract's web-service password or an API key")
        if label_format not in LABEL_FORMATS:
            raise ShippingInputInvalid(f"Colissimo label format is one of {', '.join(LABEL_FORMATS)}")
        if relay_product not in RELAY:
            raise ShippingInputInvalid(f"The Colissimo relay product is one of {', '.join(sorted(RELAY))}")
        if not commercial_name.strip():
            raise ShippingInputInvalid("Colissimo needs the commercial name the customer knows the shop by")
        for what, url in (("La Poste Suivi", suivi_url), ("Colissimo PointRetrait", relay_url)):
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ShippingInputInvalid(f"The {what} URL {url!r} is not an http(s) URL")
        super().__init__(base_url=base_url, headers={"apiKey": api_key} if api_key else {}, **http)
        self.code, self.name = code, name
        self.contract_number, self._password = contract_number, password
        self.sender, self.commercial_name = sender, commercial_name
        self.label_format, self.relay_product = label_format, relay_product
        self.suivi_url, self._suivi_key = suivi_url.rstrip("/"), suivi_key
        self.relay_url = relay_url.rstrip("/")

    # --- tracking numbers ------------------------------------------------------------------------------

    def validate_tracking(self, tracking_number: str) -> str:
        """A Colissimo parcel number: 13 characters, a digit and a letter then 11 digits (France, e.g.
        6A12345678901), or an S10 number issued by La Poste (international, e.g. CB123456785FR)."""
        value = tracking.normalise(tracking_number)
        if len(value) == 13 and value[0].isdigit() and value[1].isalpha() and value[2:].isdigit():
            return value
        try:
            return tracking.validate_la_poste(value).value
        except TrackingNumberInvalid as exc:
            raise TrackingNumberInvalid(f"{tracking_number!r} is not a Colissimo parcel number") from exc

    # --- labels ----------------------------------------------------------------------------------------

    def product_for(self, shipment: Shipment) -> str:
        """The product code: `service` when it names one, else chosen from the destination and options."""
        to = shipment.ship_to.address
        service = shipment.service.upper()
        if service in PRODUCTS:
            product = service
        elif shipment.relay_point_id:
            product = self.relay_product
        elif to.country == "FR" and to.postal_code.startswith(("97", "98")):
            product = "CDS" if shipment.options.signature else "COM"
        elif needs_customs(shipment.ship_from.address, to):
            product = "COLI"
        else:
            product = "DOS" if shipment.options.signature else "DOM"
        if product in RELAY and not shipment.relay_point_id:
            raise RelayPointInvalid(f"Colissimo {product} delivers to a pickup point: shipment "
                                    f"{shipment.reference} has none chosen")
        if shipment.relay_point_id and product not in RELAY:
            raise ShippingInputInvalid(f"Colissimo {product} is home delivery; a pickup point needs BPR or A2P")
        return product

    def create_shipment(self, shipment: Shipment) -> ColissimoLabel:
        return self._labels(shipment, self.product_for(shipment), shipment.ship_from, shipment.ship_to)

    def create_return(self, shipment: Shipment) -> ColissimoLabel:
        """A Colissimo Retour label (CORE from France, CORI from abroad) from the customer to the warehouse."""
        if shipment.ship_to.address.country != "FR":
            raise ShippingInputInvalid("Colissimo returns come back to France")
        product = "CORE" if shipment.ship_from.address.country == "FR" else "CORI"
        return self._labels(shipment, product, shipment.ship_from, shipment.ship_to)

    def _labels(self, shipment: Shipment, product: str, sender: Party, addressee: Party) -> ColissimoLabel:
        customs = None
        if needs_customs(sender.address, addressee.address):
            if shipment.customs is None:
                raise ShipmentRefused(f"Shipment {shipment.reference} leaves the EU customs union: "
                                          "Colissimo needs its CN23 (customs lines)")
            if len(shipment.parcels) > 1:
                raise ShipmentRefused("Colissimo declares customs per parcel: send a parcel with a CN23 "
                                          "as its own shipment")
            customs = shipment.customs
        letters = [
            sls.letter(shipment, parcel, index, product_code=product,
                       deposit_date=shipment.ship_date or date.today(), commercial_name=self.commercial_name,
                       sender=sender, addressee=addressee, relay_product=product in RELAY, customs=customs)
            for index, parcel in enumerate(shipment.parcels, start=1)
        ]
        # Every parcel is checked before the first label exists, so a refusal leaves nothing half-made.
        for number, body in enumerate(letters, start=1):
            info = self._plain_json(self._post("checkGenerateLabel", body), "checkGenerateLabel")
            sls.raise_for_errors(info, f"parcel {number}/{len(letters)} of {shipment.reference}")
        jobs, parcels, partners, cn23 = [], [], [], None
        for number, (parcel, body) in enumerate(zip(shipment.parcels, letters, strict=True), start=1):
            what = f"parcel {number}/{len(letters)} of {shipment.reference}"
            parts = self._parts(self._post("generateLabel", body), what)
            info = sls.json_part(parts)
            sls.raise_for_errors(info, what)
            answer = info.get("labelV2Response")
            if not isinstance(answer, dict):
                raise CarrierResponseInvalid(f"Colissimo answered no labelV2Response for {what}")
            tracking_number = self.checked_tracking(answer.get("parcelNumber"), "parcel number")
            label = parts.get("label")
            if not label or b"^XA" not in label:
                raise CarrierResponseInvalid(f"Colissimo's label for {what} is not ZPL")
            jobs.append(label if label.endswith(b"\n") else label + b"\n")
            parcels.append(ParcelLabel(tracking_number, parcel.sscc, parcel.weight_grams))
            partners.append(str(answer.get("parcelNumberPartner") or ""))
            if customs is not None:
                cn23 = parts.get("cn23")
                if not cn23 or not cn23.startswith(b"%PDF"):
                    raise CarrierResponseInvalid(f"Colissimo gave no CN23 PDF for {what}")
        return ColissimoLabel(
            carrier=self.code,
            service=product,
            shipment_reference=shipment.reference,
            tracking_number=parcels[0].tracking_number,
            parcels=tuple(parcels),
            label=b"".join(jobs),
            content_type=ZPL,
            destination=shipment.destination,
            carrier_reference=parcels[0].tracking_number,
            customs_document=cn23,
            partner_numbers=tuple(partners),
        )

    def _request_body(self, letter: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"outputFormat": {"x": 0, "y": 0, "outputPrintingType": self.label_format},
                                "letter": letter}
        return {**self._credentials(), **body}

    def _credentials(self) -> dict[str, str]:
        if self._password:
            return {"contractNumber": self.contract_number, "password": self._password}
        return {}

    def _post(self, method: str, letter: dict[str, Any] | None = None, *,
              body: dict[str, Any] | None = None) -> HttpResponse:
        payload = body if body is not None else self._request_body(letter or {})
        response = self.request("POST", method, json_body=payload, accept="multipart/related, application/json")
        if response.status == 429:
            raise CarrierUnavailable(f"{self.name} is limiting our calls (HTTP 429); try again shortly")
        if response.status == 422:
            raise CarrierResponseInvalid(f"{self.name} could not read our {method} request (HTTP 422)")
        return response

    def _content_type(self, response: HttpResponse) -> str:
        return next((v for k, v in response.headers.items() if k.lower() == "content-type"), "")

    def _parts(self, response: HttpResponse, what: str) -> dict[str, bytes]:
        content_type = self._content_type(response)
        if content_type.lower().startswith("multipart/"):
            return sls.split_multipart(content_type, response.body)
        info = self._plain_json(response, what)
        sls.raise_for_errors(info, what)
        raise CarrierResponseInvalid(f"{self.name} answered HTTP {response.status} without a label for {what}")

    def _plain_json(self, response: HttpResponse, what: str) -> dict[str, Any]:
        content_type = self._content_type(response)
        if content_type.lower().startswith("multipart/"):
            return sls.json_part(sls.split_multipart(content_type, response.body))
        data = response.json()
        if not isinstance(data, dict):
            raise CarrierResponseInvalid(f"{self.name} answered {what} with something that is not an object")
        if response.status not in (200, 400):
            raise CarrierResponseInvalid(f"{self.name} answered {what} with HTTP {response.status}")
        return data

    # --- cancel, bordereau ---------------------------------------------------------------------------------

    def cancel(self, tracking_number: str, *, carrier_reference: str | None = None) -> Cancellation:
        number = self.validate_tracking(tracking_number)
        return Cancellation(self.code, number, "Colissimo has no cancellation: a label is billed only once the "
                            "parcel is handed over, so destroy the label and do not put the parcel on a bordereau.")

    def manifest(self, shipments: Sequence[ShipmentLabel], day: date) -> Manifest:
        """The bordereau (generateBordereauByParcelsNumbers) of every parcel of these shipments, as a PDF."""
        labels = self.manifest_labels(shipments, day)
        numbers = tuple(p.tracking_number for label in labels for p in label.parcels)
        body = {**self._credentials(), "generateBordereauParcelNumberList": {"parcelsNumbers": list(numbers)}}
        response = self._post("generateBordereauByParcelsNumbers", body=body)
        what = f"the bordereau of {day:%d/%m/%Y}"
        parts = self._parts(response, what)
        info = sls.json_part(parts)
        sls.raise_for_errors(info, what)
        # jsonInfos.bordereauHeader as REST integrations read it; bordereau.bordereauHeader is the SOAP layout
        header = info.get("bordereauHeader") or (info.get("bordereau") or {}).get("bordereauHeader")
        document = parts.get("deliveryPaper") or b""
        if not isinstance(header, dict) or not header.get("bordereauNumber") or not document.startswith(b"%PDF"):
            raise CarrierResponseInvalid(f"{self.name} answered {what} without its number or its PDF")
        return Manifest(
            carrier=self.code,
            day=day,
            reference=str(header["bordereauNumber"]),
            document=document,
            content_type=PDF,
            tracking_numbers=numbers,
            parcel_count=len(numbers),
            weight_grams=sum(label.weight_grams for label in labels),
        )

    # --- pickup points (PointRetrait REST v2) ---------------------------------------------------------------

    def find_relay_points(self, country: str, postal_code: str, *, city: str = "", weight_grams: int = 0,
                          limit: int = 10) -> list[RelayPoint]:
        """findRDVPointRetraitAcheminement: the points near a postcode, nearest first, with opening hours."""
        if not (postal_code.strip() and city.strip()):
            raise ShippingInputInvalid("Colissimo searches pickup points by postcode and city")
        body = {**self._relay_credentials(), "address": "", "zipCode": postal_code.strip(), "city": city.strip(),
                "countryCode": country, "weight": max(weight_grams, 1), "shippingDate": f"{date.today():%d/%m/%Y}",
                "filterRelay": "1", "lang": "FR", "optionInter": "0" if country == "FR" else "1"}
        answer = self._relay_call("findRDVPointRetraitAcheminement", body, f"the search near {postal_code}")
        points = answer.get("listePointRetraitAcheminement") or []
        if answer["errorCode"] == 300 or not isinstance(points, list):
            return []
        found = [relay.relay_point(p, self.code, date.today()) for p in points]
        found.sort(key=lambda p: p.distance_m if p.distance_m is not None else 10**9)
        return found[:limit]

    def relay_point(self, point_id: str, country: str) -> RelayPoint:
        """findPointRetraitAcheminementByID: one pickup point; RelayPointInvalid when Colissimo does not know it."""
        if not point_id.strip():
            raise RelayPointInvalid("No Colissimo pickup point was chosen")
        body = {**self._relay_credentials(), "id": point_id.strip(), "date": f"{date.today():%d/%m/%Y}",
                "weight": 1, "filterRelay": "1", "reseau": "", "langue": "FR"}
        answer = self._relay_call("findPointRetraitAcheminementByID", body, f"pickup point {point_id}")
        point = answer.get("pointRetraitAcheminement")
        if answer["errorCode"] == 300 or not point:
            raise RelayPointInvalid(f"Colissimo does not know pickup point {point_id}")
        found = relay.relay_point(point, self.code, date.today())
        if found.address.country and found.address.country != country:
            raise RelayPointInvalid(f"Colissimo pickup point {point_id} is in {found.address.country}, "
                                    f"not {country}")
        return found

    def _relay_credentials(self) -> dict[str, str]:
        return {"accountNumber": self.contract_number, "password": self._password} if self._password else {}

    def _relay_call(self, method: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        response = self.request("POST", f"{self.relay_url}/{method}", json_body=body)
        if response.status == 429:
            raise CarrierUnavailable(f"{self.name} is limiting our calls (HTTP 429); try again shortly")
        answer = response.json()
        if response.status != 200:
            raise CarrierResponseInvalid(f"Colissimo PointRetrait answered HTTP {response.status} for {what}")
        relay.raise_for_error(answer, what)
        return answer

    # --- tracking (La Poste Suivi v2) -----------------------------------------------------------------------

    def tracking_events(self, tracking_numbers: Sequence[str]) -> dict[str, list[TrackingEvent]]:
        if not self._suivi_key:
            raise ShippingInputInvalid("Colissimo tracking needs a La Poste Suivi key (X-Okapi-Key)")
        found: dict[str, list[TrackingEvent]] = {}
        for raw in tracking_numbers:
            number = self.validate_tracking(raw)
            status, answer = self._suivi(number)
            if status == 404:
                found[number] = []
            elif status in (200, 207):
                found[number] = suivi.events(number, answer)
            else:
                message = answer.get("returnMessage") if isinstance(answer, dict) else ""
                raise CarrierResponseInvalid(f"La Poste Suivi answered HTTP {status} for {number}: {message}")
        return found

    def _suivi(self, number: str) -> tuple[int, Any]:
        url = f"{self.suivi_url}/idships/{urllib.parse.quote(number)}?lang=fr_FR"
        req = urllib.request.Request(url, headers={"Accept": "application/json", "X-Okapi-Key": self._suivi_key})
        note_outside_effect()
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                status, body = resp.status, resp.read(1024 * 1024)
        except urllib.error.HTTPError as exc:
            with exc:
                status, body = exc.code, exc.read(1024 * 1024)
        except (OSError, http.client.HTTPException) as exc:
            raise CarrierUnavailable(f"La Poste Suivi did not answer: {getattr(exc, 'reason', exc)}") from exc
        if status >= 500 or status == 429:
            raise CarrierUnavailable(f"La Poste Suivi answered HTTP {status}; try again later")
        if status in (401, 403):
            raise CarrierUnavailable(f"La Poste Suivi refused our key (HTTP {status}); check the X-Okapi-Key")
        try:
            return status, json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CarrierResponseInvalid(f"La Poste Suivi answered HTTP {status} with a body that is not JSON") \
                from exc
