"""La Poste Colissimo as a shipper's adapter sees it: SLS in its REST flavour (SlsServiceWSRest/2.0:
generateLabel, checkGenerateLabel, generateBordereauByParcelsNumbers) and La Poste's tracking API Suivi v2,
written from the Colissimo Shipping Web Service specification, the SLS REST OpenAPI and the Suivi v2 docs.

- Auth: contractNumber + password in the body (wrong: HTTP 400 with message 30000), or the `apiKey` header
  (wrong: HTTP 403, "Token KO"). Suivi: the `X-Okapi-Key` header (wrong: 401).
- Every body is validated against schemas/colissimo/*.json; a request that breaks them is recorded in
  `violations` and answered 422 ("the JSON input is badly formatted").
- Functional errors are HTTP 400 `{"messages": [{"id", "type": "ERROR", "messageContent"}]}` with the
  documented ids: 30000 identifiers, 30002 past deposit date, 30009 product not allowed for the contract, 30015
  unknown product, 30207 addressee country, 30211 addressee postcode, 30213 postcode not served by the product,
  30220 no mobile number for a pickup point, 30400/30401 pickup point missing/unknown, 30500 customs contents
  missing, 30507 articles heavier than the parcel, 30545 sender country cannot send a return, 30321 unknown
  parcel number (bordereau).
- Success: HTTP 200 multipart/related (MTOM/XOP) with the <jsonInfos> part (messages id 0 and
  labelV2Response{parcelNumber, parcelNumberPartner}), the <label> part (ZPL, ^CI28 with ^FH escapes, the
  parcel number as Code 128), and <cn23> (a PDF) when customs were declared; the bordereau answers
  <jsonInfos> (bordereauHeader) and <deliveryPaper> (a PDF).
- PointRetrait REST v2 (findRDVPointRetraitAcheminement, findPointRetraitAcheminementByID): answers
  `{errorCode, errorMessage, qualiteReponse, listePointRetraitAcheminement | pointRetraitAcheminement}` with
  the documented fields (identifiant, nom, adresse1-3, codePostal, localite, codePays, horairesOuvertureLundi..
  Dimanche "HH:MM-HH:MM HH:MM-HH:MM", distanceEnMetre, poidsMaxi, typeDePoint, congesTotal, listeConges);
  errorCode 201 bad identifiers, 124 unknown point id, 300 no point.
- Tests set Suivi events with `add_event`; each label starts with DR1.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from tests.standins.base import StandIn

SLS = "/sls-ws/SlsServiceWSRest/2.0"
POINTS = "/pointretrait-ws-cxf/rest/v2/pointretrait"
CONTRACT, PASSWORD, API_KEY, SUIVI_KEY = "123456", "ws-pass-42", "sls-api-key-1", "okapi-key-1"
PRODUCTS = {"DOM", "DOS", "BPR", "A2P", "COM", "CDS", "COLI", "CORE", "CORI"}
RELAY = {"BPR", "A2P"}
EU = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
      "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "MC"}
COUNTRIES = EU | {"CH", "GB", "NO", "US", "CA", "JP", "AU", "BR", "CN", "MA", "TN", "SN", "AD"}
TEXTS = {
    "0": "La requête a été traitée avec succès",
    "30000": "Identifiant ou mot de passe incorrect",
    "30002": "La date de dépôt est antérieure à la date courante",
    "30009": "Service non autorisé pour ce produit. Veuillez prendre contact avec votre interlocuteur commercial",
    "30015": "Le code produit est incorrect",
    "30207": "Le code pays du destinataire est incorrect",
    "30211": "Le code postal du destinataire est incorrect",
    "30213": "Le code pays ou le code postal du destinataire est incorrect pour le code produit fourni",
    "30220": "Le numéro de portable du destinataire n'a pas été transmis",
    "30321": "Le numéro de colis est incorrect",
    "30400": "Le code point de retrait n'a pas été transmis",
    "30401": "Le code point de retrait est incorrect",
    "30500": "Le contenu du colis n'a pas été transmis",
    "30507": "Le poids total des articles est supérieur au poids du colis",
    "30545": "Le code pays expéditeur ne permet pas d'effectuer un envoi retour",
}
PDF_STUB = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
           b"trailer<</Root 1 0 R>>\n%%EOF\n"


def point(identifiant: str, rank: int) -> dict[str, Any]:
    """A pickup point as PointRetrait describes one (a relay shop in Paris 11e, closed on Sunday)."""
    return {
        "identifiant": identifiant, "nom": f"Relais Pickup Épicerie n°{rank + 1}", "typeDePoint": "A2P",
        "adresse1": f"{10 + rank} rue de la Roquette", "adresse2": "", "adresse3": "",
        "codePostal": "75011", "localite": "PARIS", "codePays": "FR",
        "coordGeolocalisationLatitude": "48.855", "coordGeolocalisationLongitude": "2.375",
        "distanceEnMetre": str(250 * (rank + 1)), "poidsMaxi": "20000",
        "horairesOuvertureLundi": "09:00-12:30 14:00-19:00", "horairesOuvertureMardi": "09:00-12:30 14:00-19:00",
        "horairesOuvertureMercredi": "09:00-12:30 14:00-19:00", "horairesOuvertureJeudi": "09:00-12:30 14:00-19:00",
        "horairesOuvertureVendredi": "09:00-12:30 14:00-19:00", "horairesOuvertureSamedi": "09:00-13:00 00:00-00:00",
        "horairesOuvertureDimanche": "00:00-00:00 00:00-00:00", "congesTotal": False, "listeConges": [],
    }


@dataclass
class Issued:
    number: str
    product: str
    letter: dict[str, Any]
    events: list[dict[str, str]] = field(default_factory=list)


def fh(text: str) -> str:
    """^FH field data: printable ASCII as is, everything else (and ^ ~ _) as _XX of its UTF-8 bytes."""
    return "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in "^~_" else
                   "".join(f"_{b:02X}" for b in ch.encode()) for ch in text)


def s10_check(serial: str) -> str:
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return {10: "0", 11: "5"}.get(check, str(check))


class ColissimoStandIn(StandIn):
    platform = "colissimo"

    def __init__(self, *, allowed_products: set[str] | None = None, pickup_points: set[str] | None = None) -> None:
        self.allowed_products = set(PRODUCTS if allowed_products is None else allowed_products)
        ids = pickup_points or {"012345", "A2P987"}
        self.pickup_points: dict[str, dict[str, Any]] = {i: point(i, n) for n, i in enumerate(sorted(ids))}
        self.issued: dict[str, Issued] = {}
        self.bordereaux: list[list[str]] = []
        self._serial = itertools.count(1)
        self.outage_at_label: int | None = None   # the n-th generateLabel (1-based) answers 503
        self._generated = 0
        super().__init__()

    @property
    def sls_url(self) -> str:
        return self.url + SLS

    @property
    def relay_url(self) -> str:
        return self.url + POINTS

    @property
    def suivi_url(self) -> str:
        return self.url + "/suivi/v2"

    def add_event(self, number: str, code: str, label: str, at: dt.datetime) -> None:
        with self.lock:
            self.issued[number].events.append({"code": code, "label": label, "date": at.isoformat()})

    # --- routes -------------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        app.add_url_rule(f"{SLS}/generateLabel", "generate", lambda: self._label(generate=True), methods=["POST"])
        app.add_url_rule(f"{SLS}/checkGenerateLabel", "check", lambda: self._label(generate=False),
                         methods=["POST"])
        app.add_url_rule(f"{SLS}/generateBordereauByParcelsNumbers", "bordereau", self._bordereau,
                         methods=["POST"])
        app.add_url_rule("/suivi/v2/idships/<idship>", "suivi", self._suivi, methods=["GET"])
        app.add_url_rule(f"{POINTS}/findRDVPointRetraitAcheminement", "points", self._points, methods=["POST"])
        app.add_url_rule(f"{POINTS}/findPointRetraitAcheminementByID", "point", self._point, methods=["POST"])

    def _relay_body(self, schema: str) -> tuple[dict[str, Any] | None, Response | None]:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            self.violation("the body is not JSON")
            return None, self._json({"errorCode": 1000, "errorMessage": "Requête invalide"}, 400)
        if self.check(schema, body):
            return None, self._json({"errorCode": 1000, "errorMessage": "Requête invalide"}, 400)
        if request.headers.get("apiKey") != API_KEY and (body.get("accountNumber"), body.get("password")) != (
                CONTRACT, PASSWORD):
            return None, self._json({"errorCode": 201, "errorMessage": "Identifiant / mot de passe invalide"})
        return body, None

    def _points(self) -> Response:
        body, refusal = self._relay_body("relay_search")
        if refusal is not None:
            return refusal
        assert body is not None
        found = [p for p in self.pickup_points.values() if p["codePays"] == body["countryCode"]
                 and p["codePostal"][:2] == body["zipCode"][:2] and int(p["poidsMaxi"]) >= body["weight"]]
        if not found:
            return self._json({"errorCode": 300, "errorMessage": "Pas de point de retrait suite à l'application "
                               "des règles métier", "qualiteReponse": 0, "listePointRetraitAcheminement": []})
        return self._json({"errorCode": 0, "errorMessage": "Code retour OK", "qualiteReponse": 1,
                           "wsRequestId": str(uuid.uuid4()), "listePointRetraitAcheminement": found})

    def _point(self) -> Response:
        body, refusal = self._relay_body("relay_by_id")
        if refusal is not None:
            return refusal
        assert body is not None
        found = self.pickup_points.get(body["id"])
        if found is None:
            return self._json({"errorCode": 124, "errorMessage": "Identifiant point de retrait incorrect"})
        return self._json({"errorCode": 0, "errorMessage": "Code retour OK", "pointRetraitAcheminement": found})

    def _body(self, schema: str) -> tuple[dict[str, Any] | None, Response | None]:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            self.violation("the body is not JSON")
            return None, self._json({"messages": []}, 422)
        if self.check(schema, body):
            return None, self._json({"messages": []}, 422)
        api_key = request.headers.get("apiKey")
        if api_key is not None:
            if api_key != API_KEY:
                return None, Response("Token KO", status=403, content_type="text/plain")
        elif body.get("contractNumber") != CONTRACT or body.get("password") != PASSWORD:
            return None, self._error("30000")
        return body, None

    def _label(self, *, generate: bool) -> Response:
        body, refusal = self._body("generate_label")
        if refusal is not None:
            return refusal
        assert body is not None
        letter = body["letter"]
        code = self._refusal(letter)
        if code:
            return self._error(code)
        if not generate:
            return self._json({"messages": [self._message("0", "INFOS")], "labelV2Response": None})
        with self.lock:
            self._generated += 1
            outage = self._generated == self.outage_at_label
        if outage:
            return Response("Service Unavailable", status=503, content_type="text/plain")
        product = letter["service"]["productCode"]
        number = self._number(product)
        with self.lock:
            self.issued[number] = Issued(number, product, letter)
        self.add_event(number, "DR1", "Votre Colissimo va bientôt nous être confié !",
                       dt.datetime.now(dt.timezone(dt.timedelta(hours=1))).replace(microsecond=0))
        info = {"messages": [self._message("0", "INFOS")],
                "labelV2Response": {"parcelNumber": number,
                                    "parcelNumberPartner": f"%00{letter['addressee']['address']['zipCode']}"
                                                           f"{number}{product}",
                                    "pdfUrl": None, "fields": None}}
        parts = [("label", "application/octet-stream", self._zpl(number, letter, body["outputFormat"]))]
        if "customsDeclarations" in letter:
            parts.append(("cn23", "application/octet-stream", PDF_STUB))
        return self._multipart(info, parts)

    def _refusal(self, letter: dict[str, Any]) -> str | None:
        service, parcel = letter["service"], letter["parcel"]
        sender, to = letter["sender"]["address"], letter["addressee"]["address"]
        product = service["productCode"]
        if product not in PRODUCTS:
            return "30015"
        if product not in self.allowed_products:
            return "30009"
        if dt.date.fromisoformat(service["depositDate"]) < dt.date.today():
            return "30002"
        if to["countryCode"] not in COUNTRIES:
            return "30207"
        overseas = to["countryCode"] == "FR" and to["zipCode"].startswith(("97", "98"))
        if to["countryCode"] == "FR" and not (to["zipCode"].isdigit() and len(to["zipCode"]) == 5):
            return "30211"
        if (product in {"DOM", "DOS"} and overseas) or (product in {"COM", "CDS"} and not overseas):
            return "30213"
        if product == "CORE" and sender["countryCode"] != "FR" or product == "CORI" and sender["countryCode"] == "FR":
            return "30545"
        if product in RELAY:
            if "pickupLocationId" not in parcel:
                return "30400"
            if parcel["pickupLocationId"] not in self.pickup_points:
                return "30401"
            if not to.get("mobileNumber"):
                return "30220"
        outside = [a["countryCode"] not in EU or a["countryCode"] == "FR" and a["zipCode"].startswith(("97", "98"))
                   for a in (sender, to)]
        if outside[0] != outside[1] or all(outside):
            customs = letter.get("customsDeclarations")
            if not customs:
                return "30500"
            articles = customs["contents"]["article"]
            if sum(a["weight"] * a["quantity"] for a in articles) > parcel["weight"] + 1e-9:
                return "30507"
        return None

    def _number(self, product: str) -> str:
        serial = next(self._serial)
        if product in {"COLI", "CORI"}:
            body = f"{serial:08d}"
            return f"CB{body}{s10_check(body)}FR"
        prefix = {"CORE": "8R", "COM": "7Q", "CDS": "7Q", "BPR": "6H", "A2P": "6H"}.get(product, "6A")
        return f"{prefix}{serial:011d}"

    def _zpl(self, number: str, letter: dict[str, Any], output: dict[str, Any]) -> bytes:
        scale = 300 / 203 if output["outputPrintingType"].endswith("300dpi") else 1.0

        def at(x: int, y: int) -> str:
            return f"^FO{round(x * scale)},{round(y * scale)}"

        def text(x: int, y: int, size: int, value: str) -> str:
            return f"{at(x, y)}^A0N,{round(size * scale)},{round(size * scale)}^FH^FD{fh(value)}^FS"

        sender, to = letter["sender"]["address"], letter["addressee"]["address"]

        def block(address: dict[str, Any]) -> list[str]:
            name = " ".join(p for p in (address.get("firstName"), address["lastName"]) if p)
            lines = [address.get("companyName", ""), name, address["line2"], address.get("line3", ""),
                     f"{address['zipCode']} {address['city']}", address["countryCode"]]
            return [line for line in lines if line]

        out = ["^XA", "^CI28", f"^PW{round(812 * scale)}", f"^LL{round(1218 * scale)}",
               text(30, 30, 40, f"COLISSIMO {letter['service']['productCode']}"),
               text(30, 90, 24, "EXPEDITEUR")]
        out += [text(30, 120 + 28 * i, 24, line) for i, line in enumerate(block(sender))]
        out.append(text(30, 330, 28, "DESTINATAIRE"))
        out += [text(30, 370 + 40 * i, 36, line) for i, line in enumerate(block(to))]
        out.append(text(30, 640, 28, f"Ref: {letter['sender'].get('senderParcelRef', '')}"))
        out.append(text(30, 680, 28, f"Poids: {letter['parcel']['weight']} kg"))
        out.append(f"{at(60, 760)}^BY{4 if scale > 1 else 3}^BCN,{round(220 * scale)},Y,N,N^FD{number}^FS")
        out.append("^XZ")
        return "".join(out).encode("ascii") + b"\n"

    def _bordereau(self) -> Response:
        body, refusal = self._body("generate_bordereau")
        if refusal is not None:
            return refusal
        assert body is not None
        numbers = body["generateBordereauParcelNumberList"]["parcelsNumbers"]
        if any(n not in self.issued for n in numbers):
            return self._error("30321")
        with self.lock:
            self.bordereaux.append(list(numbers))
            bordereau_number = len(self.bordereaux)
        info = {"messages": [self._message("0", "INFOS")],
                "bordereauHeader": {"bordereauNumber": bordereau_number, "numberOfParcels": len(numbers),
                                    "publishingDate": dt.datetime.now().isoformat()}}
        return self._multipart(info, [("deliveryPaper", "application/octet-stream", PDF_STUB)])

    def _suivi(self, idship: str) -> Response:
        if request.headers.get("X-Okapi-Key") != SUIVI_KEY:
            return self._json({"code": "UNAUTHORIZED", "message": "The API key is missing or invalid"}, 401)
        if request.args.get("lang", "fr_FR") not in ("fr_FR", "en_GB"):
            self.violation(f"lang {request.args.get('lang')!r} is not fr_FR or en_GB")
            return self._json({"returnCode": 400, "returnMessage": "lang invalide"}, 400)
        issued = self.issued.get(idship)
        if issued is None:
            return self._json({"returnCode": 404, "returnMessage": "Numéro de suivi inconnu", "lang": "fr_FR",
                               "idShip": idship}, 404)
        events = sorted(issued.events, key=lambda e: e["date"], reverse=True)
        final = bool(events) and events[0]["code"] in ("DI1", "DI2")
        return self._json({"lang": "fr_FR", "scope": "open", "returnCode": 200,
                           "shipment": {"idShip": idship, "holder": 4, "product": "colissimo", "isFinal": final,
                                        "event": events,
                                        "url": f"https://www.laposte.fr/outils/suivre-vos-envois?code={idship}"}})

    # --- answers ---------------------------------------------------------------------------------------------
    @staticmethod
    def _message(code: str, kind: str = "ERROR") -> dict[str, Any]:
        return {"id": code, "type": kind, "messageContent": TEXTS[code], "replacementValues": []}

    def _error(self, code: str) -> Response:
        return self._json({"messages": [self._message(code)], "labelV2Response": None}, 400)

    @staticmethod
    def _json(document: Any, status: int = 200) -> Response:
        return Response(json.dumps(document, ensure_ascii=False), status=status,
                        content_type="application/json;charset=UTF-8")

    @staticmethod
    def _multipart(info: dict[str, Any], parts: list[tuple[str, str, bytes]]) -> Response:
        boundary = f"uuid:{uuid.uuid4()}"
        chunks = [f"--{boundary}\r\nContent-Type: application/json;charset=UTF-8\r\n"
                  f"Content-Transfer-Encoding: binary\r\nContent-ID: <jsonInfos>\r\n\r\n".encode()
                  + json.dumps(info, ensure_ascii=False).encode() + b"\r\n"]
        for content_id, content_type, content in parts:
            chunks.append(f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                          f"Content-ID: <{content_id}>\r\n\r\n".encode() + content + b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode())
        content_type = (f'multipart/related; type="application/json"; boundary="{boundary}"; '
                        f'start="<jsonInfos>"; start-info="application/json"')
        return Response(b"".join(chunks), status=200, content_type=content_type)
