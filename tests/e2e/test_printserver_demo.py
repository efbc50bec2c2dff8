"""The README's run command starts the print daemon with the demo's virtual printers: it says where labels land,
the printers show up ready in the WMS, a pick order queued for zone A becomes a file at PR-A, and Ctrl-C (SIGTERM)
stops the daemon with the web app."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.e2e.printserver_support import ROOT, free_port, wait_until
from wms import create_app
from wms.db import db

pytestmark = pytest.mark.slow


def _healthy(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def test_the_demo_runs_the_print_daemon_and_labels_land_as_files(tmp_path: Path) -> None:
    port = free_port()
    database = f"sqlite:///{tmp_path}/demo.db"
    print_dir = tmp_path / "printserver"
    env = {**os.environ, "WMS_DATABASE_URL": database, "WMS_SECRET_KEY": secrets.token_urlsafe(32),
           "WMS_WORKERS": "2", "PRINTSERVER_STATE_DIR": str(print_dir)}
    env.pop("WMS_CONFIG", None)
    process = subprocess.Popen([str(ROOT / "scripts" / "demo"), "--port", str(port)], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_until(lambda: _healthy(f"http://127.0.0.1:{port}/api/v1/health") or process.poll() is not None,
                   240, "the demo to answer")
        assert process.poll() is None, "".join(output)
        # the script prints the label folder once its own health check has passed, a moment after ours
        label_line = f"labels land in {print_dir}/labels/<printer>/<job>-<attempt>.zpl"
        wait_until(lambda: label_line in "".join(output) or process.poll() is not None, 60,
                   "the demo to print its label folder")
        assert label_line in "".join(output), "".join(output)

        app = create_app({"DATABASE_URL": database, "SECRET_KEY": "read-only-look"})
        from wms.printing.models import Printer

        def statuses() -> dict[str, str]:
            with app.app_context():
                return {p.code: p.status for p in db.session.scalars(select(Printer))}

        wait_until(lambda: set(statuses().values()) == {"ready"}, 60, "the virtual printers reported ready")

        from wms.labels.documents import ProductLabel
        from wms.layout.models import Warehouse, Zone
        from wms.printing import jobs
        from wms.printing.models import DocumentKind, JobState, PrintJob

        payload = ProductLabel("SKU-DEMO", "Demo label").to_zpl().encode("ascii")
        with app.app_context():
            warehouse = db.session.scalar(select(Warehouse).where(Warehouse.code == "DEMO"))
            zone = db.session.scalar(select(Zone).where(Zone.warehouse_id == warehouse.id, Zone.code == "A"))
            job = jobs.enqueue_job(warehouse_id=warehouse.id, kind=DocumentKind.PICK_ORDER, reference="OP-DEMO",
                                   payload=payload, content_type=jobs.ZPL, idempotency_key="demo-test-1",
                                   zone_id=zone.id)
            db.session.commit()
            job_id = job.id

        label = print_dir / "labels" / "PR-A" / f"{job_id}-1.zpl"
        wait_until(label.exists, 60, f"{label} written")
        assert label.read_bytes() == payload

        def state() -> JobState:
            with app.app_context():
                return db.session.get(PrintJob, job_id).state

        wait_until(lambda: state() == JobState.PRINTED, 60, "the job reported printed")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=10)
        process.stdout.close()
    assert process.returncode == 0
    log = (print_dir / "daemon.log").read_text()
    assert "printserver demo-daemon started" in log and "printserver stopped" in log
