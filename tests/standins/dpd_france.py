"""Stand-in for DPD France: the EPrint SOAP web service (eprintwebservice.asmx) and the Pickup relay search
(mypudo.asmx GetPudoList / GetPudoDetails), on 127.0.0.1.

Written from the structures the EPrint WSDL publishes (schemas/dpd_france/eprint.xsd says where they were read)
and the mypudo query parameters and answer elements. It serves its WSDL at `?WSDL` (the XSD embedded, SOAP 1.1
document/literal), parses each envelope with defusedxml, validates the body against the XSD with lxml, checks
the UserCredentials header and the contract, and answers SOAP faults for what it refuses. A request the XSD
refuses is recorded in `violations` and answered with a Client fault, as an ASMX service does.

The fault wording is the stand-in's: DPD does not publish its fault strings. The adapter must only depend on
the fault's presence, its code (Client/Server) and carry the text to the packer.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape

import defusedxml.ElementTree as safe_xml
from flask import Flask, Response, request
from lxml import etree

from tests.standins.base import SCHEMAS, StandIn

NS = "http://www.cargonet.software"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSD_PATH = SCHEMAS / "dpd_france" / "eprint.xsd"
OPERATIONS = ("CreateShipmentWithLabels", "CreateMultiShipment", "GetLabel", "CreateReverseInverseShipmentWithLabels")
USERID, PASSWORD = "wms-test", "s3cret"
# P64240's announced closure, ahead of whatever day the tests run
HOLIDAY = (date.today() + timedelta(days=20), date.today() + timedelta(days=30))
COUNTRY, CENTER = "250", "19"

FAULT_AUTH = "Authentification impossible : identifiant ou mot de passe incorrect"
FAULT_ZIP = "Le code postal du destinataire est invalide"
FAULT_RELAY = "Le relais Pickup {id} est inconnu ou fermé"
FAULT_SERVICE = "Le service {service} n'est pas ouvert sur le contrat {number}"


@dataclass
class Contract:
    number: str
    services: frozenset[str]            # "classic", "predict", "relais", "reverse"


@dataclass
class Pudo:
    id: str
    name: str
    street: str
    zip_code: str
    city: str
    hours: tuple[tuple[int, str, str], ...] = ((1, "09:00", "12:00"), (1, "14:00", "19:00"), (2, "09:00", "19:00"),
                                              (3, "09:00", "19:00"), (4, "09:00", "19:00"), (5, "09:00", "19:00"),
                                              (6, "09:00", "12:30"))
    holidays: tuple[tuple[str, str], ...] = ()
    available: str = "full"
    distance: int = 350
    latitude: str = "45,764043"
    longitude: str = "4,835659"


def _wsdl(location: str) -> str:
    schema = XSD_PATH.read_text(encoding="utf-8").split("?>", 1)[1]
    messages, ports, bindings = [], [], []
    for op in OPERATIONS:
        messages.append(
            f'<wsdl:message name="{op}SoapIn"><wsdl:part name="parameters" element="tns:{op}"/></wsdl:message>'
            f'<wsdl:message name="{op}SoapOut"><wsdl:part name="parameters" element="tns:{op}Response"/>'
            f'</wsdl:message><wsdl:message name="{op}UserCredentials">'
            f'<wsdl:part name="UserCredentials" element="tns:UserCredentials"/></wsdl:message>'
        )
        ports.append(f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}SoapIn"/>'
                     f'<wsdl:output message="tns:{op}SoapOut"/></wsdl:operation>')
        bindings.append(
            f'<wsdl:operation name="{op}"><soap:operation soapAction="{NS}/{op}" style="document"/>'
            f'<wsdl:input><soap:body use="literal"/>'
            f'<soap:header message="tns:{op}UserCredentials" part="UserCredentials" use="literal"/></wsdl:input>'
            f'<wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:s="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:tns="{NS}" targetNamespace="{NS}">'
        f"<wsdl:types>{schema}</wsdl:types>{''.join(messages)}"
        f'<wsdl:portType name="EPrintWebServiceSoap">{"".join(ports)}</wsdl:portType>'
        '<wsdl:binding name="EPrintWebServiceSoap" type="tns:EPrintWebServiceSoap">'
        '<soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>'
        f'{"".join(bindings)}</wsdl:binding>'
        '<wsdl:service name="EPrintWebService"><wsdl:port name="EPrintWebServiceSoap" '
        f'binding="tns:EPrintWebServiceSoap"><soap:address location="{escape(location)}"/></wsdl:port>'
        "</wsdl:service></wsdl:definitions>"
    )


def _fh(text: str) -> str:
    """^FH escaping of every byte that is not plain ASCII text (DPD's labels use ^CI28, UTF-8)."""
    out = []
    for ch in text:
        if ch.isascii() and ch.isprintable() and ch not in "^~_":
            out.append(ch)
        else:
            out.extend(f"_{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def label_zpl(parcel_number: str, receiver: dict[str, str], service: str, index: int, count: int) -> str:
    """A 4x6 label as the stand-in prints it: receiver block, service, parcel i/n, Code 128 of the parcel number."""
    lines = [receiver.get("name", ""), receiver.get("street", ""),
             f"{receiver.get('zipCode', '')} {receiver.get('city', '')}", receiver.get("countryPrefix", "")]
    fields = "".join(f"^FO40,{60 + 40 * i}^A0N,32,32^FH^FD{_fh(text)}^FS" for i, text in enumerate(lines))
    return (
        "^XA^CI28^PW812^LL1218"
        f"{fields}^FO40,260^A0N,40,40^FH^FD{_fh(service.upper())}^FS"
        f"^FO600,260^A0N,40,40^FD{index}/{count}^FS"
        f"^FO60,400^BY3^BCN,200,Y,N,N^FD{parcel_number}^FS^XZ"
    )


class DpdFranceStandIn(StandIn):
    platform = "dpd_france"

    def __init__(self) -> None:
        self.schema = etree.XMLSchema(etree.parse(str(XSD_PATH)))
        self.contracts: dict[str, Contract] = {
            "123456": Contract("123456", frozenset({"classic", "reverse"})),
            "654321": Contract("654321", frozenset({"predict", "relais"})),
        }
        self.pudos: dict[str, Pudo] = {
            "P22895": Pudo("P22895", "Tabac de la Croix-Rousse", "12 Bd de la Croix-Rousse", "69004", "Lyon"),
            "P64240": Pudo("P64240", "Épicerie Saint-Jean", "3 Rue Saint-Jean", "69005", "Lyon", distance=1200,
                           holidays=((f"{HOLIDAY[0]:%d/%m/%Y}", f"{HOLIDAY[1]:%d/%m/%Y}"),)),
        }
        self.shipments: dict[str, dict[str, object]] = {}
        self.label_format_seen: list[str] = []
        self.fail_get_label = 0          # the next GetLabel calls answer a Server fault
        self._numbers = itertools.count(25019000000001)
        super().__init__()

    # --- routes ----------------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        app.add_url_rule("/eprintwebservice.asmx", "wsdl", self._get_wsdl, methods=["GET"])
        app.add_url_rule("/eprintwebservice.asmx", "soap", self._soap, methods=["POST"])
        app.add_url_rule("/mypudo/mypudo.asmx/GetPudoList", "pudo_list", self._pudo_list, methods=["GET"])
        app.add_url_rule("/mypudo/mypudo.asmx/GetPudoDetails", "pudo_details", self._pudo_details, methods=["GET"])

    @property
    def eprint_url(self) -> str:
        return f"{self.url}/eprintwebservice.asmx"

    @property
    def pudo_url(self) -> str:
        return f"{self.url}/mypudo/mypudo.asmx"

    def _get_wsdl(self) -> Response:
        if "wsdl" not in {k.lower() for k in request.args}:
            return Response("Use ?WSDL", status=400)
        return Response(_wsdl(self.eprint_url), content_type="text/xml; charset=utf-8")

    # --- SOAP ------------------------------------------------------------------------------------------------
    def _soap(self) -> Response:
        raw = request.get_data()
        try:
            safe_xml.fromstring(raw)  # refuses entities, DTDs: only then parse with lxml for the schema
            envelope = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
        except Exception as exc:  # noqa: BLE001 - whatever is not XML is the client's fault
            self.violation(f"not XML: {exc}")
            return _fault("soap:Client", "Server was unable to read request.")
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        operation = body[0] if body is not None and len(body) else None
        name = etree.QName(operation).localname if operation is not None else ""
        if operation is None or etree.QName(operation).namespace != NS or name not in OPERATIONS:
            self.violation(f"unknown operation {name!r}")
            return _fault("soap:Client", f"Unknown operation {name}")
        action = request.headers.get("SOAPAction", "").strip('"')
        if action != f"{NS}/{name}":
            self.violation(f"SOAPAction {action!r} for {name}")
        if not self.schema.validate(operation):
            for error in self.schema.error_log:
                self.violation(f"{name}: line {error.line}: {error.message}")
            return _fault("soap:Client", "Server was unable to read request. There is an error in XML document.")
        header = envelope.find(f"{{{SOAP_ENV}}}Header/{{{NS}}}UserCredentials")
        if header is None:
            self.violation("no UserCredentials header")
            return _fault("soap:Client", FAULT_AUTH)
        if (_text(header, "userid"), _text(header, "password")) != (USERID, PASSWORD):
            return _fault("soap:Client", FAULT_AUTH)
        req = operation.find(f"{{{NS}}}request")
        return getattr(self, f"_op_{name}")(req)

    def _customer(self, req: etree._Element, service: str) -> Response | None:
        number = _text(req, "customer_number")
        contract = self.contracts.get(number)
        if (_text(req, "customer_countrycode"), _text(req, "customer_centernumber")) != (COUNTRY, CENTER) \
                or contract is None:
            return _fault("soap:Client", f"Contrat {number} inconnu pour le centre {CENTER}")
        if service not in contract.services:
            return _fault("soap:Client", FAULT_SERVICE.format(service=service, number=number))
        return None

    def _address_refusal(self, address: dict[str, str]) -> Response | None:
        zip_code = address.get("zipCode", "")
        if address.get("countryPrefix") == "FR" and not (len(zip_code) == 5 and zip_code.isdigit()
                                                          and not zip_code.startswith("00")):
            return _fault("soap:Client", FAULT_ZIP)
        return None

    def _new_shipment(self, receiver: dict[str, str], service: str, index: int, count: int,
                      label_type: str) -> tuple[str, str]:
        number = str(next(self._numbers))
        self.shipments[number] = {"receiver": receiver, "service": service, "index": index, "count": count}
        return number, self._label(number, label_type)

    def _label(self, number: str, label_type: str) -> str:
        self.label_format_seen.append(label_type)
        s = self.shipments[number]
        if label_type.startswith("PDF"):
            return base64.b64encode(_pdf(number)).decode()
        zpl = label_zpl(number, s["receiver"], s["service"], s["index"], s["count"])  # type: ignore[arg-type]
        return base64.b64encode(zpl.encode("ascii")).decode()

    def _op_CreateShipmentWithLabels(self, req: etree._Element) -> Response:  # noqa: N802 - the operation's name
        services = req.find(f"{{{NS}}}services")
        shop_id = _text(services, "parcelshop/shopaddress/shopid") if services is not None else ""
        contact = _text(services, "contact/type") if services is not None else ""
        service = "relais" if shop_id else "predict" if contact == "Predict" else "classic"
        refusal = self._customer(req, service)
        if refusal:
            return refusal
        if service == "predict" and not (_text(services, "contact/sms") or _text(services, "contact/email")):
            return _fault("soap:Client", "Predict : le mobile ou l'e-mail du destinataire est obligatoire")
        if shop_id:
            pudo = self.pudos.get(shop_id)
            if pudo is None or pudo.available != "full":
                return _fault("soap:Client", FAULT_RELAY.format(id=shop_id))
            if not (_text(services, "contact/sms") or _text(services, "contact/email")):
                return _fault("soap:Client", "Relais : le mobile ou l'e-mail du destinataire est obligatoire")
        receiver = _fields(req.find(f"{{{NS}}}receiveraddress"))
        refusal = self._address_refusal(receiver)
        if refusal:
            return refusal
        number, label = self._new_shipment(receiver, service, 1, 1, _text(req, "labelType/type") or "Default")
        result = (f"<shipments>{_shipment_xml(number)}</shipments>"
                  f"<labels><Label><type>EPRINT</type><label>{label}</label></Label></labels>")
        return _answer("CreateShipmentWithLabels", result)

    def _op_CreateMultiShipment(self, req: etree._Element) -> Response:  # noqa: N802
        contact = _text(req, "services/contact/type")
        service = "predict" if contact == "Predict" else "classic"
        refusal = self._customer(req, service)
        if refusal:
            return refusal
        receiver = _fields(req.find(f"{{{NS}}}receiveraddress"))
        refusal = self._address_refusal(receiver)
        if refusal:
            return refusal
        slaves = req.findall(f"{{{NS}}}slaves/{{{NS}}}SlaveRequest")
        if len(slaves) < 2:
            return _fault("soap:Client", "Un envoi multi-colis compte au moins deux colis")
        numbers = [self._new_shipment(receiver, service, i, len(slaves), "")[0] for i in range(1, len(slaves) + 1)]
        master = numbers[0]
        result = (f"<mastershipment>{_shipment_fields(master)}</mastershipment>"
                  f"<shipments>{''.join(_shipment_xml(n) for n in numbers)}</shipments>")
        return _answer("CreateMultiShipment", result)

    def _op_GetLabel(self, req: etree._Element) -> Response:  # noqa: N802
        number = _text(req, "parcelnumber")
        with self.lock:
            failing, self.fail_get_label = self.fail_get_label > 0, max(0, self.fail_get_label - 1)
        if failing:
            return _fault("soap:Server", "Erreur interne lors de la génération de l'étiquette")
        if number not in self.shipments:
            return _fault("soap:Client", f"Colis {number} introuvable")
        label = self._label(number, _text(req, "labelType/type") or "Default")
        return _answer("GetLabel", f"<labels><Label><type>EPRINT</type><label>{label}</label></Label></labels>")

    def _op_CreateReverseInverseShipmentWithLabels(self, req: etree._Element) -> Response:  # noqa: N802
        refusal = self._customer(req, "reverse")
        if refusal:
            return refusal
        shipper = _fields(req.find(f"{{{NS}}}shipperaddress"))
        refusal = self._address_refusal(shipper) or self._address_refusal(
            _fields(req.find(f"{{{NS}}}receiveraddress")))
        if refusal:
            return refusal
        receiver = _fields(req.find(f"{{{NS}}}receiveraddress"))
        number, label = self._new_shipment(receiver, "retour", 1, 1, _text(req, "labelType/type") or "Default")
        result = (f"<shipment>{_shipment_fields(number)}</shipment>"
                  f"<labels><Label><type>REVERSE</type><label>{label}</label></Label></labels>")
        return _answer("CreateReverseInverseShipmentWithLabels", result)

    # --- Pickup relay search ---------------------------------------------------------------------------------
    def _pudo_list(self) -> Response:
        args = {k: v for k, v in request.args.items()}
        if self.check("GetPudoList", args):
            return Response("Missing or invalid parameter", status=500, content_type="text/plain")
        if args["key"] != "pudo-key":
            return _pudo_answer(args.get("requestID", ""), [], error="Invalid key")
        near = sorted((p for p in self.pudos.values() if p.zip_code[:2] == args["zipCode"][:2]),
                      key=lambda p: p.distance)[: int(args["max_pudo_number"])]
        return _pudo_answer(args["requestID"], near)

    def _pudo_details(self) -> Response:
        args = {k: v for k, v in request.args.items()}
        if self.check("GetPudoDetails", args):
            return Response("Missing or invalid parameter", status=500, content_type="text/plain")
        if args["key"] != "pudo-key":
            return _pudo_answer("", [], error="Invalid key")
        pudo = self.pudos.get(args["pudo_id"])
        return _pudo_answer("", [pudo] if pudo else [])


def _text(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find("/".join(f"{{{NS}}}{part}" for part in path.split("/")))
    return (found.text or "").strip() if found is not None else ""


def _fields(element: etree._Element | None) -> dict[str, str]:
    if element is None:
        return {}
    return {etree.QName(child).localname: child.text or "" for child in element}


def _shipment_fields(number: str) -> str:
    return (f"<countrycode>{COUNTRY}</countrycode><centernumber>{CENTER}</centernumber>"
            f"<parcelnumber>{number}</parcelnumber><barcode>%0069004{number}250</barcode>")


def _shipment_xml(number: str) -> str:
    return f"<Shipment>{_shipment_fields(number)}</Shipment>"


def _answer(operation: str, result: str) -> Response:
    body = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
            f'<{operation}Response xmlns="{NS}"><{operation}Result>{result}</{operation}Result>'
            f"</{operation}Response></soap:Body></soap:Envelope>")
    return Response(body, content_type="text/xml; charset=utf-8")


def _fault(code: str, text: str) -> Response:
    body = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
            f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{escape(text)}</faultstring>"
            "<detail/></soap:Fault></soap:Body></soap:Envelope>")
    return Response(body, status=500, content_type="text/xml; charset=utf-8")


def _pudo_answer(request_id: str, pudos: list[Pudo], error: str = "") -> Response:
    items = []
    for p in pudos:
        hours = "".join(f"<OPENING_HOURS_ITEM><DAY_ID>{d}</DAY_ID><START_TM>{a}</START_TM><END_TM>{b}</END_TM>"
                        "</OPENING_HOURS_ITEM>" for d, a, b in p.hours)
        holidays = "".join(f"<HOLIDAY_ITEM><START_DTM>{a}</START_DTM><END_DTM>{b}</END_DTM></HOLIDAY_ITEM>"
                           for a, b in p.holidays)
        items.append(
            f"<PUDO_ITEM active=\"true\"><PUDO_ID>{p.id}</PUDO_ID><NAME>{escape(p.name)}</NAME>"
            f"<ADDRESS1>{escape(p.street)}</ADDRESS1><ADDRESS2/><ADDRESS3/><LOCAL_HINT/>"
            f"<ZIPCODE>{p.zip_code}</ZIPCODE><CITY>{escape(p.city)}</CITY><COUNTRY>FR</COUNTRY>"
            f"<LONGITUDE>{p.longitude}</LONGITUDE><LATITUDE>{p.latitude}</LATITUDE>"
            f"<DISTANCE>{p.distance}</DISTANCE><AVAILABLE>{p.available}</AVAILABLE>"
            f"<OPENING_HOURS_ITEMS>{hours}</OPENING_HOURS_ITEMS><HOLIDAY_ITEMS>{holidays}</HOLIDAY_ITEMS>"
            "</PUDO_ITEM>"
        )
    error_xml = f"<ERROR>{escape(error)}</ERROR>" if error else ""
    body = (f'<?xml version="1.0" encoding="utf-8"?><RESPONSE quality="1">{error_xml}'
            f"<REQUEST_ID>{escape(request_id)}</REQUEST_ID><PUDO_ITEMS>{''.join(items)}</PUDO_ITEMS></RESPONSE>")
    return Response(body, content_type="text/xml; charset=utf-8")


def _pdf(number: str) -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
            b"% DPD " + number.encode() + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n")


__all__ = ["HOLIDAY", "PASSWORD", "USERID", "DpdFranceStandIn", "Pudo", "label_zpl"]
