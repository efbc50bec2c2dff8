"""The built-in carriers, fully offline: labels rendered with zplkit and decoded with zxing-cpp."""

from __future__ import annotations

import itertools
from datetime import date
from xml.etree import ElementTree

import pytest

from tests.unit.labels.reading import decode_labels, field_values
from wms.labels.documents.shipping import Address
from wms.shipping import sscc as sscc_rules
from wms.shipping import tracking
from wms.shipping.carriers import (
    ZPL,
    Carrier,
    Gs1LabelCarrier,
    OwnFleetCarrier,
    Parcel,
    Party,
    Route,
    Shipment,
)
from wms.shipping.documents import (
    MANIFEST_LINES_PER_PAGE,
    Gs1ParcelLabel,
    ManifestDocument,
    ManifestLine,
    OwnFleetLabel,
)
from wms.shipping.errors import ShipmentRefused, ShippingInputInvalid, TrackingNumberInvalid
from wms.shipping.sscc import SsccIssuer

FROM = Party(Address("ACME Flow Racks", ("1 Rack Road",), "75001", "Paris", "FR"), phone="+33 1 00 00 00 00")
TO = Party(Address("Jean Dupont", ("12 rue de la Paix", "Bat B"), "69001", "Lyon", "FR"))
DAY = date(2026, 11, 23)


def issuer(start: int = 1) -> SsccIssuer:
    counter = itertools.count(start)
    return SsccIssuer("7610425", 3, lambda: next(counter))


def own_fleet(**kwargs) -> OwnFleetCarrier:
    counter = itertools.count(1)
    routes = [
        Route("LYON-N", "Ann", ("69",)),
        Route("LYON-1", "Bob", ("69001", "69002")),
        Route("PARIS", "Cy", ("75",)),
    ]
    return OwnFleetCarrier(
        prefix="OF",
        next_serial=lambda: next(counter),
        sscc_issuer=issuer(),
        routes=routes,
        site="ACME",
        **kwargs,
    )


def shipment(*weights: int, reference: str = "SO-42", to: Party = TO) -> Shipment:
    return Shipment(reference, FROM, to, tuple(Parcel(w) for w in weights or (1234,)))


def test_every_built_in_carrier_offers_the_one_interface():
    for carrier in (own_fleet(), Gs1LabelCarrier(sscc_issuer=issuer())):
        assert isinstance(carrier, Carrier)


def test_the_own_fleet_label_decodes_to_its_tracking_number_and_sscc():
    label = own_fleet().create_shipment(shipment(1234))
    assert label.carrier == "OWN" and label.content_type == ZPL
    assert label.tracking_number == "OF0000000017" == tracking.own_fleet_number("OF", 1)
    (parcel,) = label.parcels
    assert sscc_rules.is_valid(parcel.sscc)
    (page,) = decode_labels(label.label_zpl)
    decoded = {(d.text, d.symbology_identifier) for d in page}
    assert (label.tracking_number, "]C0") in decoded
    assert (f"(00){parcel.sscc}", "]C1") in decoded
    fields = field_values(label.label_zpl)
    assert "ROUTE LYON-1" in fields and "DRIVER Bob" in fields and "ORDER SO-42" in fields


def test_the_route_is_the_longest_matching_postal_prefix():
    carrier = own_fleet()
    assert carrier.route_for(TO.address).code == "LYON-1"
    villeurbanne = Address("A", ("1 cours Emile Zola",), "69100", "Villeurbanne", "FR")
    assert carrier.route_for(villeurbanne).code == "LYON-N"


def test_a_destination_no_route_serves_is_refused_before_any_number_is_used():
    used = []
    carrier = OwnFleetCarrier(
        prefix="OF",
        next_serial=lambda: used.append(1) or len(used),
        sscc_issuer=issuer(),
        routes=[Route("PARIS", "Cy", ("75",))],
    )
    with pytest.raises(ShipmentRefused, match="No own-fleet route serves postal code 69001 \\(FR\\)"):
        carrier.create_shipment(shipment())
    assert used == []


def test_each_parcel_of_a_shipment_gets_its_own_label_number_and_sscc():
    label = own_fleet().create_shipment(shipment(1000, 2000, 500))
    pages = decode_labels(label.label_zpl)
    assert len(pages) == 3
    for page, parcel in zip(pages, label.parcels, strict=True):
        texts = {d.text for d in page}
        assert {parcel.tracking_number, f"(00){parcel.sscc}"} <= texts
        tracking.validate_own_fleet(parcel.tracking_number, prefix="OF")
    assert len({p.tracking_number for p in label.parcels}) == 3 == len({p.sscc for p in label.parcels})
    assert [f for f in field_values(label.label_zpl) if f.count("/") == 1 and len(f) == 3] == [
        "1/3",
        "2/3",
        "3/3",
    ]


def test_an_sscc_given_with_the_parcel_is_used():
    given = "376104250021234569"
    label = own_fleet().create_shipment(Shipment("SO-1", FROM, TO, (Parcel(900, sscc=given),)))
    assert label.parcels[0].sscc == given


def test_the_gs1_label_carries_sscc_weight_and_order_and_the_sscc_is_the_tracking_number():
    label = Gs1LabelCarrier(sscc_issuer=issuer(2123456)).create_shipment(
        shipment(12_345, reference="PO-7781")
    )
    assert label.tracking_number == "376104250021234569"
    (page,) = decode_labels(label.label_zpl)
    gs1 = {d.text for d in page if d.symbology_identifier == "]C1"}
    assert gs1 == {"(00)376104250021234569", "(3303)012345(400)PO-7781"}
    fields = field_values(label.label_zpl)
    assert "PO-7781" in fields and "12.3 kg" in fields and "Jean Dupont" in fields


def test_an_order_reference_gs1_cannot_carry_is_refused_clearly():
    with pytest.raises(ShipmentRefused, match="AI \\(400\\)"):
        Gs1LabelCarrier(sscc_issuer=issuer()).create_shipment(shipment(reference="SO 42"))


def test_the_own_fleet_manifest_lists_every_parcel_and_decodes_to_its_reference():
    carrier = own_fleet()
    labels = [carrier.create_shipment(shipment(1000, 500, reference=f"SO-{n}")) for n in range(1, 9)]
    manifest = carrier.manifest(labels, DAY)
    assert manifest.parcel_count == 16 and manifest.weight_grams == 8 * 1500
    assert manifest.tracking_numbers == tuple(p.tracking_number for s in labels for p in s.parcels)
    pages = decode_labels(manifest.document.decode("ascii"))
    assert len(pages) == -(-16 // MANIFEST_LINES_PER_PAGE)
    assert all([d.text for d in page] == [manifest.reference] for page in pages)
    fields = field_values(manifest.document.decode("ascii"))
    assert set(manifest.tracking_numbers) <= set(fields)
    assert "MANIFEST Own fleet" in fields and "16 parcels 12.00 kg" in fields
    assert manifest.reference.startswith("M-OWN-20261123-")
    assert carrier.manifest(list(reversed(labels)), DAY).reference == manifest.reference


def test_a_manifest_refuses_nothing_duplicates_and_other_carriers_labels():
    carrier = own_fleet()
    label = carrier.create_shipment(shipment())
    other = Gs1LabelCarrier(sscc_issuer=issuer(500)).create_shipment(shipment())
    with pytest.raises(ShippingInputInvalid, match="Nothing to put on the Own fleet manifest of 23/11/2026"):
        carrier.manifest([], DAY)
    with pytest.raises(ShippingInputInvalid, match="twice"):
        carrier.manifest([label, label], DAY)
    with pytest.raises(ShippingInputInvalid, match="goes with GS1"):
        carrier.manifest([label, other], DAY)


def test_cancel_checks_the_number_belongs_to_the_carrier():
    carrier = own_fleet()
    label = carrier.create_shipment(shipment())
    assert carrier.cancel(label.tracking_number).tracking_number == label.tracking_number
    with pytest.raises(TrackingNumberInvalid):
        carrier.cancel("OF0000000018")
    gs1 = Gs1LabelCarrier(sscc_issuer=issuer())
    with pytest.raises(TrackingNumberInvalid, match="check digit should be 9"):
        gs1.cancel("376104250021234568")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: Parcel(0), "above 0"),
        (lambda: Parcel(100, 10, 0, 10), "all 0 if unknown"),
        (lambda: Parcel(100, sscc="123"), "18"),
        (lambda: Shipment("", FROM, TO, (Parcel(1),)), "reference"),
        (lambda: Shipment("SO-1", FROM, TO, ()), "no parcels"),
        (lambda: Shipment("SO-1", FROM, Party(Address("X", (), "1", "Y", "FR")), (Parcel(1),)), "street"),
        (
            lambda: Shipment("SO-1", FROM, Party(Address("X", ("s",), "1", "Y", "France")), (Parcel(1),)),
            "ISO",
        ),
        (lambda: OwnFleetCarrier(prefix="of", next_serial=int, sscc_issuer=issuer(), routes=[]), "prefix"),
        (lambda: OwnFleetCarrier(prefix="OF", next_serial=int, sscc_issuer=issuer(), routes=[]), "route"),
        (lambda: Route("R", "D", ()), "prefix"),
    ],
)
def test_bad_shipment_input_is_refused_with_a_value_error(make, reason):
    with pytest.raises(ValueError, match=reason):
        make()


def test_every_shipping_document_also_previews_as_svg():
    sscc = "376104250021234569"
    previews = [
        *OwnFleetLabel(
            FROM.address,
            TO.address,
            "Own fleet",
            "standard",
            900,
            "OF0000000017",
            sscc,
            "SO-1",
            route="R1",
            driver="Ann",
        ).to_svg(),
        *Gs1ParcelLabel(sscc, FROM.address, TO.address, gross_weight_kg=1.2, order_ref="SO-1").to_svg(),
        *ManifestDocument(
            "Own fleet", DAY, "M-OWN-1", (ManifestLine("OF0000000017", "SO-1", "69001 Lyon", 900),)
        ).to_svg(),
    ]
    assert len(previews) == 3
    for svg in previews:
        ElementTree.fromstring(svg)
