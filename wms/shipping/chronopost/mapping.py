"""Chronopost documents to our dataclasses and back: the address blocks of a label request, the errorCode of every
answer, relay points (pointCHR) and tracking events (eventInfoComp), as the adapter's docstring describes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from wms.labels.documents.shipping import Address
from wms.shipping.carrier_features import OpeningHours, RelayPoint, TrackingEvent, TrackingStatus
from wms.shipping.carriers import Party
from wms.shipping.errors import CarrierResponseInvalid

PARIS = ZoneInfo("Europe/Paris")


def error_of(answer: Any) -> tuple[int, str]:
    code = getattr(answer, "errorCode", None)
    if not isinstance(code, int):
        raise CarrierResponseInvalid("Chronopost answered without an errorCode")
    return code, (getattr(answer, "errorMessage", None) or "").strip()


def party_fields(role: str, party: Party, *, civility: bool = False) -> dict[str, Any]:
    """One of shipperValue / customerValue / recipientValue: the fields share the role as prefix."""
    a: Address = party.address
    company = party.company or a.name
    fields: dict[str, Any] = {
        "Adress1": a.street[0],
        "Adress2": " ".join(a.street[1:]) or None,
        "City": a.city,
        "ContactName": a.name,
        "Country": a.country,
        "Email": party.email or None,
        "MobilePhone": party.phone or None,
        "Name": company,
        "Name2": a.name if company != a.name else None,
        "PreAlert": 0,
        "ZipCode": a.postal_code,
    }
    if civility:
        fields["Civility"] = "M"
    return {f"{role}{key}": value for key, value in fields.items() if value is not None}


def as_float(value: Any) -> float | None:
    try:
        return float(str(value).replace(",", ".")) if value not in (None, "") else None
    except ValueError:
        return None


def relay_point(carrier: str, point: Any) -> RelayPoint:
    """A pointCHR as our RelayPoint: address, opening spans per weekday, the next announced closure, max weight."""
    identifier = getattr(point, "identifiant", None)
    if not identifier:
        raise CarrierResponseInvalid("Chronopost returned a relay point without an identifiant")
    street = tuple(s for s in (getattr(point, f"adresse{i}", None) for i in (1, 2, 3)) if s)
    hours = []
    for day in getattr(point, "listeHoraireOuverture", None) or []:
        for span in getattr(day, "listeHoraireOuverture", None) or []:
            if span.debut and span.fin and span.debut != span.fin:
                hours.append(OpeningHours(int(day.jour), span.debut, span.fin))
    closed_from = closed_until = None
    today = dt.datetime.now(PARIS).date()
    for period in getattr(point, "listePeriodeFermeture", None) or []:
        start, end = getattr(period, "calendarDeDebut", None), getattr(period, "calendarDeFin", None)
        if start and end and end.date() >= today and (closed_from is None or start.date() < closed_from):
            closed_from, closed_until = start.date(), end.date()
    weight = getattr(point, "poidsMaxi", None)
    return RelayPoint(
        carrier=carrier,
        id=identifier,
        name=point.nom or identifier,
        address=Address(point.nom or identifier, street or ("",), point.codePostal or "", point.localite or "",
                        point.codePays or "FR"),
        opening_hours=tuple(hours),
        distance_m=getattr(point, "distanceEnMetre", None),
        max_weight_grams=weight if weight else None,
        active=bool(getattr(point, "actif", True)),
        closed_from=closed_from,
        closed_until=closed_until,
        latitude=as_float(getattr(point, "coordGeolocalisationLatitude", None)),
        longitude=as_float(getattr(point, "coordGeolocalisationLongitude", None)),
        extra={"type": point.typeDePoint or ""},
    )


def tracking_event(number: str, event: Any, statuses: Mapping[str, TrackingStatus]) -> TrackingEvent:
    """One eventInfoComp as our TrackingEvent; codes not in `statuses` count as in transit."""
    at = getattr(event, "eventDate", None)
    if not isinstance(at, dt.datetime):
        raise CarrierResponseInvalid(f"Chronopost sent a tracking event for {number} without a date")
    code = (event.code or "").strip()
    return TrackingEvent(
        tracking_number=number,
        at=at if at.tzinfo else at.replace(tzinfo=PARIS),
        status=statuses.get(code, TrackingStatus.IN_TRANSIT),
        code=code,
        text=event.eventLabel or "",
        location=event.officeLabel or "",
    )
