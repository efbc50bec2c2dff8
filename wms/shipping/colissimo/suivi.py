"""La Poste's tracking API "Suivi" v2 (GET https://api.laposte.fr/suivi/v2/idships/{idShip}, header
X-Okapi-Key), which tracks Colissimo parcels (SLS itself has no tracking): its event codes mapped to our
statuses, and its answer turned into `TrackingEvent`s, oldest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from wms.shipping.carrier_features import TrackingEvent, TrackingStatus
from wms.shipping.errors import CarrierResponseInvalid

# The event codes of Suivi v2's `shipment.event[].code`.
STATUS = {
    "DR1": TrackingStatus.LABEL_CREATED,     # déclaratif réceptionné: announced, not handed over yet
    "PC1": TrackingStatus.IN_TRANSIT,        # pris en charge
    "PC2": TrackingStatus.IN_TRANSIT,        # pris en charge dans le pays d'expédition
    "ET1": TrackingStatus.IN_TRANSIT,        # en cours de traitement
    "ET2": TrackingStatus.IN_TRANSIT,        # ... dans le pays d'expédition
    "ET3": TrackingStatus.IN_TRANSIT,        # ... dans le pays de destination
    "ET4": TrackingStatus.IN_TRANSIT,        # ... dans un pays de transit
    "EP1": TrackingStatus.IN_TRANSIT,        # en attente de présentation
    "DO1": TrackingStatus.IN_TRANSIT,        # entrée en douane
    "DO2": TrackingStatus.IN_TRANSIT,        # sortie de douane
    "DO3": TrackingStatus.FAILED,            # retenu en douane
    "PB1": TrackingStatus.FAILED,            # problème en cours
    "PB2": TrackingStatus.IN_TRANSIT,        # problème résolu
    "MD2": TrackingStatus.OUT_FOR_DELIVERY,  # mis en distribution
    "ND1": TrackingStatus.FAILED,            # non distribuable
    "AG1": TrackingStatus.AT_RELAY_POINT,    # en attente d'être retiré au guichet / en point retrait
    "RE1": TrackingStatus.RETURNED,          # retourné à l'expéditeur
    "DI1": TrackingStatus.DELIVERED,         # distribué
    "DI2": TrackingStatus.RETURNED,          # distribué à l'expéditeur: back with us
}


def status_of(code: str) -> TrackingStatus:
    """Our status for a Suivi event code; a code the list does not name is taken as still in transit."""
    return STATUS.get(code.upper(), TrackingStatus.IN_TRANSIT)


def events(number: str, answer: Any) -> list[TrackingEvent]:
    """The events of one `idships` answer (returnCode 200 or 207), oldest first."""
    shipment = answer.get("shipment") if isinstance(answer, dict) else None
    if not isinstance(shipment, dict):
        raise CarrierResponseInvalid(f"La Poste Suivi answered no shipment for {number}")
    raw = shipment.get("event") or []
    if not isinstance(raw, list):
        raise CarrierResponseInvalid(f"La Poste Suivi answered events for {number} that are not a list")
    found = []
    for event in raw:
        if not isinstance(event, dict) or not isinstance(event.get("code"), str):
            raise CarrierResponseInvalid(f"La Poste Suivi answered an event without a code for {number}")
        try:
            at = dt.datetime.fromisoformat(str(event.get("date")))
        except ValueError as exc:
            raise CarrierResponseInvalid(f"La Poste Suivi answered an event date it cannot mean: {exc}") from exc
        if at.tzinfo is None:
            raise CarrierResponseInvalid(f"La Poste Suivi answered an event time without offset for {number}")
        found.append(TrackingEvent(number, at, status_of(event["code"]), event["code"],
                                   str(event.get("label") or ""), str(event.get("siteName") or "")))
    return sorted(found, key=lambda e: e.at)
