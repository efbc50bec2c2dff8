"""Mondial Relay as the WMS sees it: the SOAP Web_Services.asmx (WSI4_PointRelais_Recherche,
WSI2_TracingColisDetaille) and the Shipment API (POST /api/shipment, XML), written from the carrier's published
documentation (see wms/shipping/mondial_relay/__init__.py for the documents).

- SOAP: GET /Web_Services.asmx?WSDL serves schemas/mondial_relay/Web_Services.wsdl (its address pointed here);
  a POST's envelope is parsed with defusedxml and its body validated against the WSDL's schema (lxml); a body
  that breaks it is a violation, answered as the documented SOAP fault (HTTP 500, soap:Client). The Security
  MD5 is checked (STAT 97), the Enseigne too (STAT 1). Relay points come from `points`; an unknown city or
  postcode answers STAT 9. `next_stat` forces the STAT of the next SOAP answer.
- Shipment API: the body is validated against schemas/mondial_relay/shipment_request.xsd; a violation is
  recorded and answered with Status 99998 (XML parse error), as documented. Login/password (10001), customer
  id (10005), modes (10024/10027), multi-parcel outside 24L/LD1/LDS (10070), the relay point (10073),
  ParcelCount (10065), weight (10034), a postcode with no transport plan (10056) and a missing phone for home
  delivery (10085) answer their documented Status. A success answers ShipmentNumber and one Label per parcel
  with the ZPL base64 in Output; the ZPL (built here with ^CI28 and ^FH escapes) prints the recipient as sent,
  the parcel's rank (1/2) and a Code 128 of the shipment number.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as safe_xml
from flask import Flask, Response, request
from lxml import etree

from tests.standins.base import StandIn

SCHEMAS = Path(__file__).parent / "schemas" / "mondial_relay"
MR = "http://www.mondialrelay.fr/webservice/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
REQ = "http://www.example.org/Request"
RESP = "http://www.example.org/Response"
WSI4_ORDER = ("Enseigne", "Pays", "NumPointRelais", "Ville", "CP", "Latitude", "Longitude", "Taille", "Poids",
              "Action", "DelaiEnvoi", "RayonRecherche", "TypeActivite", "NACE", "NombreResultats")
WSI2_ORDER = ("Enseigne", "Expedition", "Langue")
DAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
WEEK = {d: ("0900", "1230", "1400", "1900") for d in DAYS[:6]} | {"Dimanche": ("0000", "0000", "0000", "0000")}


@dataclass
class Point:
    num: str
    name: str
    street: str
    cp: str
    city: str
    country: str = "FR"
    distance: int = 100
    activity: str = "000"
    hours: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(WEEK))
    closures: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    max_grams: int = 30_000


@dataclass
class Parcel:
    number: str
    mode: str
    weight: int
    events: list[tuple[str, str, str, str]] = field(default_factory=list)  # Libelle, Date, Heure, Emplacement
    stat: str = "80"


def _schema_of_wsdl() -> etree.XMLSchema:
    wsdl = etree.parse(str(SCHEMAS / "Web_Services.wsdl"))
    schema = wsdl.find(".//{http://www.w3.org/2001/XMLSchema}schema")
    return etree.XMLSchema(etree.fromstring(etree.tostring(schema)))


class MondialRelayStandIn(StandIn):
    platform = "mondial_relay"

    def __init__(self, *, enseigne: str = "BDTEST  ", private_key: str = "PrivateK", login: str = "BDTEST@business-api.mondialrelay.com",
                 password: str = "secret", customer_id: str = "BDTEST") -> None:
        self.enseigne, self.private_key = enseigne, private_key
        self.login, self.password, self.customer_id = login, password, customer_id
        self.soap_schema = _schema_of_wsdl()
        self.shipment_schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "shipment_request.xsd")))
        self.points: dict[str, Point] = {}
        self.parcels: dict[str, Parcel] = {}
        self.requests_xml: list[etree._Element] = []
        self.no_transport_plan = {"00000"}
        self.next_stat: str | None = None
        self._numbers = itertools.count(40_000_001)
        super().__init__()

    # --- routes ------------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        app.add_url_rule("/Web_Services.asmx", "wsdl", self._wsdl, methods=["GET"])
        app.add_url_rule("/Web_Services.asmx", "soap", self._soap, methods=["POST"])
        app.add_url_rule("/api/shipment", "shipment", self._shipment, methods=["POST"])

    def _wsdl(self) -> Response:
        text = (SCHEMAS / "Web_Services.wsdl").read_text().replace(
            "https://api.mondialrelay.com/Web_Services.asmx", f"{self.url}/Web_Services.asmx")
        return Response(text, content_type="text/xml; charset=utf-8")

    # --- SOAP --------------------------------------------------------------------------------------------
    def _soap(self) -> Response:
        raw = request.get_data()
        try:
            safe_xml.fromstring(raw)  # refuses entities and DTD tricks before lxml sees the document
            envelope = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
        except Exception as exc:  # noqa: BLE001 - any unreadable envelope is the client's fault
            self.violation(f"not a readable SOAP envelope: {exc}")
            return self._fault("soap:Client", "Server was unable to read request.")
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        operation = body[0] if body is not None and len(body) else None
        if operation is None or not self.soap_schema.validate(etree.ElementTree(operation)):
            errors = [str(e.message) for e in self.soap_schema.error_log] or ["no operation in the Body"]
            for e in errors:
                self.violation(e)
            return self._fault("soap:Client", "Server was unable to read request. " + "; ".join(errors))
        name = etree.QName(operation).localname
        params = {etree.QName(c).localname: (c.text or "") for c in operation}
        order = WSI4_ORDER if name == "WSI4_PointRelais_Recherche" else WSI2_ORDER
        signed = "".join(params.get(k, "") for k in order) + self.private_key
        expected = hashlib.md5(signed.encode("iso-8859-1"), usedforsecurity=False).hexdigest().upper()
        forced, self.next_stat = self.next_stat, None
        if forced:
            result = self._result(name, forced)
        elif params.get("Enseigne") != self.enseigne:
            result = self._result(name, "1")
        elif params.get("Security") != expected:
            result = self._result(name, "97")
        elif name == "WSI4_PointRelais_Recherche":
            result = self._search(params)
        else:
            result = self._tracing(params)
        return self._envelope(name, result)

    def _result(self, operation: str, stat: str) -> etree._Element:
        result = etree.Element(f"{{{MR}}}{operation}Result")
        etree.SubElement(result, f"{{{MR}}}STAT").text = stat
        return result

    def _search(self, p: dict[str, str]) -> etree._Element:
        if p.get("NumPointRelais"):
            found = [pt for pt in self.points.values() if pt.num == p["NumPointRelais"] and pt.country == p["Pays"]]
        else:
            cp = p.get("CP", "")
            if not cp and not p.get("Ville"):
                return self._result("WSI4_PointRelais_Recherche", "40")
            found = [pt for pt in self.points.values()
                     if pt.country == p["Pays"] and pt.cp[:2] == cp[:2]]
            if not found:
                return self._result("WSI4_PointRelais_Recherche", "9")
            weight = int(p["Poids"]) if p.get("Poids") else 0
            found = sorted((pt for pt in found if pt.max_grams >= weight), key=lambda pt: pt.distance)
            found = found[: int(p.get("NombreResultats") or 10)]
        result = self._result("WSI4_PointRelais_Recherche", "0")
        points = etree.SubElement(result, f"{{{MR}}}PointsRelais")
        for pt in found:
            d = etree.SubElement(points, f"{{{MR}}}PointRelais_Details")
            for tag, text in (("STAT", "0"), ("Num", pt.num), ("LgAdr1", pt.name), ("LgAdr2", ""),
                              ("LgAdr3", pt.street), ("LgAdr4", ""), ("CP", pt.cp), ("Ville", pt.city),
                              ("Pays", pt.country), ("Latitude", "48,8711706"), ("Longitude", "02,3602504"),
                              ("TypeActivite", pt.activity)):
                etree.SubElement(d, f"{{{MR}}}{tag}").text = text
            for day in DAYS:
                block = etree.SubElement(d, f"{{{MR}}}Horaires_{day}")
                for value in pt.hours.get(day, ("0000",) * 4):
                    etree.SubElement(block, f"{{{MR}}}string").text = value
            dispo = etree.SubElement(d, f"{{{MR}}}Informations_Dispo")
            for start, end in pt.closures:
                period = etree.SubElement(dispo, f"{{{MR}}}Periode")
                etree.SubElement(period, f"{{{MR}}}Debut").text = f"{start:%Y-%m-%d}T00:00:00"
                etree.SubElement(period, f"{{{MR}}}Fin").text = f"{end:%Y-%m-%d}T00:00:00"
            etree.SubElement(d, f"{{{MR}}}Distance").text = str(pt.distance)
        return result

    def _tracing(self, p: dict[str, str]) -> etree._Element:
        parcel = self.parcels.get(p["Expedition"])
        if parcel is None:
            return self._result("WSI2_TracingColisDetaille", "94")
        result = self._result("WSI2_TracingColisDetaille", parcel.stat)
        etree.SubElement(result, f"{{{MR}}}Libelle01").text = "Suivi de votre colis"
        tracing = etree.SubElement(result, f"{{{MR}}}Tracing")
        for libelle, date, time, place in [*parcel.events, ("", "", "", "")]:  # the service pads with a blank line
            line = etree.SubElement(tracing, f"{{{MR}}}ret_WSI2_sub_TracingColisDetaille")
            for tag, text in (("Libelle", libelle), ("Date", date), ("Heure", time), ("Emplacement", place)):
                etree.SubElement(line, f"{{{MR}}}{tag}").text = text
        return result

    def _envelope(self, operation: str, result: etree._Element) -> Response:
        env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
        answer = etree.SubElement(etree.SubElement(env, f"{{{SOAP_ENV}}}Body"), f"{{{MR}}}{operation}Response",
                                  nsmap={None: MR})
        answer.append(result)
        return Response(etree.tostring(env, xml_declaration=True, encoding="utf-8"),
                        content_type="text/xml; charset=utf-8")

    def _fault(self, code: str, text: str) -> Response:
        env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
        fault = etree.SubElement(etree.SubElement(env, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
        etree.SubElement(fault, "faultcode").text = code
        etree.SubElement(fault, "faultstring").text = text
        return Response(etree.tostring(env), status=500, content_type="text/xml; charset=utf-8")

    # --- Shipment API ------------------------------------------------------------------------------------
    def _shipment(self) -> Response:
        raw = request.get_data()
        try:
            safe_xml.fromstring(raw)
            doc = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
        except Exception as exc:  # noqa: BLE001
            self.violation(f"not well-formed XML: {exc}")
            return self._statuses([("10061", "Error", "Not Well-formed XML request.")])
        self.requests_xml.append(doc)
        if not self.shipment_schema.validate(etree.ElementTree(doc)):
            errors = [str(e.message) for e in self.shipment_schema.error_log]
            for e in errors:
                self.violation(e)
            return self._statuses([("99998", "Error", "XML Parse error: " + "; ".join(errors))])
        ctx = {etree.QName(c).localname: c.text or "" for c in doc.find(f"{{{REQ}}}Context")}
        if (ctx["Login"], ctx["Password"]) != (self.login, self.password):
            return self._statuses([("10001", "Critical Error", "Invalid user and/or password.")])
        if ctx["CustomerId"] != self.customer_id:
            return self._statuses([("10005", "Critical Error", "Unknown customer Id.")])
        statuses: list[tuple[str, str, str]] = []
        options = doc.find(f"{{{REQ}}}OutputOptions")
        if options.findtext(f"{{{REQ}}}OutputFormat") != "Generic_ZPL_10x15_200dpi":
            statuses.append(("10008", "Warning", "Unknown outputFormat. Statement ignored."))
        shipment = doc.find(f"{{{REQ}}}ShipmentsList/{{{REQ}}}Shipment")
        error = self._refusal(shipment)
        if error:
            return self._statuses([*statuses, error])
        return self._created(shipment, statuses)

    def _refusal(self, s: etree._Element) -> tuple[str, str, str] | None:
        delivery, collection = s.find(f"{{{REQ}}}DeliveryMode"), s.find(f"{{{REQ}}}CollectionMode")
        mode, location = delivery.get("Mode"), delivery.get("Location", "")
        parcels = s.findall(f"{{{REQ}}}Parcels/{{{REQ}}}Parcel")
        count = int(s.findtext(f"{{{REQ}}}ParcelCount"))
        recipient = s.find(f"{{{REQ}}}Recipient/{{{REQ}}}Address")
        if mode not in ("24R", "24L", "24X", "HOM", "LD1", "LDS", "LCC"):
            return ("10024", "Error", "Invalid delivery mode defined in the request.")
        if collection.get("Mode") not in ("CCC", "REL"):
            return ("10027", "Error", "Invalid Collection Mode defined in the request.")
        if count != len(parcels):
            return ("10065", "Error", "The number of parcel elements is different from the parcelCount defined "
                                      "in the shipment.")
        if count > 1 and mode not in ("24L", "LD1", "LDS"):
            return ("10070", "Error", "Multi parcels forbidden for this product code.")
        weights = [float(p.find(f"{{{REQ}}}Weight").get("Value")) for p in parcels]
        if any(w < 10 for w in weights):
            return ("10034", "Error", "Invalid weight.")
        if mode in ("24R", "24L", "24X"):
            country, _, num = location.partition("-")
            point = self.points.get(num)
            if point is None or point.country != country:
                return ("10073", "Error", "Location not allowed for this shipment.")
            if any(w > point.max_grams for w in weights):
                return ("10034", "Error", "Invalid weight.")
        if mode in ("HOM", "LD1", "LDS") and not recipient.findtext(f"{{{REQ}}}PhoneNo"):
            return ("10085", "Error", "A Mandatory phone number is missing")
        if recipient.findtext(f"{{{REQ}}}PostCode") in self.no_transport_plan:
            return ("10056", "Error", "Unable to determine transportation plan for this receiver address.")
        return None

    def _created(self, s: etree._Element, statuses: list[tuple[str, str, str]]) -> Response:
        number = f"{next(self._numbers):08d}"
        parcels = s.findall(f"{{{REQ}}}Parcels/{{{REQ}}}Parcel")
        mode = s.find(f"{{{REQ}}}DeliveryMode").get("Mode")
        self.parcels[number] = Parcel(number, mode, sum(int(float(p.find(f"{{{REQ}}}Weight").get("Value")))
                                                        for p in parcels))
        recipient = {etree.QName(c).localname: c.text or "" for c in s.find(f"{{{REQ}}}Recipient/{{{REQ}}}Address")}
        root = etree.Element(f"{{{RESP}}}ShipmentCreationResponse", nsmap={None: RESP})
        status_list = etree.SubElement(root, f"{{{RESP}}}StatusList")
        for code, level, message in statuses:
            etree.SubElement(status_list, f"{{{RESP}}}Status", Code=code, Level=level, Message=message)
        shipment = etree.SubElement(etree.SubElement(root, f"{{{RESP}}}ShipmentsList"), f"{{{RESP}}}Shipment",
                                    ShipmentNumber=number)
        labels = etree.SubElement(shipment, f"{{{RESP}}}LabelList")
        for index in range(1, len(parcels) + 1):
            label = etree.SubElement(labels, f"{{{RESP}}}Label")
            zpl = self.label_zpl(number, recipient, index, len(parcels), mode)
            etree.SubElement(label, f"{{{RESP}}}Output").text = base64.b64encode(zpl.encode("ascii")).decode()
            raw = etree.SubElement(label, f"{{{RESP}}}RawContent")
            barcodes = etree.SubElement(raw, f"{{{RESP}}}Barcodes")
            etree.SubElement(barcodes, f"{{{RESP}}}Barcode", Type="code128", Value=number, DisplayedValue=number)
        return Response(etree.tostring(root, xml_declaration=True, encoding="utf-8"),
                        content_type="application/xml; charset=utf-8")

    def _statuses(self, statuses: list[tuple[str, str, str]]) -> Response:
        root = etree.Element(f"{{{RESP}}}ShipmentCreationResponse", nsmap={None: RESP})
        status_list = etree.SubElement(root, f"{{{RESP}}}StatusList")
        for code, level, message in statuses:
            etree.SubElement(status_list, f"{{{RESP}}}Status", Code=code, Level=level, Message=message)
        return Response(etree.tostring(root, xml_declaration=True, encoding="utf-8"),
                        content_type="application/xml; charset=utf-8")

    @staticmethod
    def label_zpl(number: str, recipient: dict[str, str], index: int, count: int, mode: str) -> str:
        def fh(text: str) -> str:
            return "".join(chr(b) if 32 <= b < 127 and chr(b) not in "_^~" else f"_{b:02X}"
                           for b in text.encode("utf-8"))
        lines = [recipient.get("Lastname", ""), recipient.get("Streetname", ""),
                 f"{recipient.get('PostCode', '')} {recipient.get('City', '')}", f"{mode} {index}/{count}"]
        fields = "".join(f"^FO40,{40 + 50 * i}^A0N,36,36^FH^FD{fh(t)}^FS" for i, t in enumerate(lines))
        return (f"^XA^CI28^PW812^LL1218{fields}^FO60,300^BY3^BCN,200,Y,N,N^FD{number}^FS"
                f"^FO40,560^A0N,30,30^FDColis {index}/{count}^FS^XZ\n")

    # --- test helpers ------------------------------------------------------------------------------------
    def add_event(self, number: str, libelle: str, when: dt.datetime, place: str = "", stat: str | None = None) -> None:
        parcel = self.parcels[number]
        parcel.events.append((libelle, f"{when:%d/%m/%y}", f"{when:%H:%M}", place))
        if stat:
            parcel.stat = stat
