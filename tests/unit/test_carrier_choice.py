"""The carrier choice core on plain objects: the channel's carrier, shipping method mapping, each condition,
cutoffs at a fixed time, unknown facts, unconfigured carriers, and the reason written for people."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wms.outbound.carrier_choice import choose

PARIS = ZoneInfo("Europe/Paris")
CONFIGURED = ("own-fleet", "gs1", "colissimo", "gls")
NOON_PARIS = dt.datetime(2026, 12, 4, 11, 0, tzinfo=dt.UTC)  # 12:00 in Paris (winter)


def product(sku: str = "MUG", weight_g: int | None = 400, dims: tuple[Any, Any, Any] = (100, 100, 120),
            customs_value: Any = None) -> SimpleNamespace:
    return SimpleNamespace(sku=sku, weight_g=weight_g, length_mm=dims[0], width_mm=dims[1], height_mm=dims[2],
                           customs_value=customs_value)


def order(*lines: tuple[SimpleNamespace, int, Any], country: str | None = "FR", carrier: str | None = None,
          method: str | None = None, channel_id: int = 1) -> SimpleNamespace:
    lines = lines or ((product(), 1, Decimal("12.50")),)
    return SimpleNamespace(
        channel_id=channel_id, warehouse_id=1, carrier_code=carrier, shipping_method=method, currency="EUR",
        ship_to={"country": country} if country else {},
        lines=[SimpleNamespace(product=p, quantity=q, unit_price=price) for p, q, price in lines])


_ids = iter(range(1, 10_000))


def rule(name: str, carrier: str, **conditions: Any) -> SimpleNamespace:
    base: dict[str, Any] = dict(
        id=next(_ids), priority=100, active=True, channel_id=None, warehouse_id=None, shipping_method=None,
        countries=None, min_weight_g=None, max_weight_g=None, max_side_mm=None, min_value=None, max_value=None,
        before_time=None, service=None, relay=False)
    base.update(conditions)
    return SimpleNamespace(name=name, carrier_code=carrier, **base)


def chosen(o: SimpleNamespace, rules: list[SimpleNamespace], now: dt.datetime = NOON_PARIS):  # type: ignore[no-untyped-def]
    return choose(o, rules, now, tz=PARIS, configured=CONFIGURED, default="own-fleet")


def test_a_configured_carrier_named_by_the_channel_wins_over_every_rule() -> None:
    c = chosen(order(carrier="gs1"), [rule("All to GLS", "gls", priority=1)])
    assert (c.carrier_code, c.rule_id) == ("gs1", None)
    assert c.reason == "the channel asked for carrier 'gs1', configured here"


def test_the_shipping_method_maps_to_its_rule_before_generic_rules_whatever_the_priority() -> None:
    generic = rule("Everything", "gls", priority=1)
    relay = rule("Relais", "colissimo", priority=50, shipping_method="Colissimo  Point Relais ", service="A2P")
    c = chosen(order(method="colissimo point relais"), [generic, relay])
    assert (c.carrier_code, c.service, c.relay, c.rule_id) == ("colissimo", "A2P", True, relay.id)
    assert c.reason == f"rule 'Relais' (#{relay.id}): shipping method 'colissimo point relais'"
    # Another method falls to the generic rule; a rule of another channel is not tried.
    assert chosen(order(method="express"), [generic, relay]).rule_id == generic.id
    other = rule("Other shop", "gs1", priority=0, channel_id=2)
    assert chosen(order(), [other, generic]).rule_id == generic.id


def test_a_heavy_order_to_germany_goes_by_the_weight_rule_and_the_reason_names_the_facts() -> None:
    heavy = rule("Heavy to GLS", "gls", priority=10, min_weight_g=10_000, countries="DE,AT")
    light = rule("Light", "colissimo", priority=20)
    parcel = order((product(weight_g=3100), 4, Decimal(10)), country="DE")
    c = chosen(parcel, [light, heavy])
    assert c.carrier_code == "gls"
    assert c.reason == f"rule 'Heavy to GLS' (#{heavy.id}): destination DE, 12.4 kg ≥ 10 kg"
    assert chosen(order((product(weight_g=3100), 4, None), country="FR"), [light, heavy]).rule_id == light.id
    assert chosen(order((product(weight_g=3100), 2, None), country="DE"), [light, heavy]).rule_id == light.id


@pytest.mark.parametrize(("countries", "country", "matches"), [
    ("FR,BE", "BE", True), ("FR,BE", "DE", False), ("!FR", "DE", True), ("!FR", "FR", False),
    ("fr", "FR", True), ("FR", None, False)])
def test_destination_countries_list_or_exclude(countries: str, country: str | None, matches: bool) -> None:
    r = rule("Countries", "gls", countries=countries)
    assert (chosen(order(country=country), [r]).rule_id == r.id) is matches


def test_the_longest_side_and_the_value_conditions() -> None:
    small = rule("Small", "gs1", priority=1, max_side_mm=300)
    rich = rule("Rich", "colissimo", priority=2, min_value=Decimal("100"))
    cheap = order((product(dims=(400, 50, 50)), 1, Decimal("20")))
    assert chosen(cheap, [small, rich]).carrier_code == "own-fleet"  # too long, too cheap: the default
    dear = order((product(dims=(400, 50, 50)), 3, Decimal("40")))
    c = chosen(dear, [small, rich])
    assert c.rule_id == rich.id and "value 120.00 EUR ≥ 100.00" in c.reason
    # No price: the customs value counts instead.
    customs = order((product(customs_value=Decimal("150")), 1, None))
    assert chosen(customs, [rich]).rule_id == rich.id


def test_unknown_weight_or_value_never_matches_a_rule_with_that_condition_and_the_reason_says_why() -> None:
    heavy = rule("Heavy", "gls", min_weight_g=5000)
    rich = rule("Rich", "colissimo", min_value=Decimal(1))
    unweighed = order((product(sku="TEA", weight_g=None), 1, None))
    c = chosen(unweighed, [heavy, rich])
    assert c.carrier_code == "own-fleet" and c.rule_id is None
    assert f"rule 'Heavy' (#{heavy.id}): weight unknown (TEA has no weight)" in c.reason
    assert f"rule 'Rich' (#{rich.id}): value unknown (TEA has no price nor customs value)" in c.reason
    assert c.reason.startswith("no rule matched; the default carrier 'own-fleet' is used")


def test_a_cutoff_holds_before_its_time_in_the_warehouse_time_zone() -> None:
    express = rule("Express before 15:00", "colissimo", before_time="15:00", service="DOS")
    before = chosen(order(), [express], dt.datetime(2026, 12, 4, 13, 59, tzinfo=dt.UTC))  # 14:59 Paris
    assert before.rule_id == express.id and "14:59 before the 15:00 cutoff" in before.reason
    after = chosen(order(), [express], dt.datetime(2026, 12, 4, 14, 0, tzinfo=dt.UTC))  # 15:00 Paris
    assert after.rule_id is None
    summer = chosen(order(), [express], dt.datetime(2026, 7, 1, 13, 30, tzinfo=dt.UTC))  # 15:30 Paris (CEST)
    assert summer.rule_id is None
    # A cutoff written past the API's check never breaks an intake: the rule does not hold, the reason says why.
    broken = rule("Broken", "gls", before_time="9h")
    assert "cutoff 9h is not HH:MM" in chosen(order(), [broken]).reason


def test_a_rule_naming_a_carrier_not_configured_is_skipped_and_listed_in_the_reason() -> None:
    dhl = rule("DHL all", "dhl", priority=1)
    fallback = rule("Colissimo", "colissimo", priority=2)
    c = chosen(order(), [dhl, fallback])
    assert c.rule_id == fallback.id
    assert c.reason == (f"rule 'Colissimo' (#{fallback.id}): no condition; passed over: rule 'DHL all' (#{dhl.id}): "
                        "carrier 'dhl' is not configured here")


def test_inactive_rules_are_not_tried_and_lower_priority_comes_first() -> None:
    first = rule("First", "gs1", priority=5, active=False)
    second = rule("Second", "colissimo", priority=7)
    third = rule("Third", "gls", priority=6)
    assert chosen(order(), [second, first, third]).rule_id == third.id


def test_an_unconfigured_carrier_asked_for_falls_to_the_rules_then_the_default() -> None:
    c = chosen(order(carrier="dhl"), [])
    assert c.carrier_code == "own-fleet"
    assert c.reason == "carrier 'dhl' is not configured here and no rule matched; the default carrier 'own-fleet' is used"
    r = rule("FR", "gls", countries="FR")
    assert chosen(order(carrier="dhl"), [r]).carrier_code == "gls"


def test_a_long_reason_is_cut_to_what_the_order_keeps() -> None:
    rules = [rule("x" * 100, "dhl", priority=i) for i in range(10)]
    assert len(chosen(order(), rules).reason) == 500
