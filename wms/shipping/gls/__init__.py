"""Adapter for GLS France through the GLS ShipIT REST web services (`/backend/rs/...`, HTTP Basic auth, JSON).

Which API: GLS offers two ways in. The "GLS France Web API" / api.gls-group.eu (OAuth2 client credentials,
the ShipIT "Farm") could not be verified: the stored documentation has no request or response text for it.
The ShipIT REST services are published by GLS as versioned doxygen pages (shipit.gls-group.eu/webservices/
<version>/doxygen/WS-REST-API/...), and this adapter follows those, versions 3.3.20 to 5.0.11:

- create (createParcels, F-114): POST /backend/rs/shipments, `ShipmentRequestData` = {Shipment{ShipmentReference[],
  ShippingDate, Product PARCEL|EXPRESS, Consignee{Address{Name1..3, CountryCode, ZIPCode, City, Street, eMail,
  ContactPerson, MobilePhoneNumber, FixedLinePhonenumber}}, Shipper{ContactID}, ShipmentUnit[{Weight (kg),
  ShipmentUnitReference[]}], Service[]}, PrintingOptions{ReturnLabels{TemplateSet, LabelFormat}}} ->
  {CreatedShipment{ParcelData[{TrackID, ParcelNumber, Barcodes{Primary1D}, RoutingInfo}], PrintData[{Data
  (base64), LabelFormat}], CustomerID, PickupLocation, GDPR}} (the "Webservices Requests Samples" page).
- errors (the "Webservices Fault Responses Samples" page): HTTP 400 with the `message` and `error` headers
  (INVALID_FIELD_VALUE, MANDATORY_PARAMETER_NOT_SET), e.g. "Invalid field ShipmentRequestData.Shipment.Product.
  Value X is not a valid value. No matching product available for shipper ..."; 401 with WWW-Authenticate for
  bad credentials; HTTP 490 when the backend is inactive (tracking and parcel shop pages).
- relay points (ParcelShop search page, F-107): GET /backend/rs/parcelshop/{id} -> ParcelShop{ParcelShopID,
  Location{Latitude, Longitude}, Address{...}, WorkingDay[{DayOfWeek MON.., OpeningHours{OpeningHours[{From,
  To}]}, Breaks{...}}]}; ids are "{partnerID}-{local id}" (GLS_FR-250...); hours are milliseconds since midnight
  "with an offset of 1 hour" (28800000 -> 09:00), as the page says.
- tracking (F-111 page): only parcels that went through the end-of-day report are found; 490 when inactive.

What is NOT verified from GLS's own text (taken from the brief and cross-checked only against public third-party
integrations of ShipIT, so treat them as assumptions):
- the ZPL TemplateSet names `ZPL_200`/`ZPL_300` with LabelFormat `ZEBRA`;
- the service entries {"ShopDelivery": {"ServiceName": "service_shopdelivery", "ParcelShopID"}},
  `service_flexdelivery`, `service_addresseeonly`;
- the search POST /backend/rs/parcelshop/address {ZIPCode, CountryCode, City} and its answer's `ParcelShop` list
  with a `Distance` (km); ParcelShops carry no maximum weight here, so GLS's own refusal at label time is what
  catches a parcel too heavy for the shop;
- POST /backend/rs/shipments/cancel/{TrackID} -> {TrackID, Result CANCELLED|CANCELLATION_PENDING|SCANNED|ERROR};
- POST /backend/rs/tracking/parceldetails {TrackID} (we send the parcel number in it) -> {UnitDetail{History[
  {Date, StatusCode, Description, Location, Country}]}} and the status codes of mapping.STATUS_MAP (an unknown
  code is kept as "in transit" with GLS's wording);
- POST /backend/rs/shipments/endofday?date=YYYY-MM-DD (only its HTTP status is read; the manifest printed is ours).

Verified how: tests/integration/test_carrier_gls.py runs this adapter against tests/standins/gls.py on 127.0.0.1,
which checks every request against JSON schemas written from the pages above (tests/standins/schemas/gls/) and
answers the documented errors. Never run against the real service (no account, no network in the tests).
Not offered: customs (CN23, GLS's separate customs-consignment API), return labels, insurance, signature.
"""

from wms.shipping.gls.carrier import GlsCarrier
from wms.shipping.gls.mapping import LABEL_FORMATS, PRODUCTS, STATUS_MAP

__all__ = ["LABEL_FORMATS", "PRODUCTS", "STATUS_MAP", "GlsCarrier"]
