"""The carriers this warehouse ships with, built from configuration, and the counters behind their numbers.

Built in and offline: `own-fleet` (our delivery rounds) and `gs1` (a GS1 logistic label; the SSCC is the
tracking number). `shipengine` is offered only when `SHIPENGINE_BASE_URL` is configured. SSCC serials and
own-fleet serials come from `NumberSequence` rows taken under a row lock, so no number is issued twice.

Configuration (Flask config; `WMS_<NAME>` in the environment):
- `GS1_COMPANY_PREFIX` (default "0614141", GS1's example prefix), `GS1_EXTENSION_DIGIT` (default 0);
- `OWN_FLEET_PREFIX` (default "RZ"), `OWN_FLEET_ROUTES`: a list of {code, driver, postal_prefixes, country}
  or a string `CODE:Driver:75,92;CODE2:Driver 2:69` (country FR); default: Paris rounds and a national one;
- `SHIPENGINE_BASE_URL`, `SHIPENGINE_API_KEY`, `SHIPENGINE_SERVICE_CODE` (default ups_ground);
- `DEFAULT_CARRIER` (default "own-fleet"): for orders that name no carrier we know;
- `OWN_FLEET_TRACKING_URL`, `SHIPENGINE_TRACKING_URL`: where a customer follows a parcel, a template with
  `{tracking_number}` (default none: no tracking URL). A GS1 label has no tracking page: its URL is null.
- the French carriers `colissimo`, `chronopost`, `dpd-france`, `gls`, `mondial-relay`, `sendcloud`: offered when
  their required `<PREFIX>_*` settings are set (see `french.py` for each one's settings and defaults); one set
  only in part is not offered, `misconfigured_carriers()` says what it lacks and `check_configuration()` refuses
  to start with that message. `<PREFIX>_TRACKING_URL` overrides the carrier's public tracking page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wms.db import db
from wms.errors import NotFound, ValidationFailed
from wms.outbound.carriers_registry import french
from wms.outbound.models import NumberSequence
from wms.shipping.carriers import Carrier, Gs1LabelCarrier, OwnFleetCarrier, Route
from wms.shipping.sscc import SsccIssuer

OWN_FLEET = "own-fleet"
GS1 = "gs1"
SHIPENGINE = "shipengine"

DEFAULT_GS1_COMPANY_PREFIX = "0614141"
DEFAULT_OWN_FLEET_PREFIX = "RZ"
DEFAULT_ROUTES: tuple[Route, ...] = (
    Route("PARIS-N", "Karim B.", ("75017", "75018", "75019", "92", "93", "95")),
    Route("PARIS-S", "Sophie L.", ("7501", "75020", "91", "94", "77", "78")),
    Route("PARIS", "Karim B.", ("75",)),
    Route("FRANCE", "Relais national", tuple("0123456789")),
)


class UnknownCarrier(NotFound):
    slug = "unknown-carrier"
    title = "Unknown carrier"


class CarrierNotConfigured(ValidationFailed):
    """An order asked for a carrier not configured here and for no substitute (`strict_carrier`)."""

    slug = "carrier-not-configured"
    title = "The carrier is not configured here"


def _config() -> Mapping[str, Any]:
    return current_app.config if has_app_context() else {}


def carrier_codes() -> list[str]:
    """The codes of the carriers configured here: own-fleet, gs1 and shipengine when its URL is set."""
    codes = [OWN_FLEET, GS1]
    if _config().get("SHIPENGINE_BASE_URL"):
        codes.append(SHIPENGINE)
    return codes + french.configured_codes(_config())


def misconfigured_carriers() -> dict[str, str]:
    """{code: what it lacks} for each carrier configured with only some of its required settings."""
    return french.misconfigured(_config())


def check_configuration(config: Mapping[str, Any] | None = None) -> None:
    """Refuse (CarrierMisconfigured, a readable message naming the missing settings) a carrier set in part, or
    one whose adapter refuses its settings (e.g. a contract number that is not digits)."""
    config = _config() if config is None else config
    french.check(config)
    problems = []
    for code in french.configured_codes(config):
        try:
            _french_carrier(french.BY_CODE[code], config, None, "")
        except ValidationFailed as exc:
            problems.append(f"{code}: {exc}")
    if problems:
        raise french.CarrierMisconfigured("; ".join(problems))


def default_carrier_code() -> str:
    """The carrier used for an order that names none (or one not configured here)."""
    code = str(_config().get("DEFAULT_CARRIER") or OWN_FLEET)
    return code if code in carrier_codes() else OWN_FLEET


@dataclass(frozen=True)
class CarrierChoice:
    """The carrier an order asked for, the one that ships it, and why they differ (None when they do not)."""

    requested: str | None
    used: str
    reason: str | None = None


def choose_carrier(requested: str | None) -> CarrierChoice:
    """The carrier that ships an order naming `requested`: that one if configured here, else the default."""
    if requested in carrier_codes():
        return CarrierChoice(requested, requested)
    used = default_carrier_code()
    if requested is None:
        return CarrierChoice(None, used)
    return CarrierChoice(requested, used, f"carrier {requested!r} is not configured here (the carriers are "
                                          f"{', '.join(carrier_codes())}); the default carrier {used!r} is used")


TRACKING_URL_SETTINGS = {OWN_FLEET: "OWN_FLEET_TRACKING_URL", SHIPENGINE: "SHIPENGINE_TRACKING_URL"}


def carrier_service(code: str) -> str:
    """The service a shipment of this carrier is labelled with ("standard" unless the carrier is told one)."""
    if code == SHIPENGINE:
        return str(_config().get("SHIPENGINE_SERVICE_CODE") or "ups_ground")
    return "standard"


def tracking_url(code: str, tracking_number: str | None) -> str | None:
    """Where a customer follows this tracking number: the carrier's configured template, or None."""
    config = _config()
    setting = TRACKING_URL_SETTINGS.get(code)
    template = str(config.get(setting) or "") if setting else ""
    spec = french.BY_CODE.get(code)
    if spec is not None:
        default = french.sendcloud_tracking_default(config) if code == "sendcloud" else spec.tracking_url
        template = str(config.get(f"{spec.prefix}_TRACKING_URL") or default)
    if not template or not tracking_number:
        return None
    return template.replace("{tracking_number}", quote(tracking_number, safe=""))


def carrier_for(code: str, warehouse: Any = None) -> Carrier:
    """The carrier with this code, ready to use its database counters; UnknownCarrier if not configured."""
    config = _config()
    site = getattr(warehouse, "name", "") or ""
    if code == OWN_FLEET:
        return OwnFleetCarrier(
            prefix=str(config.get("OWN_FLEET_PREFIX") or DEFAULT_OWN_FLEET_PREFIX),
            next_serial=lambda: next_value("own-fleet-serial"),
            sscc_issuer=sscc_issuer(),
            routes=own_fleet_routes(config.get("OWN_FLEET_ROUTES")),
            code=OWN_FLEET,
            name="Own fleet",
            site=site,
        )
    if code == GS1:
        return Gs1LabelCarrier(sscc_issuer=sscc_issuer(), code=GS1, name="GS1 logistic label", site=site)
    if code == SHIPENGINE and config.get("SHIPENGINE_BASE_URL"):
        from wms.shipping.shipengine import ShipEngineCarrier

        return ShipEngineCarrier.from_config(
            config, service_code=str(config.get("SHIPENGINE_SERVICE_CODE") or "ups_ground"), code=SHIPENGINE)
    spec = french.BY_CODE.get(code)
    if spec is not None:
        lacking = french.misconfigured(config).get(code)
        if lacking:
            raise CarrierNotConfigured(lacking)
        if code in french.configured_codes(config):
            return _french_carrier(spec, config, warehouse, site)
    raise UnknownCarrier(f"No carrier {code!r} here; the carriers are {', '.join(carrier_codes())}")


def _french_carrier(spec: french.CarrierSpec, config: Mapping[str, Any], warehouse: Any, site: str) -> Carrier:
    from types import SimpleNamespace

    from wms.outbound.packing_services import _ship_from

    options = french.adapter_options(spec, config)
    options.update(code=spec.code, name=spec.name)
    if spec.takes_site:
        options["site"] = site
    if spec.takes_sender:
        place = warehouse if warehouse is not None else SimpleNamespace(name=site or "Warehouse", address="")
        options["sender"] = _ship_from(place)
        options.setdefault("commercial_name", place.name)
    carrier: Carrier = spec.build(**options)
    return carrier


def sscc_issuer() -> SsccIssuer:
    """SSCCs from the configured GS1 company prefix, serials from the `sscc-serial` counter."""
    config = _config()
    prefix = str(config.get("GS1_COMPANY_PREFIX") or DEFAULT_GS1_COMPANY_PREFIX)
    extension = int(config.get("GS1_EXTENSION_DIGIT") or 0)
    return SsccIssuer(prefix, extension, lambda: next_value(f"sscc-serial-{extension}{prefix}"))


def own_fleet_routes(value: Any) -> tuple[Route, ...]:
    """Routes from configuration: a list of mappings, a `CODE:Driver:75,92;...` string, or the defaults."""
    if not value:
        return DEFAULT_ROUTES
    if isinstance(value, str):
        routes = []
        for part in filter(None, (p.strip() for p in value.split(";"))):
            fields = part.split(":")
            if len(fields) not in (3, 4):
                raise ValidationFailed(f"OWN_FLEET_ROUTES: {part!r} is not CODE:Driver:prefix,prefix[:COUNTRY]")
            prefixes = tuple(p.strip() for p in fields[2].split(",") if p.strip())
            routes.append(Route(fields[0].strip(), fields[1].strip(), prefixes,
                                fields[3].strip() if len(fields) == 4 else "FR"))
        return tuple(routes)
    items: Sequence[Mapping[str, Any]] = value
    return tuple(
        Route(str(r["code"]), str(r.get("driver", "")), tuple(r["postal_prefixes"]), str(r.get("country", "FR")))
        for r in items
    )


def _locked_counter(name: str) -> NumberSequence | None:
    # populate_existing: sessions keep objects after commit, so a row read earlier would otherwise be stale
    return db.session.scalars(
        select(NumberSequence).where(NumberSequence.name == name)
        .with_for_update().execution_options(populate_existing=True)
    ).one_or_none()


def next_value(name: str) -> int:
    """Take the next value of a counter under a row lock (the row is created at 1 on first use)."""
    session = db.session
    row = _locked_counter(name)
    if row is None:
        # Two first uses at once: the loser's insert fails and it takes the winner's row under the lock.
        with suppress(IntegrityError), session.begin_nested():
            session.add(NumberSequence(name=name, next_value=1))
        row = _locked_counter(name)
        assert row is not None
    value = row.next_value
    row.next_value = value + 1
    session.flush()
    return value
