"""The site daemon against the real WMS: OPs enqueued for rack zones arrive byte-exact at the printers at the
head of those zones, read back with zplkit and zxing-cpp as the WMS meant them, over HTTPS with a private CA."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.e2e.printserver_support import (
    DaemonProcess,
    WmsServer,
    daemon_env,
    delivered,
    make_private_ca,
    make_site,
    site_token,
    wait_until,
)
from tests.fakes.zebra import FakeZebra
from tests.unit.labels.reading import decode_labels, field_values, texts
from wms.labels.documents import PickLine, PickOrderDocument, ProductLabel
from wms.printing.models import JobState

pytestmark = pytest.mark.slow

TRICKY = "Café ^XZ^XA~JA_x"


def _op(number: str, zone: str, lines: int) -> PickOrderDocument:
    return PickOrderDocument(
        number, zone, "W-7", datetime(2026, 11, 23, 8), datetime(2026, 11, 23, 9),
        tuple(PickLine(seq, f"{zone}-01-{seq:02d}", f"SKU-{zone}{seq}", f"Widget {seq}", seq, tote=f"T{seq}")
              for seq in range(1, lines + 1)),
    )


@pytest.fixture
def zebras():
    with FakeZebra() as a, FakeZebra() as b:
        yield {"A": a, "B": b}


@pytest.fixture
def daemons(tmp_path):
    started: list[DaemonProcess] = []

    def start(env: dict[str, str]) -> DaemonProcess:
        process = DaemonProcess(tmp_path / "state", env).start()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.alive():
            process.terminate()
        print(process.text())  # shown when the test failed


@pytest.mark.parametrize("https", [False, True], ids=["http", "https-private-ca"])
def test_ops_arrive_byte_exact_at_the_printer_at_the_head_of_their_zone(app, tmp_path, zebras, daemons, https):
    site = make_site(app)
    for zone, zebra in zebras.items():
        site.add_printer(f"PR-{zone}", f"socket://127.0.0.1:{zebra.port}", zone=zone)
    tls = None
    if https:
        ca, cert, key = make_private_ca(tmp_path)
        tls = (cert, key)
    server = WmsServer(app, tls).start()
    try:
        env = daemon_env(server.url, site_token(app, site), tmp_path / "state")
        if https:
            env["PRINTSERVER_CA_FILE"] = str(ca)
        daemon = daemons(env)
        documents = {"A": _op("OP-A-1", "A", 7), "B": _op("OP-B-1", "B", 3)}
        payloads = {zone: doc.to_zpl().encode("ascii") for zone, doc in documents.items()}
        ids = {zone: site.enqueue(payloads[zone], zone=zone, reference=documents[zone].op_number)
               for zone in documents}
        wait_until(lambda: site.all_final(list(ids.values())), 30, "both OPs printed")

        rows = site.jobs()
        for zone, job_id in ids.items():
            assert rows[job_id]["state"] == JobState.PRINTED, site.events(job_id)
            assert rows[job_id]["printed_by"] == f"PR-{zone}"
            assert not rows[job_id]["possible_duplicate"]
            # byte-exact, one format per label, nothing else received by that printer
            zebra = zebras[zone]
            assert delivered(zebra) == payloads[zone]
            assert len(zebra.printed) == documents[zone].page_count
            pages = decode_labels(b"".join(zebra.printed).decode("ascii"))
            route = documents[zone].route
            for number, decoded in enumerate(pages):
                assert "OP-" + zone + "-1" in texts(decoded)
                for line in route[number * 5:(number + 1) * 5]:
                    assert line.location in texts(decoded)
        assert site.printer_status("PR-A")[0] == "ready"
        assert daemon.alive()
        assert daemon.terminate() == 0
        assert "printserver stopped" in daemon.text()
    finally:
        server.stop()


def test_a_product_named_with_zpl_commands_prints_literally_on_one_label(app, tmp_path, zebras, daemons):
    site = make_site(app)
    site.add_printer("PR-A", f"socket://127.0.0.1:{zebras['A'].port}", zone="A")
    server = WmsServer(app).start()
    try:
        daemons(daemon_env(server.url, site_token(app, site), tmp_path / "state"))
        label = ProductLabel("SKU-CAFE", TRICKY, internal_code="INT-CAFE").to_zpl().encode("ascii")
        job_id = site.enqueue(label, printer="PR-A", reference="SKU-CAFE")
        wait_until(lambda: site.all_final([job_id]), 30, "the product label printed")
        zebra = zebras["A"]
        assert delivered(zebra) == label
        assert zebra.printed == [label.strip()]  # one label: the ^XZ^XA inside the name did not split it
        assert zebra.connections[-1].queries.count(b"~JA") == 0  # ~JA in the name did not cancel anything
        printed = zebra.printed[0].decode("ascii")
        assert TRICKY in field_values(printed)
        (page,) = decode_labels(printed)
        assert texts(page) == ["INT-CAFE"]
        assert site.jobs()[job_id]["state"] == JobState.PRINTED
    finally:
        server.stop()
