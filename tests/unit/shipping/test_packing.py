"""Box suggestion by volume with a fit check, and the weighed parcel against its expected weight."""

from __future__ import annotations

import pytest

from wms.shipping.errors import PackingInputInvalid
from wms.shipping.packing import (
    Box,
    Item,
    WeightVerdict,
    check_fit,
    check_parcel_weight,
    expected_weight,
    suggest_box,
)

SMALL = Box("S", 250, 200, 100, max_weight_g=5_000, tare_weight_g=150)  # 5.0 L
MEDIUM = Box("M", 400, 300, 200, max_weight_g=15_000, tare_weight_g=350)  # 24.0 L
LARGE = Box("L", 600, 400, 400, max_weight_g=30_000, tare_weight_g=700)  # 96.0 L
BOXES = (LARGE, SMALL, MEDIUM)


def test_the_smallest_box_that_fits_is_suggested():
    items = [Item("MUG", 120, 90, 100, 350, quantity=2)]
    suggestion = suggest_box(items, BOXES)
    assert suggestion.box == SMALL
    assert suggestion.fit.fill == pytest.approx(2 * 120 * 90 * 100 / SMALL.volume_mm3)
    assert suggestion.message.startswith("Use box S")


def test_a_long_item_goes_in_a_box_where_it_fits_turned():
    # 380 mm long: too long for S (250) but fits M lying along its 400 mm side, even given "standing up".
    items = [Item("POSTER-TUBE", 80, 80, 380, 300)]
    suggestion = suggest_box(items, BOXES)
    assert suggestion.box == MEDIUM
    (refused_small,) = suggestion.refusals
    assert refused_small.box == SMALL
    assert "Item POSTER-TUBE (80 x 80 x 380 mm) does not fit in box S" in refused_small.reasons[0]


def test_volume_beyond_the_fill_ratio_moves_to_a_bigger_box():
    # 4.5 L of items in a 5.0 L box is 90 %, over the default 85 %.
    items = [Item("BRICK", 100, 100, 90, 100, quantity=5)]
    fit = check_fit(items, SMALL)
    assert not fit.fits
    assert fit.reasons == ("The items take 4.5 L, more than 85% of the 5.0 L of box S (250 x 200 x 100 mm).",)
    assert suggest_box(items, BOXES).box == MEDIUM
    assert check_fit(items, SMALL, fill_ratio=0.95).fits


def test_weight_over_the_box_limit_moves_to_a_stronger_box():
    items = [Item("BOLTS", 100, 100, 50, 2_500, quantity=2)]  # 5.00 kg + 0.15 kg box
    fit = check_fit(items, SMALL)
    assert fit.reasons == (
        "The parcel would weigh 5.15 kg with the box, over the 5.00 kg limit of box S (250 x 200 x 100 mm).",
    )
    assert suggest_box(items, BOXES).box == MEDIUM


def test_when_no_box_fits_every_reason_is_given():
    items = [Item("SURFBOARD", 2000, 500, 80, 4_000)]
    suggestion = suggest_box(items, BOXES)
    assert suggestion.box is None and suggestion.fit is None
    assert len(suggestion.refusals) == 3
    assert suggestion.message.startswith("No box fits these items. Item SURFBOARD")


def test_each_item_must_fit_even_when_the_volume_would():
    items = [Item("ROD", 10, 10, 700, 200), Item("PEN", 10, 10, 100, 10)]
    fit = check_fit(items, LARGE)
    assert fit.fill < 0.01
    assert len(fit.reasons) == 1 and "ROD" in fit.reasons[0]


def test_a_weight_within_tolerance_is_accepted():
    items = [Item("MUG", 120, 90, 100, 350, quantity=2)]
    expected = expected_weight(items, SMALL)
    assert expected == 850
    # tolerance = 20 g + 2 % of 850 g (17 g) = 37 g
    check = check_parcel_weight(885, expected, box=SMALL)
    assert check.verdict is WeightVerdict.OK and check.accepted
    assert check.tolerance_g == 37 and check.difference_g == 35
    assert check.message == "Weight accepted: the scale says 0.89 kg, we expected 0.85 kg (± 37 g)."


def test_a_parcel_too_light_is_refused_with_a_clear_sentence():
    check = check_parcel_weight(500, 850)
    assert check.verdict is WeightVerdict.TOO_LIGHT and not check.accepted
    assert check.message.startswith("Refused: 350 g too light;")
    assert check.message.endswith("Check for a missing item.")


def test_a_parcel_too_heavy_is_refused():
    check = check_parcel_weight(900, 850, tolerance_g=10, tolerance_pct=0)
    assert check.verdict is WeightVerdict.TOO_HEAVY
    assert "50 g too heavy" in check.message


def test_a_parcel_over_its_box_limit_is_refused_whatever_the_tolerance():
    check = check_parcel_weight(5_200, 5_150, tolerance_g=500, box=SMALL)
    assert check.verdict is WeightVerdict.OVER_BOX_LIMIT
    assert check.message == (
        "Refused: the parcel weighs 5.20 kg, over the 5.00 kg limit of box S (250 x 200 x 100 mm). "
        "Split it or use a stronger box."
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: Box("X", 0, 10, 10, 100), "three dimensions above 0 mm"),
        (lambda: Box("X", 10, 10, 10, 0), "weight limit above 0 g"),
        (lambda: Box("X", 10, 10, 10, 100, tare_weight_g=100), "below its limit"),
        (lambda: Box("", 10, 10, 10, 100), "needs a code"),
        (lambda: Item("A", 10, -1, 10, 5), "three dimensions above 0 mm"),
        (lambda: Item("A", 10, 10, 10, 5, quantity=0), "quantity of at least 1"),
        (lambda: Item("A", 10.5, 10, 10, 5), "whole millimetres"),
        (lambda: suggest_box([], BOXES), "nothing to pack"),
        (lambda: suggest_box([Item("A", 1, 1, 1, 1)], []), "no boxes"),
        (lambda: suggest_box([Item("A", 1, 1, 1, 1)], [SMALL, SMALL]), "share a code"),
        (lambda: check_fit([Item("A", 1, 1, 1, 1)], SMALL, fill_ratio=0), "fill ratio"),
        (lambda: check_parcel_weight(0, 850), "put the parcel on the scale"),
        (lambda: check_parcel_weight(800, 0), "expected weight"),
        (lambda: check_parcel_weight(800, 850, tolerance_g=-1), "tolerances"),
    ],
)
def test_bad_packing_input_is_refused_with_a_value_error(make, reason):
    with pytest.raises(PackingInputInvalid, match=reason) as caught:
        make()
    assert isinstance(caught.value, ValueError)
