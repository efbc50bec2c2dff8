"""The print-job preview answers 200 for labels with emoji, Arabic, fullwidth, ligatures and French accents,
and for bytes the renderer cannot draw at all (a placeholder page), on the API and on the supervisor page."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.factories import sign_in_client
from wms.db import db
from wms.enums import PrinterPlace, ResourceKind, ZoneKind
from wms.labels import preview
from wms.labels.documents.shipping import Address, CarrierLabel
from wms.labels.layout import Label, LabelSize, Text
from wms.labels.zpl import render_label
from wms.layout import services as layout
from wms.printing import jobs
from wms.printing.jobs import ZPL
from wms.printing.models import DocumentKind

pytest.importorskip("zplkit")

DONE_WHEN = Label(LabelSize(100, 60), tuple(
    Text(20, y, text, 40, max_chars=40)
    for text, y in (("emoji 📦🏷️", 20), ("RTL مرحبا", 120), ("Ｆｕｌｌｗｉｄｔｈ", 220), ("ﬁ ß Œ", 320))))
FRENCH = CarrierLabel(Address("Entrepôt Hélène", ("1 rue de l'Église",), "75001", "Paris", "FR"),
                      Address("François Lefèvre-Bœuf", ("12 rue de la Paix", "Bât. B"), "69001", "Lyon", "FR"),
                      "Colissimo", "Domicile", 500, "6A12345678901", "106141411234567897", "SO-1")


@pytest.fixture
def queued(app, make_warehouse, make_user, make_token):  # type: ignore[no-untyped-def]
    """Three committed jobs at a pack station's printer (Done-when label, French address, unrenderable) and
    an API token and a user of a supervisor of the warehouse."""
    with app.app_context():
        wh = make_warehouse("W1")
        pack = layout.add_zone(wh, "PK", ZoneKind.PACK)
        station = layout.add_resource(pack, "PS1", ResourceKind.PACK_STATION)
        layout.add_printer(wh, "PS-1", place=PrinterPlace.PACK_STATION, zone=pack, resource=station,
                           connection="virtual://ps")
        payloads = {"done": render_label(DONE_WHEN).encode("ascii"), "french": FRENCH.to_zpl().encode("ascii"),
                    "broken": b"^XA^PW400^LL200^FO10,10^GFA,9999,9999,10,ZZ^FS^XZ\n"}
        ids = {key: jobs.enqueue_job(warehouse_id=wh.id, kind=DocumentKind.CARRIER_LABEL, reference=key,
                                     payload=payload, content_type=ZPL, idempotency_key=key,
                                     resource_id=station.id).id
               for key, payload in payloads.items()}
        supervisor = make_user(roles=("supervisor",), all_warehouses=True)
        headers = {"Authorization": f"Bearer {make_token('user', user=supervisor)}"}
        db.session.commit()
        return ids, headers, supervisor


def _png(resp) -> Image.Image:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.data[:300]
    assert resp.mimetype == "image/png"
    return Image.open(io.BytesIO(resp.data))


def test_the_api_preview_draws_the_done_when_label_and_the_french_address(client, queued):  # type: ignore[no-untyped-def]
    ids, headers, _ = queued
    resp = client.get(f"/api/v1/print-jobs/{ids['done']}/preview.png", headers=headers)
    assert _png(resp).size == (800, 480)
    # The rendered label itself (glyphs checked in tests/unit/labels/test_unicode_fields.py), not a placeholder.
    rendered = preview.png_from_zpl(render_label(DONE_WHEN), width=800, height=480, dpi=203)
    assert rendered.substituted_glyphs == () and resp.data == rendered.pages[0]
    french = client.get(f"/api/v1/print-jobs/{ids['french']}/preview.png", headers=headers)
    assert _png(french).size == (813, 1219)
    assert french.data == preview.png(FRENCH).pages[0]
    assert client.get(f"/api/v1/print-jobs/{ids['done']}/preview.png?page=2", headers=headers).status_code == 409


def test_bytes_the_renderer_rejects_preview_as_a_placeholder_not_an_error(client, queued):  # type: ignore[no-untyped-def]
    ids, headers, supervisor = queued
    assert _png(client.get(f"/api/v1/print-jobs/{ids['broken']}/preview.png", headers=headers)).size == (400, 200)
    sign_in_client(client.application, client, supervisor)
    _png(client.get(f"/print-jobs/{ids['done']}/preview.png"))
    _png(client.get(f"/print-jobs/{ids['broken']}/preview.png"))
