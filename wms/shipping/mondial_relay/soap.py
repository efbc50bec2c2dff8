"""The SOAP half of Mondial Relay (https://api.mondialrelay.com/Web_Services.asmx) through zeep: relay point
search (WSI4_PointRelais_Recherche) and detailed tracking (WSI2_TracingColisDetaille), each signed with the
Security parameter, and their answers turned into our RelayPoint and TrackingEvent.

Security, as Mondial Relay documents it: the upper-case hexadecimal MD5 of every parameter of the call, in the
documented order, empty ones as empty text, followed by the private key. The documentation speaks of UTF-8, but
merchants' integrations (and akretion's roulier) sign ISO-8859-1 bytes; we do the latter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import requests
import zeep
import zeep.exceptions
import zeep.helpers
import zeep.transports
from lxml import etree

from wms.labels.documents.shipping import Address
from wms.retry import note_outside_effect
from wms.shipping.carrier_features import OpeningHours, RelayPoint, TrackingEvent, TrackingStatus
from wms.shipping.errors import CarrierResponseInvalid, CarrierUnavailable, ShippingInputInvalid

PARIS = ZoneInfo("Europe/Paris")
BINDING = "{http://www.mondialrelay.fr/webservice/}Web_ServicesSoap"
WEEKDAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
WSI4_ORDER = ("Enseigne", "Pays", "NumPointRelais", "Ville", "CP", "Latitude", "Longitude", "Taille", "Poids",
              "Action", "DelaiEnvoi", "RayonRecherche", "TypeActivite", "NACE", "NombreResultats")
WSI2_ORDER = ("Enseigne", "Expedition", "Langue")


def security_key(parameters: Mapping[str, str], private_key: str) -> str:
    """MD5 (upper-case hex) of the parameters' values in order, then the private key."""
    text = "".join(parameters.values()) + private_key
    return hashlib.md5(text.encode("iso-8859-1", errors="replace"), usedforsecurity=False).hexdigest().upper()


def signed(order: tuple[str, ...], values: Mapping[str, str], private_key: str) -> dict[str, str]:
    """Every documented parameter in its order (missing ones empty) plus Security."""
    parameters = {name: values.get(name, "") for name in order}
    parameters["Security"] = security_key(parameters, private_key)
    return parameters


class SoapClient:
    """One zeep client on the configured Web_Services.asmx URL; the WSDL is read from `?WSDL` once, lazily."""

    def __init__(self, url: str, *, timeout: float, proxies: Mapping[str, str] | None, name: str) -> None:
        self.url, self.timeout, self.name = url, timeout, name
        self._session = requests.Session()
        if proxies is not None:  # {}: no proxy at all; None: the environment's settings, as any client
            self._session.trust_env = False
            self._session.proxies = dict(proxies)
        self._service: Any = None

    def call(self, operation: str, parameters: Mapping[str, str]) -> dict[str, Any]:
        """The operation's Result as plain dicts; transport failures and faults as CarrierUnavailable."""
        note_outside_effect()
        try:
            service = self._bound()
            result = getattr(service, operation)(**parameters)
        except (requests.RequestException, OSError) as exc:
            raise CarrierUnavailable(f"{self.name} did not answer at {self.url}: {exc}") from exc
        except zeep.exceptions.TransportError as exc:
            raise CarrierUnavailable(
                f"{self.name} answered HTTP {exc.status_code} to {operation}; try again later"
            ) from exc
        except zeep.exceptions.Fault as exc:
            raise CarrierUnavailable(f"{self.name} answered a SOAP fault to {operation}: {exc.message}") from exc
        except zeep.exceptions.ValidationError as exc:
            raise ShippingInputInvalid(f"{self.name} {operation}: {exc.message}") from exc
        except (zeep.exceptions.Error, etree.LxmlError) as exc:
            raise CarrierResponseInvalid(f"{self.name} answered {operation} with unusable XML: {exc}") from exc
        data = zeep.helpers.serialize_object(result, dict)
        if not isinstance(data, dict):
            raise CarrierResponseInvalid(f"{self.name} answered {operation} without a result")
        return data

    def _bound(self) -> Any:
        if self._service is None:
            transport = zeep.transports.Transport(session=self._session, timeout=self.timeout,
                                                  operation_timeout=self.timeout)
            client = zeep.Client(self.url + "?WSDL", transport=transport)
            # Calls go to the configured URL, whatever address the WSDL names.
            self._service = client.create_service(BINDING, self.url)
        return self._service


# --- relay points --------------------------------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _hhmm(value: str) -> str:
    return f"{value[:2]}:{value[2:]}"


def opening_hours(point: Mapping[str, Any]) -> tuple[OpeningHours, ...]:
    """Horaires_Lundi ... Horaires_Dimanche: four HHMM values a day (two spans), 0000 0000 for none."""
    spans = []
    for weekday, day in enumerate(WEEKDAYS, start=1):
        block = point.get(f"Horaires_{day}") or {}
        values = [v.strip() if isinstance(v, str) else "" for v in (block.get("string") or [])]
        for opens, closes in zip(values[0::2], values[1::2], strict=False):
            if opens == closes or not (opens.isdigit() and closes.isdigit() and len(opens) == len(closes) == 4):
                continue
            spans.append(OpeningHours(weekday, _hhmm(opens), _hhmm(closes)))
    return tuple(spans)


def closures(point: Mapping[str, Any]) -> list[tuple[dt.date, dt.date]]:
    """Informations_Dispo: the announced closures (holidays), each Debut..Fin, inclusive."""
    block = point.get("Informations_Dispo") or {}
    periods = []
    for period in block.get("Periode") or []:
        start, end = period.get("Debut"), period.get("Fin")
        if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
            periods.append((start.date(), end.date()))
    return sorted(periods)


def _coordinate(value: str) -> float | None:
    try:
        return float(value.replace(",", ".")) if value else None
    except ValueError:
        return None


def relay_point(point: Mapping[str, Any], *, carrier: str, max_weight_grams: int, day: dt.date) -> RelayPoint:
    """One PointRelais_Details as our RelayPoint; the closure shown is the one covering `day`, else the next."""
    number = _text(point, "Num")
    if not number:
        raise CarrierResponseInvalid("Mondial Relay answered a relay point without its number")
    name = " ".join(filter(None, (_text(point, "LgAdr1"), _text(point, "LgAdr2"))))
    street = tuple(filter(None, (_text(point, "LgAdr3"), _text(point, "LgAdr4"))))
    periods = closures(point)
    current = next((p for p in periods if p[1] >= day), None)
    distance = _text(point, "Distance")
    return RelayPoint(
        carrier=carrier,
        id=number,
        name=name or number,
        address=Address(name or number, street, _text(point, "CP"), _text(point, "Ville"), _text(point, "Pays")),
        opening_hours=opening_hours(point),
        distance_m=int(distance) if distance.isdigit() else None,
        max_weight_grams=max_weight_grams,
        closed_from=current[0] if current else None,
        closed_until=current[1] if current else None,
        latitude=_coordinate(_text(point, "Latitude")),
        longitude=_coordinate(_text(point, "Longitude")),
        extra={"type": _text(point, "TypeActivite"),
               "closures": ", ".join(f"{a:%d/%m/%Y}-{b:%d/%m/%Y}" for a, b in periods),
               "location": " ".join(filter(None, (_text(point, "Localisation1"), _text(point, "Localisation2"))))},
    )


# --- tracking ------------------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def event_status(libelle: str) -> TrackingStatus:
    """Our status for one Mondial Relay event wording (French, as the service answers with Langue=FR)."""
    text = _plain(libelle)
    if "retour" in text:
        return TrackingStatus.RETURNED
    if any(w in text for w in ("anomalie", "avarie", "refus", "incident", "non livr", "adresse incorrecte")):
        return TrackingStatus.FAILED
    if "en cours de livraison" in text or "en livraison" in text:
        return TrackingStatus.OUT_FOR_DELIVERY
    if any(w in text for w in ("disponible", "mis a disposition", "en point relais", "au point relais")):
        return TrackingStatus.AT_RELAY_POINT
    if "livr" in text:
        return TrackingStatus.DELIVERED
    if "enregistr" in text or "annonce" in text:
        return TrackingStatus.LABEL_CREATED
    return TrackingStatus.IN_TRANSIT


def _moment(date: str, time: str) -> dt.datetime | None:
    for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%y %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%y %H:%M"):
        try:
            return dt.datetime.strptime(f"{date} {time or '00:00'}", fmt).replace(tzinfo=PARIS)
        except ValueError:
            continue
    return None


def tracking_events(number: str, result: Mapping[str, Any]) -> list[TrackingEvent]:
    """The Tracing lines of a WSI2_TracingColisDetaille answer, oldest first; STAT 82 makes the last delivered."""
    block = result.get("Tracing") or {}
    events = []
    for line in block.get("ret_WSI2_sub_TracingColisDetaille") or []:
        libelle = _text(line, "Libelle")
        if not libelle:  # the service pads the list with empty lines
            continue
        at = _moment(_text(line, "Date"), _text(line, "Heure"))
        if at is None:
            raise CarrierResponseInvalid(
                f"Mondial Relay tracking of {number}: event {libelle!r} has an unreadable date "
                f"{_text(line, 'Date')!r} {_text(line, 'Heure')!r}"
            )
        place = " ".join(filter(None, (_text(line, "Emplacement"), _text(line, "Relais_Num"))))
        events.append(TrackingEvent(number, at, event_status(libelle), _text(result, "STAT"), libelle, place))
    events.sort(key=lambda e: e.at)
    if events and _text(result, "STAT") == "82" and events[-1].status != TrackingStatus.DELIVERED:
        last = events[-1]
        events[-1] = TrackingEvent(last.tracking_number, last.at, TrackingStatus.DELIVERED, last.code, last.text,
                                   last.location)
    return events
