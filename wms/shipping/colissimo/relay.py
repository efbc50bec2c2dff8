"""Colissimo's pickup points (web service PointRetrait, REST v2: findRDVPointRetraitAcheminement to search by
address, findPointRetraitAcheminementByID for one point) turned into our `RelayPoint`s."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from wms.labels.documents.shipping import Address
from wms.shipping.carrier_features import OpeningHours, RelayPoint, RelayPointInvalid
from wms.shipping.errors import CarrierResponseInvalid, CarrierUnavailable, ShipmentRefused

DAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
_SPAN = re.compile(r"^([0-2][0-9]:[0-5][0-9])-([0-2][0-9]:[0-5][0-9])$")
ACCOUNT_ERRORS = frozenset({201, 202})      # identifier / password invalid, service not allowed
NO_POINT = frozenset({300})                 # no pickup point left once the business rules are applied
UNKNOWN_POINT = frozenset({124})            # the pickup point id is not known
UNAVAILABLE = frozenset({301})              # no pickup point because of a technical error


def raise_for_error(answer: Any, what: str) -> None:
    """errorCode 0 is success; the others as our errors (300, no point, is left to the caller)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("errorCode"), int):
        raise CarrierResponseInvalid(f"Colissimo PointRetrait answered {what} without an errorCode")
    code = answer["errorCode"]
    if code == 0 or code in NO_POINT:
        return
    text = f"{answer.get('errorMessage') or 'error'} ({code})"
    if code in ACCOUNT_ERRORS:
        raise CarrierUnavailable(f"Colissimo PointRetrait refused our contract for {what}: {text}")
    if code in UNAVAILABLE:
        raise CarrierUnavailable(f"Colissimo PointRetrait cannot answer {what} now: {text}")
    if code in UNKNOWN_POINT:
        raise RelayPointInvalid(f"Colissimo does not know {what}: {text}")
    raise ShipmentRefused(f"Colissimo PointRetrait refused {what}: {text}")


def _hours(point: dict[str, Any]) -> tuple[OpeningHours, ...]:
    spans = []
    for weekday, day in enumerate(DAYS, start=1):
        for span in str(point.get(f"horairesOuverture{day}") or "").split():
            match = _SPAN.match(span)
            if match is None:
                raise CarrierResponseInvalid(f"Colissimo gave opening hours it cannot mean: {span!r}")
            if match.group(1) != match.group(2):  # "00:00-00:00": closed
                spans.append(OpeningHours(weekday, match.group(1), match.group(2)))
    return tuple(spans)


def _day(value: Any) -> dt.date | None:
    text = str(value or "")
    try:
        if re.match(r"^\d{2}/\d{2}/\d{4}", text):
            return dt.datetime.strptime(text[:10], "%d/%m/%Y").date()
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError as exc:
        raise CarrierResponseInvalid(f"Colissimo gave a holiday date it cannot mean: {text!r}") from exc


def _number(value: Any) -> float | None:
    text = str(value or "").strip().replace(",", ".")
    try:
        return float(text) if text else None
    except ValueError as exc:
        raise CarrierResponseInvalid(f"Colissimo gave a number it cannot mean: {text!r}") from exc


def relay_point(point: Any, carrier_code: str, today: dt.date) -> RelayPoint:
    """One `pointRetraitAcheminement` as a RelayPoint: hours per weekday, the next holiday, weight limit."""
    if not isinstance(point, dict) or not point.get("identifiant") or not point.get("nom"):
        raise CarrierResponseInvalid("Colissimo gave a pickup point without identifiant or nom")
    street = tuple(str(point[k]) for k in ("adresse1", "adresse2", "adresse3") if str(point.get(k) or "").strip())
    closures = sorted(
        (start, end)
        for conge in point.get("listeConges") or []
        if isinstance(conge, dict)
        for start, end in [(_day(conge.get("calendarDeDebut")), _day(conge.get("calendarDeFin")))]
        if start and end and end >= today
    )
    distance, weight = _number(point.get("distanceEnMetre")), _number(point.get("poidsMaxi"))
    return RelayPoint(
        carrier=carrier_code,
        id=str(point["identifiant"]),
        name=str(point["nom"]),
        address=Address(str(point["nom"]), street or ("",), str(point.get("codePostal") or ""),
                        str(point.get("localite") or ""), str(point.get("codePays") or "")),
        opening_hours=_hours(point),
        distance_m=None if distance is None else int(distance),
        max_weight_grams=None if weight is None else int(weight),
        active=not point.get("congesTotal"),
        closed_from=closures[0][0] if closures else None,
        closed_until=closures[0][1] if closures else None,
        latitude=_number(point.get("coordGeolocalisationLatitude")),
        longitude=_number(point.get("coordGeolocalisationLongitude")),
        extra={"type": str(point.get("typeDePoint") or "")},
    )
