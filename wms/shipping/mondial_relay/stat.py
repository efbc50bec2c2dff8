"""Mondial Relay's answers as our errors: the STAT codes of the SOAP web service (Web_Services.asmx) and the
Status codes of the Shipment API (connect-api), each turned into a refusal, an invalid relay point, or the
carrier being unavailable.

STAT codes: the table of Mondial Relay's "Web Service" documentation (the same list merchants' modules carry,
e.g. the PrestaShop mondialrelay module's errorCode.php). Status codes: section 6.2 of the Dual Carrier / Shipment
API documentation v2.7.x. The French wording is the carrier's; we add an English sentence before it.
"""

from __future__ import annotations

from wms.shipping.carrier_features import RelayPointInvalid
from wms.shipping.errors import CarrierUnavailable, ShipmentRefused, TrackingNumberInvalid

STAT_TEXT = {
    "1": "Enseigne invalide", "2": "Numéro d'enseigne vide ou inexistant", "3": "Numéro de compte enseigne invalide",
    "5": "Numéro de dossier enseigne invalide", "7": "Numéro de client enseigne invalide",
    "9": "Nom de ville non reconnu ou non unique", "10": "Type de collecte invalide",
    "11": "Numéro de Point Relais de collecte invalide", "12": "Pays du Point Relais de collecte invalide",
    "13": "Type de livraison invalide", "14": "Numéro du Point Relais de livraison invalide",
    "15": "Pays du Point Relais de livraison invalide", "16": "Code pays invalide", "17": "Adresse invalide",
    "18": "Ville invalide", "19": "Code postal invalide", "20": "Poids du colis invalide",
    "21": "Taille (Longueur + Hauteur) du colis invalide", "22": "Taille du colis invalide",
    "24": "Numéro de colis Mondial Relay invalide", "29": "Mode de livraison invalide",
    "40": "Action impossible sans ville ni code postal", "41": "Mode de livraison invalide",
    "47": "Nombre de colis invalide", "48": "Multi-colis en Point Relais interdit",
    "49": "Mode de collecte ou de livraison invalide", "70": "Numéro de Point Relais invalide",
    "74": "Langue invalide", "80": "Colis enregistré", "81": "Colis en traitement chez Mondial Relay",
    "82": "Colis livré", "83": "Anomalie", "90": "AS400 indisponible", "91": "Numéro d'expédition invalide",
    "94": "Colis inexistant", "95": "Compte enseigne non activé", "96": "Type d'enseigne incorrect en base",
    "97": "Clé de sécurité invalide", "98": "Service indisponible", "99": "Erreur générique du service",
}
TRACING_STATS = frozenset({"80", "81", "82", "83"})
_CREDENTIALS = frozenset({"1", "2", "3", "95", "96", "97"})
_DOWN = frozenset({"90", "98", "99"})
_RELAY = frozenset({"11", "12", "14", "15", "70"})


def stat_text(stat: str) -> str:
    return f"STAT {stat}: {STAT_TEXT.get(stat, 'code inconnu')}"


def raise_for_stat(stat: str, what: str) -> None:
    """Nothing for STAT 0 (and the tracing codes 80-83); else the domain error the code means."""
    if stat == "0" or stat in TRACING_STATS:
        return
    text = stat_text(stat)
    if stat in _CREDENTIALS:
        raise CarrierUnavailable(f"Mondial Relay refused our account or security key ({what}): {text}; "
                                 "check the Enseigne code and private key")
    if stat in _DOWN:
        raise CarrierUnavailable(f"Mondial Relay is unavailable ({what}): {text}; try again later")
    if stat in _RELAY:
        raise RelayPointInvalid(f"Mondial Relay does not know this relay point ({what}): {text}")
    if stat in ("24", "91"):
        raise TrackingNumberInvalid(f"Mondial Relay refused the shipment number ({what}): {text}")
    raise ShipmentRefused(f"Mondial Relay refused {what}: {text}")


# --- Shipment API (connect-api) -----------------------------------------------------------------------------
_API_CREDENTIALS = frozenset({"10000", "10001", "10002", "10005", "10066", "10067"})
_API_RELAY = frozenset({"10025", "10071", "10072", "10073", "10074", "10075"})
_API_NOT_ALLOWED = frozenset({"10024", "10027", "10070", "10076", "10079"})
_API_ADDRESS = frozenset({"10039", "10040", "10042", "10043", "10044", "10045", "10046", "10047", "10054",
                          "10055", "10056", "10063", "10085"})


def raise_for_statuses(statuses: list[tuple[str, str, str]], what: str) -> None:
    """Statuses are (code, level, message); Errors and Critical Errors raise, Warnings do not."""
    errors = [s for s in statuses if s[1].lower() in ("error", "critical error", "critical")]
    if not errors:
        return
    text = "; ".join(f"{code} {message}".strip() for code, _level, message in errors)
    codes = {code for code, _level, _message in errors}
    if codes & _API_CREDENTIALS:
        raise CarrierUnavailable(f"Mondial Relay refused our login, password or customer id ({what}): {text}")
    if any(level.lower().startswith("critical") for _c, level, _m in errors):
        raise CarrierUnavailable(f"Mondial Relay could not process {what}: {text}; try again later")
    if codes & _API_RELAY:
        raise RelayPointInvalid(f"Mondial Relay refused the relay point of {what}: {text}")
    if codes & _API_NOT_ALLOWED:
        raise ShipmentRefused(f"Mondial Relay does not allow this service for {what}: {text}")
    if codes & _API_ADDRESS:
        raise ShipmentRefused(f"Mondial Relay refused an address of {what}: {text}")
    raise ShipmentRefused(f"Mondial Relay refused {what}: {text}")
