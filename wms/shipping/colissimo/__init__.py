"""Adapter for La Poste Colissimo: the SLS labelling web service (SlsServiceWS version 2.0, in its JSON/REST
flavour SlsServiceWSRest/2.0), the pickup-point web service PointRetrait (REST v2) and La Poste's tracking API
Suivi v2.

Which flavour and why: SLS answers both its SOAP and its REST calls with a multipart/related (MTOM/XOP) body.
The REST flavour was chosen because its request and answer are documented field by field as JSON (the
published OpenAPI of SlsServiceRest: checkGenerateLabel, generateLabel, HTTP 400 functional error, 403 bad
token or inactive account, 422 unreadable JSON, 500 server error) and can be validated as JSON by our
stand-in; the SOAP flavour would need La Poste's WSDL/XSD, of which no copy was at hand to write a stand-in
XSD from. Same methods, same field names (contractNumber, password, outputFormat, letter{service, parcel,
customsDeclarations, sender, addressee}), same message ids.

Documents followed (read through the search tool, no code copied):
- "Colissimo Shipping Web Service - Specifications" (La Poste, technical document, versions of December 2015
  and August 2021): generateLabel / checkGenerateLabel, the product codes (DOM, DOS, BPR, A2P, COM, CDS,
  COLI, CORE, CORI), depositDate, insuranceValue in euro cents, customsDeclarations.contents.article[]
  (description, quantity, weight, value, hsCode, originCountry, currency) and category.value
  (1 gift, 2 sample, 3 sale, 4 documents, 5 other, 6 returned goods), field lengths (35 characters per line).
- The published OpenAPI of SlsServiceRest (checkGenerateLabel, generateLabel, their HTTP statuses).
- The documented list of SLS message ids and texts ("Affranchissement": 30000 wrong identifier or password,
  30007 inactive client, 30008/30009 service not allowed, 30207/30211/30212 addressee country/postcode,
  30400/30401 pickup point, 30500-30554 customs, 40015 service temporarily unavailable, ...) as reproduced
  in the CDI WooCommerce plugin's help and a La Poste SOAP answer quoted on wordpress.org (30207).
  There are no 20000-range codes in that list: input errors are in the 30000 range too.
- The multipart answer: parts named by Content-ID <jsonInfos> (JSON: messages, labelV2Response{parcelNumber,
  parcelNumberPartner, pdfUrl}), <label> (the label bytes), <cn23> (the CN23 PDF when customs are declared and
  the label is thermal) and, for generateBordereauByParcelsNumbers (body generateBordereauParcelNumberList
  {parcelsNumbers[]}), <deliveryPaper> (the bordereau PDF) with jsonInfos.bordereauHeader.bordereauNumber.
  The <cn23> part name and the bordereau answer's layout come from integrations' code, not from the
  specification itself: treat them as less certain than the rest.
- Suivi v2: GET /suivi/v2/idships/{idShip}?lang=fr_FR with X-Okapi-Key; answer {returnCode, shipment{idShip,
  event[{code, label, date}], ...}}; 404 for an unknown number. Event codes DR1, PC1/PC2, ET1-ET4, EP1,
  DO1-DO3, PB1/PB2, MD2, ND1, AG1, RE1, DI1/DI2 (La Poste's developer documentation; DR1, PC1, ET1-ET3, MD2,
  DI1 also seen in a recorded answer).

- PointRetrait REST v2: findRDVPointRetraitAcheminement {accountNumber, password, address, zipCode, city,
  countryCode, weight (g), shippingDate dd/MM/yyyy, filterRelay, lang, optionInter} and
  findPointRetraitAcheminementByID {id, date, weight, filterRelay, reseau, langue}; answers {errorCode,
  errorMessage, listePointRetraitAcheminement[] | pointRetraitAcheminement} with identifiant, nom, adresse1-3,
  codePostal, localite, codePays, horairesOuverture<Jour> "HH:MM-HH:MM HH:MM-HH:MM", distanceEnMetre,
  poidsMaxi, typeDePoint, congesTotal, listeConges[{calendarDeDebut, calendarDeFin}]. Field names as seen in
  integrations and a recorded live answer; the error codes 124 (unknown id), 201/202 (identifiers, service),
  300/301 (no point: rules / technical) from the PointRetrait specification as remembered, 201 also seen in
  an integration's tests: less certain than SLS's list.

What is verified: tests/integration/test_carrier_colissimo.py runs this adapter against the stand-in in
tests/standins/colissimo.py, which validates every request against JSON schemas written from the documents
above (tests/standins/schemas/colissimo/) and answers the documented messages. NOT verified against the real
service (no contract or network in tests): in particular the exact unit convention of CN23 article weight and
value (we send the unit weight in kg and the unit value, as the specification's "poids/valeur unitaire"), the
parcel-number check digit (not checked), and the Suivi event-code list's completeness (an unknown code is
taken as in transit).
"""

from wms.shipping.colissimo.carrier import (
    DEFAULT_BASE_URL,
    DEFAULT_SUIVI_URL,
    LABEL_FORMATS,
    ColissimoCarrier,
    ColissimoLabel,
)

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_SUIVI_URL", "LABEL_FORMATS", "ColissimoCarrier", "ColissimoLabel"]
