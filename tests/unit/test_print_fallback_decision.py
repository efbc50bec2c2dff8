"""When a label is stranded (no ZPL printer of its own may print it), decided without a database."""

from __future__ import annotations

from wms.printing.fallback import PrinterView, label_geometry, stranded, why_unusable


def _zebra(code="ZB-1", *, status="ready", fresh=True, failures=0, enabled=True):  # type: ignore[no-untyped-def]
    return PrinterView(code, enabled, status, None, fresh, failures)


def test_a_label_is_stranded_only_when_its_printer_and_its_backup_both_cannot_print():
    down, backup_ok = _zebra(status="offline"), _zebra("ZB-2", status="buffer_full")
    assert stranded([down, backup_ok], after_failures=2) is None
    assert stranded([down, _zebra("ZB-2", failures=2)], 2) == "ZB-1 is offline; ZB-2 failed 2 deliveries of this job"
    assert stranded([_zebra(status="paused"), _zebra("ZB-2", enabled=False)], 2) == \
        "ZB-1 is paused; ZB-2 is disabled"


def test_a_stale_or_brand_new_status_or_a_single_failure_is_no_verdict():
    assert why_unusable(_zebra(status="offline", fresh=False), 2) is None  # the daemon may be gone, not the printer
    rebooting = PrinterView("ZB-1", True, "offline", None, True, 0, status_for_seconds=5)
    assert why_unusable(rebooting, 2, grace_seconds=30) is None
    assert why_unusable(rebooting, 2, grace_seconds=5) == "ZB-1 is offline"
    assert why_unusable(_zebra(failures=1), 2) is None
    assert why_unusable(_zebra(failures=1), 1) == "ZB-1 failed 1 deliveries of this job"


def test_the_pdf_takes_the_label_size_from_the_zpl_and_guesses_300_dpi_from_its_width():
    assert label_geometry(b"^XA^PW813^LL1219^FDx^FS^XZ") == (813, 1219, 203)
    assert label_geometry(b"^XA^PW1200^LL1800^XZ") == (1200, 1800, 300)
    assert label_geometry(b"^XA^FDx^FS^XZ") == (812, 1218, 203)
