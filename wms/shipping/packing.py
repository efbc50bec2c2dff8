"""Packing rules: which box an order goes in, and whether the weighed parcel is what we expected.

Box choice is a screen, not a 3-D packer: every item must fit the box in some orientation (its sorted
dimensions within the box's sorted inner dimensions), the items' total volume must stay within a fill ratio
of the box volume (the slack a packer needs in practice), and the parcel's gross weight (items plus the
empty box) within the box's limit. Of the boxes that pass, the smallest by volume is suggested.
Refusals are sentences a packer can act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from wms.shipping.errors import PackingInputInvalid

DEFAULT_FILL_RATIO = 0.85


@dataclass(frozen=True)
class Box:
    """A shipping box: inner dimensions in mm, gross weight limit and empty (tare) weight in grams."""

    code: str
    inner_length_mm: int
    inner_width_mm: int
    inner_height_mm: int
    max_weight_g: int
    tare_weight_g: int = 0

    def __post_init__(self) -> None:
        if not self.code:
            raise PackingInputInvalid("A box needs a code")
        _positive(f"Box {self.code}", self.inner_length_mm, self.inner_width_mm, self.inner_height_mm)
        if self.max_weight_g <= 0:
            raise PackingInputInvalid(f"Box {self.code} needs a weight limit above 0 g")
        if not 0 <= self.tare_weight_g < self.max_weight_g:
            raise PackingInputInvalid(
                f"Box {self.code}: its own weight must be 0 g or more and below its limit"
            )

    @property
    def dimensions(self) -> tuple[int, int, int]:
        return tuple(sorted((self.inner_length_mm, self.inner_width_mm, self.inner_height_mm)))  # type: ignore[return-value]

    @property
    def volume_mm3(self) -> int:
        return self.inner_length_mm * self.inner_width_mm * self.inner_height_mm

    def describe(self) -> str:
        return f"box {self.code} ({_mm(self.inner_length_mm, self.inner_width_mm, self.inner_height_mm)})"


@dataclass(frozen=True)
class Item:
    """An order line to pack: outer dimensions of one unit (mm), weight of one unit (g), quantity."""

    sku: str
    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int
    quantity: int = 1

    def __post_init__(self) -> None:
        if not self.sku:
            raise PackingInputInvalid("An item to pack needs its SKU")
        _positive(f"Item {self.sku}", self.length_mm, self.width_mm, self.height_mm)
        if self.weight_g < 0:
            raise PackingInputInvalid(f"Item {self.sku} cannot weigh less than 0 g")
        if self.quantity < 1:
            raise PackingInputInvalid(f"Item {self.sku} needs a quantity of at least 1")

    @property
    def dimensions(self) -> tuple[int, int, int]:
        return tuple(sorted((self.length_mm, self.width_mm, self.height_mm)))  # type: ignore[return-value]

    @property
    def volume_mm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm * self.quantity

    @property
    def weight_total_g(self) -> int:
        return self.weight_g * self.quantity


@dataclass(frozen=True)
class BoxFit:
    """How a set of items fits one box; `reasons` is empty when it fits."""

    box: Box
    items_volume_mm3: int
    gross_weight_g: int
    fill: float  # items volume / box volume
    reasons: tuple[str, ...]

    @property
    def fits(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class BoxSuggestion:
    """The smallest box that fits (or None), with why each other box was refused."""

    box: Box | None
    fit: BoxFit | None
    refusals: tuple[BoxFit, ...]

    @property
    def message(self) -> str:
        if self.box is not None and self.fit is not None:
            return f"Use {self.box.describe()}: filled to {self.fit.fill:.0%}, {_kg(self.fit.gross_weight_g)} gross."
        reasons = " ".join(reason for refusal in self.refusals for reason in refusal.reasons)
        return f"No box fits these items. {reasons}".strip()


def check_fit(items: Sequence[Item], box: Box, *, fill_ratio: float = DEFAULT_FILL_RATIO) -> BoxFit:
    """Check the items against one box: orientation fit of each item, volume within fill ratio, weight limit."""
    _require_items(items)
    _require_fill_ratio(fill_ratio)
    reasons = []
    for item in items:
        if any(i > b for i, b in zip(item.dimensions, box.dimensions, strict=True)):
            reasons.append(
                f"Item {item.sku} ({_mm(item.length_mm, item.width_mm, item.height_mm)}) does not fit in "
                f"{box.describe()} whichever way it is turned."
            )
    volume = sum(item.volume_mm3 for item in items)
    fill = volume / box.volume_mm3
    if fill > fill_ratio:
        reasons.append(
            f"The items take {_litres(volume)}, more than {fill_ratio:.0%} of the {_litres(box.volume_mm3)} "
            f"of {box.describe()}."
        )
    gross = sum(item.weight_total_g for item in items) + box.tare_weight_g
    if gross > box.max_weight_g:
        reasons.append(
            f"The parcel would weigh {_kg(gross)} with the box, over the {_kg(box.max_weight_g)} limit of "
            f"{box.describe()}."
        )
    return BoxFit(box, volume, gross, fill, tuple(reasons))


def suggest_box(
    items: Sequence[Item], boxes: Sequence[Box], *, fill_ratio: float = DEFAULT_FILL_RATIO
) -> BoxSuggestion:
    """The smallest box (by volume, then weight limit, then code) that every check accepts."""
    if not boxes:
        raise PackingInputInvalid("There are no boxes to choose from")
    codes = [box.code for box in boxes]
    if len(set(codes)) != len(codes):
        raise PackingInputInvalid("Two boxes share a code")
    ordered = sorted(boxes, key=lambda b: (b.volume_mm3, b.max_weight_g, b.code))
    fits = [check_fit(items, box, fill_ratio=fill_ratio) for box in ordered]
    chosen = next((fit for fit in fits if fit.fits), None)
    refusals = tuple(fit for fit in fits if not fit.fits)
    return BoxSuggestion(chosen.box if chosen else None, chosen, refusals)


class WeightVerdict(StrEnum):
    OK = "ok"
    TOO_LIGHT = "too_light"
    TOO_HEAVY = "too_heavy"
    OVER_BOX_LIMIT = "over_box_limit"


@dataclass(frozen=True)
class WeightCheck:
    """The verdict on a weighed parcel, with the figures behind it and a sentence for the packer."""

    verdict: WeightVerdict
    measured_g: int
    expected_g: int
    tolerance_g: int
    message: str

    @property
    def accepted(self) -> bool:
        return self.verdict is WeightVerdict.OK

    @property
    def difference_g(self) -> int:
        return self.measured_g - self.expected_g


def expected_weight(items: Sequence[Item], box: Box | None = None) -> int:
    """What the packed parcel should weigh: the items plus the empty box."""
    _require_items(items)
    return sum(item.weight_total_g for item in items) + (box.tare_weight_g if box else 0)


def check_parcel_weight(
    measured_g: int,
    expected_g: int,
    *,
    tolerance_g: int = 20,
    tolerance_pct: float = 2.0,
    box: Box | None = None,
) -> WeightCheck:
    """Compare the scale with the expected weight; allowed gap = tolerance_g + tolerance_pct % of expected.

    A parcel over its box's weight limit is refused whatever the tolerance says.
    """
    if measured_g <= 0:
        raise PackingInputInvalid("The scale read 0 g or less: put the parcel on the scale and weigh again")
    if expected_g <= 0:
        raise PackingInputInvalid("The expected weight must be above 0 g")
    if tolerance_g < 0 or not 0 <= tolerance_pct <= 100:
        raise PackingInputInvalid("Weight tolerances are 0 g or more and 0 to 100 percent")
    allowed = tolerance_g + round(expected_g * tolerance_pct / 100)
    gap = measured_g - expected_g
    figures = f"the scale says {_kg(measured_g)}, we expected {_kg(expected_g)} (± {allowed} g)"
    if box is not None and measured_g > box.max_weight_g:
        verdict = WeightVerdict.OVER_BOX_LIMIT
        message = (
            f"Refused: the parcel weighs {_kg(measured_g)}, over the {_kg(box.max_weight_g)} limit of "
            f"{box.describe()}. Split it or use a stronger box."
        )
    elif gap > allowed:
        verdict = WeightVerdict.TOO_HEAVY
        message = f"Refused: {gap} g too heavy; {figures}. Check for an extra or wrong item."
    elif -gap > allowed:
        verdict = WeightVerdict.TOO_LIGHT
        message = f"Refused: {-gap} g too light; {figures}. Check for a missing item."
    else:
        verdict = WeightVerdict.OK
        message = f"Weight accepted: {figures}."
    return WeightCheck(verdict, measured_g, expected_g, allowed, message)


def _positive(what: str, *dimensions: int) -> None:
    if any(not isinstance(d, int) or d <= 0 for d in dimensions):
        raise PackingInputInvalid(f"{what} needs three dimensions above 0 mm, in whole millimetres")


def _require_items(items: Sequence[Item]) -> None:
    if not items:
        raise PackingInputInvalid("There is nothing to pack")


def _require_fill_ratio(fill_ratio: float) -> None:
    if not 0 < fill_ratio <= 1:
        raise PackingInputInvalid("The fill ratio is above 0 and at most 1")


def _mm(*dimensions: int) -> str:
    return " x ".join(str(d) for d in dimensions) + " mm"


def _litres(volume_mm3: int) -> str:
    return f"{volume_mm3 / 1_000_000:.1f} L"


def _kg(grams: int) -> str:
    return f"{grams / 1000:.2f} kg"
