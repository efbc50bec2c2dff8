"""Chronopost's SOAP web services as the adapter meets them: ShippingServiceWS (shippingMultiParcelV5),
TrackingServiceWS (trackSkybillV2, cancelSkybill) and PointRelaisServiceWS (recherchePointChronopost,
rechercheDetailPointChronopost), served by Flask routes on 127.0.0.1.

Every request envelope is parsed with defusedxml (no DTD, no entities), its Body operation validated with lxml
against the XSDs in schemas/chronopost/ (written from the published WSDL and the documented rules); a request
that breaks them is recorded in `violations` and answered with the SOAP fault CXF gives ("Unmarshalling Error",
HTTP 500). Answers follow the documented shapes: `return` with errorCode 0 on success; 3 "invalid account or
password"; 33 for data the service refuses (postcode, product outside the contract); 2 on cancelling a skybill
the account does not have; 1 "System Error" on demand. The messages of codes 33, and code 4 (cancelling a
skybill already taken over or cancelled), are the stand-in's own: the published table was not available.

Labels are ZPL (203 or 300 dpi) or a small PDF per parcel, base64 in pdfEtiquette; the ZPL uses ^CI28 and ^FH so
the address prints exactly as sent, and a Code 128 of the skybill number.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from flask import Flask, Response, request
from lxml import etree

from tests.standins.base import SCHEMAS, StandIn
from wms.shipping.tracking import s10_check_digit

ACCOUNT, PASSWORD = "12345678", "stand-in-password"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = {"shipping": "http://cxf.shipping.soap.chronopost.fr/", "tracking": "http://cxf.tracking.soap.chronopost.fr/",
      "relay": "http://cxf.rechercheBt.soap.chronopost.fr/"}
PATHS = {"/shipping-cxf/ShippingServiceWS": "shipping", "/tracking-cxf/TrackingServiceWS": "tracking",
         "/recherchebt-ws-cxf/PointRelaisServiceWS": "relay"}
PARIS = ZoneInfo("Europe/Paris")
PDF_LABEL = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "chronopost" / f"{name}.xsd")))


@dataclass
class Point:
    identifiant: str
    nom: str
    adresse1: str
    code_postal: str
    localite: str
    hours: dict[int, list[tuple[str, str]]]
    poids_maxi: int = 20000
    actif: bool = True
    distance: int = 500
    closed: tuple[dt.datetime, dt.datetime] | None = None
    pays: str = "FR"


@dataclass
class Skybill:
    number: str
    account: str
    product: str
    events: list[tuple[str, dt.datetime, str, str]] = field(default_factory=list)
    cancelled: bool = False


def zpl_text(value: str) -> str:
    """^FH data: every byte outside plain letters, digits and spaces as _XX (UTF-8 with ^CI28)."""
    return "".join(c if (c.isascii() and (c.isalnum() or c == " ")) else
                   "".join(f"_{b:02X}" for b in c.encode("utf-8")) for c in value)


class ChronopostStandIn(StandIn):
    platform = "chronopost"

    def __init__(self) -> None:
        self.schemas = {key: _schema(key) for key in NS}
        self.accounts = {ACCOUNT: PASSWORD}
        self.allowed_products = {"01", "02", "16", "86"}
        self.skybills: dict[str, Skybill] = {}
        self.labels: list[dict[str, Any]] = []        # what each label was made from (for the tests)
        self.points: dict[str, Point] = {}
        self.system_error_next = 0                     # answer errorCode 1 "System Error" to the next N calls
        self.fault_next: tuple[str, str] | None = None  # answer the next call with this SOAP fault (code, text)
        self.broken_label_next = False                  # the next label comes back as bytes that are not ZPL
        self.one_document_next = False                  # the next shipment's labels all in its first answer
        self._serial = itertools.count(69698248)
        super().__init__()

    # --- routes ------------------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        for path in PATHS:
            app.add_url_rule(path, path, self._endpoint, methods=["POST"])

    def _endpoint(self) -> Response:
        service = PATHS[request.path]
        try:
            SafeET.fromstring(request.get_data())
            envelope = etree.fromstring(request.get_data(), etree.XMLParser(resolve_entities=False, no_network=True))
        except (SafeET.ParseError, DefusedXmlException, etree.XMLSyntaxError) as exc:
            self.violation(f"not a safe XML document: {exc}")
            return self.fault("Client", "Unmarshalling Error: the request is not a SOAP envelope")
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        operation = body[0] if body is not None and len(body) else None
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope" or operation is None:
            self.violation("no SOAP 1.1 Envelope/Body")
            return self.fault("Client", "Unmarshalling Error: no SOAP body")
        schema = self.schemas[service]
        if not schema.validate(etree.ElementTree(operation)):
            for error in schema.error_log:
                self.violation(f"{etree.QName(operation).localname}: line {error.line}: {error.message}")
            return self.fault("Client", f"Unmarshalling Error: {schema.error_log.last_error.message}")
        name = etree.QName(operation).localname
        handler = getattr(self, f"op_{name}", None)
        if handler is None:
            self.violation(f"unknown operation {name}")
            return self.fault("Client", f"Unexpected wrapper element {name} found.")
        values = {child.tag: child for child in operation}
        if self.fault_next is not None:
            (code, message), self.fault_next = self.fault_next, None
            return self.fault(code, message)
        if self.system_error_next:
            self.system_error_next -= 1
            return self.answer(service, name, "<errorCode>1</errorCode><errorMessage>System Error</errorMessage>")
        return handler(operation, values)

    # --- SOAP answers ------------------------------------------------------------------------------------------
    def answer(self, service: str, operation: str, inner: str) -> Response:
        body = (f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><ns1:{operation}Response xmlns:ns1="{NS[service]}">'
                f"<return>{inner}</return></ns1:{operation}Response></soap:Body></soap:Envelope>")
        return Response(body.encode("utf-8"), 200, content_type="text/xml;charset=UTF-8")

    def fault(self, code: str, message: str) -> Response:
        body = (f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault><faultcode>soap:{code}</faultcode>'
                f"<faultstring>{escape(message)}</faultstring></soap:Fault></soap:Body></soap:Envelope>")
        return Response(body.encode("utf-8"), 500, content_type="text/xml;charset=UTF-8")

    def _authorised(self, account: str, password: str) -> bool:
        return self.accounts.get(account) == password

    # --- shipping ----------------------------------------------------------------------------------------------
    def op_shippingMultiParcelV5(self, operation: etree._Element, values: dict[str, Any]) -> Response:
        def error(code: int, message: str) -> Response:
            return self.answer("shipping", "shippingMultiParcelV5",
                               f"<errorCode>{code}</errorCode><errorMessage>{escape(message)}</errorMessage>")

        account = operation.findtext("headerValue/accountNumber")
        if not self._authorised(account, operation.findtext("password")):
            return error(3, "invalid account or password")
        skybills = operation.findall("skybillValue")
        count = int(operation.findtext("numberOfParcel"))
        multi = operation.findtext("multiParcel")
        if count != len(skybills) or (multi == "N") != (count == 1):
            self.violation(f"numberOfParcel {count} / multiParcel {multi} for {len(skybills)} skybillValue")
            return self.fault("Client", "numberOfParcel does not match the skybills")
        recipient = operation.find("recipientValue")
        country, zipcode = recipient.findtext("recipientCountry"), recipient.findtext("recipientZipCode")
        if country == "FR" and not (zipcode.isdigit() and len(zipcode) == 5 and zipcode[:2] != "00"):
            return error(33, f"Code postal du destinataire invalide : {zipcode}")
        products = {s.findtext("productCode") for s in skybills}
        if not products <= self.allowed_products:
            return error(33, f"Produit {', '.join(sorted(products - self.allowed_products))} non autorisé pour ce "
                             "contrat")
        relay = operation.findtext("refValue/recipientRef")
        if "86" in products and relay not in self.points:
            return error(33, f"Point relais {relay or '(aucun)'} inconnu")
        mode = operation.findtext("skybillParamsValue/mode")
        results, documents = [], []
        for rank, skybill in enumerate(skybills, start=1):
            with self.lock:
                serial = f"{next(self._serial):08d}"
                number = f"XP{serial}{s10_check_digit(serial)}FR"
                self.skybills[number] = Skybill(number, account, skybill.findtext("productCode"))
                self.skybills[number].events.append(
                    ("DC", dt.datetime.now(PARIS).replace(microsecond=0), "Envoi en cours de préparation chez "
                     "l'expéditeur", "Web Services"))
            label = self.label(mode, number, recipient, rank, count)
            if self.broken_label_next and rank == count:
                self.broken_label_next, label = False, b"\x00\x01not a label"
            self.labels.append({"number": number, "mode": mode, "relay": relay})
            documents.append(label)
            results.append(f"<resultMultiParcelValue><codeDepot>75327227</codeDepot><codeService>226</codeService>"
                           f"<pdfEtiquette>{{label{rank}}}</pdfEtiquette>"
                           f"<serviceName>AM2-NO</serviceName><skybillNumber>{number}</skybillNumber>"
                           f"</resultMultiParcelValue>")
        if self.one_document_next:
            self.one_document_next = False
            documents = [b"".join(documents)] + [b""] * (len(documents) - 1)
        filled = [r.replace(f"{{label{i}}}", base64.b64encode(d).decode())
                  for i, (r, d) in enumerate(zip(results, documents, strict=True), start=1)]
        return self.answer("shipping", "shippingMultiParcelV5",
                           "<errorCode>0</errorCode><errorMessage></errorMessage>" + "".join(filled))

    def label(self, mode: str, number: str, recipient: etree._Element, rank: int, count: int) -> bytes:
        if mode == "PDF":
            return PDF_LABEL
        name, contact = recipient.findtext("recipientName"), recipient.findtext("recipientContactName") or ""
        lines = [name, contact if contact != name else "",
                 recipient.findtext("recipientAdress1"), recipient.findtext("recipientAdress2") or "",
                 f"{recipient.findtext('recipientZipCode')} {recipient.findtext('recipientCity')}",
                 recipient.findtext("recipientCountry")]
        scale = 1.5 if mode == "ZPL300" else 1.0
        parts = [f"^XA^CI28^PW{int(812 * scale)}^LL{int(1218 * scale)}"]
        y = 40
        for line in (v for v in lines if v):
            parts.append(f"^FO40,{int(y * scale)}^A0N,{int(32 * scale)},{int(32 * scale)}^FH^FD{zpl_text(line)}^FS")
            y += 44
        parts.append(f"^FO40,{int(340 * scale)}^A0N,{int(40 * scale)},{int(40 * scale)}^FH^FD{rank}/{count}^FS")
        parts.append(f"^FO40,{int(420 * scale)}^BY{3 if scale == 1 else 4}^BCN,{int(200 * scale)},Y,N,N"
                     f"^FD{number}^FS^XZ")
        return "".join(parts).encode("ascii")

    # --- tracking ----------------------------------------------------------------------------------------------
    def op_trackSkybillV2(self, operation: etree._Element, values: dict[str, Any]) -> Response:
        number = operation.findtext("skybillNumber")
        skybill = self.skybills.get(number)
        if skybill is None:
            return self.answer("tracking", "trackSkybillV2", "<errorCode>0</errorCode>")
        events = "".join(
            f"<events><code>{code}</code><eventDate>{at.isoformat()}</eventDate><eventLabel>{escape(label)}"
            f"</eventLabel><highPriority>false</highPriority><NPC></NPC><officeLabel>{escape(office)}"
            f"</officeLabel><zipCode></zipCode></events>"
            for code, at, label, office in skybill.events
        )
        return self.answer("tracking", "trackSkybillV2", f"<errorCode>0</errorCode><listEventInfoComp>{events}"
                                                         f"<skybillNumber>{number}</skybillNumber></listEventInfoComp>")

    def op_cancelSkybill(self, operation: etree._Element, values: dict[str, Any]) -> Response:
        account, number = operation.findtext("accountNumber"), operation.findtext("skybillNumber")
        if not self._authorised(account, operation.findtext("password")):
            code, message = 3, "invalid account or password"
        elif (skybill := self.skybills.get(number)) is None or skybill.account != account:
            code, message = 2, "the parcel doesn't match account or parcel information not found"
        elif skybill.cancelled or len(skybill.events) > 1:
            code, message = 4, "the parcel cannot be cancelled: already taken over or cancelled"
        else:
            skybill.cancelled = True
            code, message = 0, ""
        return self.answer("tracking", "cancelSkybill",
                           f"<errorCode>{code}</errorCode><errorMessage>{escape(message)}</errorMessage>"
                           f"<statusCode>{0 if code else 1}</statusCode>")

    def add_event(self, number: str, code: str, label: str, office: str = "PARIS CHRONOPOST",
                  at: dt.datetime | None = None) -> None:
        skybill = self.skybills[number]
        last = skybill.events[-1][1]
        skybill.events.append((code, at or last + dt.timedelta(hours=len(skybill.events)), label, office))

    # --- relay points ------------------------------------------------------------------------------------------
    def _point_xml(self, point: Point) -> str:
        days = "".join(
            f"<listeHoraireOuverture><horairesAsString>{' '.join(f'{a}-{b}' for a, b in spans)}</horairesAsString>"
            f"<jour>{day}</jour>" + "".join(f"<listeHoraireOuverture><debut>{a}</debut><fin>{b}</fin>"
                                           f"</listeHoraireOuverture>" for a, b in spans)
            + "</listeHoraireOuverture>"
            for day, spans in sorted(point.hours.items())
        )
        closed = ""
        if point.closed:
            closed = (f"<listePeriodeFermeture><calendarDeDebut>{point.closed[0].isoformat()}</calendarDeDebut>"
                      f"<calendarDeFin>{point.closed[1].isoformat()}</calendarDeFin><numero>1</numero>"
                      f"</listePeriodeFermeture>")
        return (f"<listePointRelais><accesPersonneMobiliteReduite>false</accesPersonneMobiliteReduite>"
                f"<actif>{str(point.actif).lower()}</actif><adresse1>{escape(point.adresse1)}</adresse1>"
                f"<codePays>{point.pays}</codePays><codePostal>{point.code_postal}</codePostal>"
                f"<coordGeolocalisationLatitude>48.85</coordGeolocalisationLatitude>"
                f"<coordGeolocalisationLongitude>2.35</coordGeolocalisationLongitude>"
                f"<distanceEnMetre>{point.distance}</distanceEnMetre><identifiant>{point.identifiant}</identifiant>"
                f"{days}{closed}<localite>{escape(point.localite)}</localite><nom>{escape(point.nom)}</nom>"
                f"<poidsMaxi>{point.poids_maxi}</poidsMaxi><typeDePoint>P</typeDePoint></listePointRelais>")

    def op_recherchePointChronopost(self, operation: etree._Element, values: dict[str, Any]) -> Response:
        if not self._authorised(operation.findtext("accountNumber"), operation.findtext("password")):
            return self.answer("relay", "recherchePointChronopost",
                               "<errorCode>3</errorCode><errorMessage>invalid account or password</errorMessage>"
                               "<qualiteReponse>0</qualiteReponse>")
        zipcode, limit = operation.findtext("zipCode"), int(operation.findtext("maxPointChronopost"))
        found = sorted((p for p in self.points.values() if p.code_postal[:2] == zipcode[:2]),
                       key=lambda p: p.distance)[:limit]
        return self.answer("relay", "recherchePointChronopost",
                           "<errorCode>0</errorCode><errorMessage>Code retour OK</errorMessage>" + "".join(self._point_xml(p) for p in found)
                           + "<qualiteReponse>1</qualiteReponse>")

    def op_rechercheDetailPointChronopost(self, operation: etree._Element, values: dict[str, Any]) -> Response:
        if not self._authorised(operation.findtext("accountNumber"), operation.findtext("password")):
            return self.answer("relay", "rechercheDetailPointChronopost",
                               "<errorCode>3</errorCode><errorMessage>invalid account or password</errorMessage>"
                               "<qualiteReponse>0</qualiteReponse>")
        point = self.points.get(operation.findtext("identifiant"))
        inner = self._point_xml(point) if point else ""
        return self.answer("relay", "rechercheDetailPointChronopost",
                           f"<errorCode>0</errorCode>{inner}<qualiteReponse>{1 if point else 0}</qualiteReponse>")
