"""The French carriers' settings: which are needed, their defaults, and the adapter each builds.

Every setting is `<PREFIX>_<NAME>` in Flask config (`WMS_<PREFIX>_<NAME>` in the environment). A carrier is
offered when all its required settings are set; one with some settings but not all is misconfigured: it is not
offered, `misconfigured()` names what is missing, and `check()` refuses to start with that message.
The sender (ship-from) is the warehouse, as for the other carriers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wms.errors import ValidationFailed


@dataclass(frozen=True)
class Setting:
    name: str  # after the prefix, e.g. CONTRACT_NUMBER
    kwarg: str | None  # the adapter's keyword (None: used by the registry itself)
    default: Any
    meaning: str
    kind: str = "str"  # str, int, float, bool, map (key=value,key=value), intmap


@dataclass(frozen=True)
class CarrierSpec:
    code: str
    name: str
    prefix: str
    required: tuple[tuple[str, ...], ...]  # each entry: one of these names must be set
    settings: tuple[Setting, ...]
    tracking_url: str
    build: Callable[..., Any]
    takes_site: bool = False
    takes_sender: bool = False


class CarrierMisconfigured(ValidationFailed):
    slug = "carrier-misconfigured"
    title = "A carrier is configured without all its settings"


def _colissimo(**kw: Any) -> Any:
    from wms.shipping.colissimo import ColissimoCarrier
    return ColissimoCarrier(**kw)


def _chronopost(**kw: Any) -> Any:
    from wms.shipping.chronopost import ChronopostCarrier
    return ChronopostCarrier(**kw)


def _dpd(**kw: Any) -> Any:
    from wms.shipping.dpd_france import DpdFranceCarrier
    return DpdFranceCarrier(**kw)


def _gls(**kw: Any) -> Any:
    from wms.shipping.gls import GlsCarrier
    return GlsCarrier(**kw)


def _mondial_relay(**kw: Any) -> Any:
    from wms.shipping.mondial_relay import MondialRelayCarrier
    return MondialRelayCarrier(**kw)


def _sendcloud(**kw: Any) -> Any:
    from wms.shipping.sendcloud import SendcloudCarrier
    return SendcloudCarrier(**kw)


TIMEOUT = Setting("TIMEOUT", "timeout", 15.0, "seconds to wait for the carrier's answer", "float")

SPECS: tuple[CarrierSpec, ...] = (
    CarrierSpec("colissimo", "Colissimo", "COLISSIMO", (("CONTRACT_NUMBER",), ("PASSWORD", "API_KEY")), (
        Setting("CONTRACT_NUMBER", "contract_number", None, "the Colissimo contract number (up to 6 digits)"),
        Setting("PASSWORD", "password", "", "the contract's web-service password (or API_KEY)"),
        Setting("API_KEY", "api_key", "", "a Colissimo Box API key, instead of the password"),
        Setting("COMMERCIAL_NAME", "commercial_name", None,
                "the seller's name shown to the recipient (default: the warehouse's name)"),
        Setting("LABEL_FORMAT", "label_format", "ZPL_10x15_203dpi", "ZPL_10x15_203dpi or ZPL_10x15_300dpi"),
        Setting("BASE_URL", "base_url", "https://ws.colissimo.fr/sls-ws/SlsServiceWSRest/2.0", "SLS REST"),
        Setting("SUIVI_URL", "suivi_url", "https://api.laposte.fr/suivi/v2", "La Poste Suivi v2 (tracking)"),
        Setting("SUIVI_KEY", "suivi_key", "", "the La Poste developer key for Suivi (no tracking without it)"),
        Setting("RELAY_URL", "relay_url", "https://ws.colissimo.fr/pointretrait-ws-cxf/rest/v2/pointretrait",
                "the pick-up point service"),
        Setting("RELAY_PRODUCT", "relay_product", "A2P", "the product for relay delivery: A2P (relay shop) or BPR (post office)"),
        TIMEOUT,
    ), "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking_number}", _colissimo, takes_sender=True),
    CarrierSpec("chronopost", "Chronopost", "CHRONOPOST", (("ACCOUNT_NUMBER",), ("PASSWORD",)), (
        Setting("ACCOUNT_NUMBER", "account_number", None, "the Chronopost account (contract) number, up to 8 digits"),
        Setting("PASSWORD", "password", None, "the account's web-service password"),
        Setting("BASE_URL", "base_url", "https://ws.chronopost.fr", "the web services' host"),
        Setting("ID_EMIT", "id_emit", "CHRFR", "the emitter id"),
        Setting("PRODUCT_CODE", "product_code", "01", "the default product: 01 (Chrono 13), 02, 16, 86, 17, 44 or a name"),
        Setting("LABEL_FORMAT", "label_format", "ZPL", "the label mode: ZPL, ZPL300 or PDF"),
        Setting("LANGUAGE", "language", "fr_FR", "the language of tracking events"),
        TIMEOUT,
    ), "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={tracking_number}", _chronopost,
        takes_site=True),
    CarrierSpec("dpd-france", "DPD France", "DPD_FR",
                (("USERID",), ("PASSWORD",), ("CENTER_NUMBER",), ("CUSTOMER_NUMBERS",)), (
        Setting("USERID", "userid", None, "the EPrint web-service user id"),
        Setting("PASSWORD", "password", None, "the EPrint web-service password"),
        Setting("CENTER_NUMBER", "center_number", None, "the DPD depot (center) number, up to 3 digits"),
        Setting("CUSTOMER_NUMBERS", "customer_numbers", None,
                "contract numbers per service: classic=123456,predict=654321,relais=654321,return=123456", "map"),
        Setting("COUNTRY_CODE", "country_code", "250", "the shipper's ISO numeric country code"),
        Setting("LABEL_FORMAT", "label_format", "ZPL", "ZPL, ZPL300, ZPL_A6, ZPL300_A6, PDF or PDF_A6"),
        Setting("BASE_URL", "base_url",
                "https://e-station.cargonet.software/dpd-eprintwebservice/eprintwebservice.asmx", "EPrint"),
        Setting("WSDL_URL", "wsdl_url", None, "the EPrint WSDL (default: BASE_URL?WSDL)"),
        Setting("PUDO_URL", "pudo_url", "https://mypudo.pickup-services.com/mypudo/mypudo.asmx", "Pickup points"),
        Setting("PUDO_KEY", "pudo_key", "", "the Pickup relay service key (no relay search without it)"),
        Setting("RETURN_EXPIRE_DAYS", "return_expire_days", 7, "days a return label is valid (7 to 999)", "int"),
        TIMEOUT,
    ), "https://trace.dpd.fr/fr/trace/{tracking_number}", _dpd),
    CarrierSpec("gls", "GLS France", "GLS", (("BASE_URL",), ("USERNAME",), ("PASSWORD",), ("CONTACT_ID",)), (
        Setting("BASE_URL", "base_url", None, "the ShipIT host GLS gives with the credentials"),
        Setting("USERNAME", "username", None, "the ShipIT user name"),
        Setting("PASSWORD", "password", None, "the ShipIT password"),
        Setting("CONTACT_ID", "contact_id", None, "the shipper's GLS ContactID"),
        Setting("PRODUCT", "product", "PARCEL", "the GLS product: PARCEL or EXPRESS"),
        Setting("LABEL_FORMAT", "label_format", "zpl_200", "the label format: zpl_200, zpl_300 or pdf"),
        Setting("FLEX_DELIVERY", "flex_delivery", False, "FlexDeliveryService on every parcel", "bool"),
        Setting("ADDRESSEE_ONLY", "addressee_only", False, "AddresseeOnlyService on every parcel", "bool"),
        TIMEOUT,
    ), "https://gls-group.com/FR/fr/suivi-colis?match={tracking_number}", _gls),
    CarrierSpec("mondial-relay", "Mondial Relay", "MONDIAL_RELAY",
                (("ENSEIGNE",), ("PRIVATE_KEY",), ("LOGIN",), ("PASSWORD",), ("CUSTOMER_ID",)), (
        Setting("ENSEIGNE", "enseigne", None, "the Enseigne code of the web services (e.g. BDTEST)"),
        Setting("PRIVATE_KEY", "private_key", None, "the private key signing the SOAP calls"),
        Setting("LOGIN", "login", None, "the Shipment API login"),
        Setting("PASSWORD", "password", None, "the Shipment API password"),
        Setting("CUSTOMER_ID", "customer_id", None, "the Shipment API customer id"),
        Setting("SHIPMENT_URL", "shipment_url", "https://connect-api.mondialrelay.com/api/shipment",
                "the Shipment API (labels)"),
        Setting("SOAP_URL", "soap_url", "https://api.mondialrelay.com/Web_Services.asmx",
                "the SOAP web services (relay points, tracking)"),
        Setting("RELAY_MODE", "relay_mode", "24R", "delivery mode to a relay point"),
        Setting("HOME_MODE", "home_mode", "HOM", "delivery mode to the home"),
        Setting("COLLECTION_MODE", "collection_mode", "CCC", "collection mode (CCC: picked up at the warehouse)"),
        Setting("RETURN_COLLECTION_MODE", "return_collection_mode", "REL", "collection mode of returns"),
        Setting("RETURN_DELIVERY_MODE", "return_delivery_mode", "LCC", "delivery mode of returns"),
        Setting("OUTPUT_FORMAT", "output_format", "Generic_ZPL_10x15_200dpi", "the label format"),
        Setting("CULTURE", "culture", "fr-FR", "the language of answers"),
        Setting("RELAY_MAX_GRAMS", "relay_max_grams", 30_000, "heaviest parcel a relay point takes, grams", "int"),
        Setting("MAX_GRAMS_BY_ACTIVITY", "max_grams_by_activity", None,
                "heaviest parcel per point activity, e.g. LOC=20000", "intmap"),
        TIMEOUT,
    ), "https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition={tracking_number}", _mondial_relay),
    CarrierSpec("sendcloud", "Sendcloud", "SENDCLOUD", (("PUBLIC_KEY",), ("SECRET_KEY",), ("SHIPPING_OPTION",)), (
        Setting("PUBLIC_KEY", "public_key", None, "the API public key"),
        Setting("SECRET_KEY", "secret_key", None, "the API secret key"),
        Setting("SHIPPING_OPTION", "shipping_option_code", None, "the shipping option, e.g. colissimo:home"),
        Setting("CONTRACT_ID", "contract_id", None, "the carrier contract id in Sendcloud", "int"),
        Setting("SIGNATURE_OPTION", "signature_option_code", None, "the option used when a signature is asked"),
        Setting("RETURN_OPTION", "return_option_code", None, "the option for return labels"),
        Setting("SERVICE_POINT_CARRIER", "service_point_carrier", None, "the carrier of relay points"),
        Setting("BASE_URL", "base_url", "https://panel.sendcloud.sc/api/v3", "API v3"),
        Setting("SERVICE_POINTS_URL", "service_points_url", "https://servicepoints.sendcloud.sc/api/v2",
                "the service point API"),
        Setting("CURRENCY", "currency", "EUR", "the currency of declared values"),
        TIMEOUT,
    ), "", _sendcloud, takes_site=True),
)
BY_CODE = {spec.code: spec for spec in SPECS}


def _set(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(key)
    return value is not None and str(value).strip() != ""


def missing(spec: CarrierSpec, config: Mapping[str, Any]) -> list[str] | None:
    """None when none of the carrier's settings is set; else the required settings still missing."""
    keys = [f"{spec.prefix}_{s.name}" for s in spec.settings]
    if not any(_set(config, k) for k in keys):
        return None
    return [" or ".join(f"{spec.prefix}_{n}" for n in group) for group in spec.required
            if not any(_set(config, f"{spec.prefix}_{n}") for n in group)]


def configured_codes(config: Mapping[str, Any]) -> list[str]:
    return [spec.code for spec in SPECS if missing(spec, config) == []]


def misconfigured(config: Mapping[str, Any]) -> dict[str, str]:
    """{code: readable message} for each carrier configured with some of its required settings only."""
    found = {}
    for spec in SPECS:
        lacking = missing(spec, config)
        if lacking:
            found[spec.code] = (f"{spec.name} is configured without {', '.join(lacking)}: set them (Flask config "
                                f"or WMS_<NAME> in the environment) or remove the other {spec.prefix}_* settings")
    return found


def check(config: Mapping[str, Any]) -> None:
    """Refuse to start with a readable message when a carrier is partly configured or a value is unusable."""
    problems = list(misconfigured(config).values())
    for code in configured_codes(config):
        try:
            adapter_options(BY_CODE[code], config)
        except CarrierMisconfigured as exc:
            problems.append(str(exc))
    if problems:
        raise CarrierMisconfigured("; ".join(problems))


def _parse(spec: CarrierSpec, setting: Setting, value: Any) -> Any:
    key = f"{spec.prefix}_{setting.name}"
    try:
        if setting.kind == "int":
            return int(value)
        if setting.kind == "float":
            return float(value)
        if setting.kind == "bool":
            return value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}
        if setting.kind in ("map", "intmap"):
            if isinstance(value, Mapping):
                pairs = dict(value)
            else:
                pairs = dict(part.split("=", 1) for part in (p.strip() for p in str(value).split(",")) if part)
            cast = int if setting.kind == "intmap" else str
            return {str(k).strip(): cast(str(v).strip()) for k, v in pairs.items()}
    except ValueError as exc:
        raise CarrierMisconfigured(f"{key}: {value!r} is not usable ({setting.meaning})") from exc
    return str(value).strip()


def adapter_options(spec: CarrierSpec, config: Mapping[str, Any]) -> dict[str, Any]:
    """The adapter's keyword arguments from configuration (defaults where a setting is not set)."""
    options: dict[str, Any] = {}
    for setting in spec.settings:
        key = f"{spec.prefix}_{setting.name}"
        if _set(config, key):
            options[setting.kwarg] = _parse(spec, setting, config[key])
        elif setting.default is not None:
            options[setting.kwarg] = setting.default
    return options


def sendcloud_tracking_default(config: Mapping[str, Any]) -> str:
    """Sendcloud ships with another carrier: that carrier's public page when the option names one we know."""
    option = str(config.get("SENDCLOUD_SHIPPING_OPTION") or "")
    behind = {"colissimo": "colissimo", "chronopost": "chronopost", "dpd": "dpd-france", "gls": "gls",
              "mondial_relay": "mondial-relay"}.get(option.split(":", 1)[0].split("_fr")[0])
    return BY_CODE[behind].tracking_url if behind else ""
