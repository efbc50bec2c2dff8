"""SIGKILL the daemon at random points while it prints 1000 jobs, several times: at the end every job is printed
or visibly failed, none is lost, and a label printed twice only ever belongs to a job marked possible duplicate
(with the "POSSIBLE DUPLICATE" banner before the second copy)."""

from __future__ import annotations

import random
import re
import time
from collections import Counter

import pytest

from tests.e2e.printserver_support import (
    DaemonProcess,
    WmsServer,
    daemon_env,
    make_site,
    site_token,
    wait_until,
)
from tests.fakes.zebra import FakeZebra
from wms.printing.models import JobState

pytestmark = pytest.mark.slow

JOBS, PRINTERS, KILLS = 1000, 4, 6
_JOB = re.compile(rb"\^FDJOB-(\d{5})\^FS")
_BANNER = re.compile(rb"POSSIBLE DUPLICATE.*?\^FDjob (\d+) attempt", re.S)


def test_kill_9_at_random_points_over_1000_jobs_loses_nothing_and_marks_every_duplicate(app, tmp_path):
    rng = random.Random(20261123)
    app.config["PRINT_LEASE_SECONDS"] = 8  # jobs claimed but never journalled come back quickly
    zebras = [FakeZebra().start() for _ in range(PRINTERS)]
    site = make_site(app)
    for n, zebra in enumerate(zebras):
        site.add_printer(f"PR-{n}", f"socket://127.0.0.1:{zebra.port}", zone="A")
    server = WmsServer(app).start()
    state = tmp_path / "state"
    env = daemon_env(server.url, site_token(app, site), state, max_local_jobs=40, claim_batch=20,
                     long_poll_seconds=1)
    processes: list[DaemonProcess] = []
    try:
        payloads = [(b"^XA^FO20,20^A0N,30,30^FDJOB-%05d^FS^XZ" % n, f"PR-{n % PRINTERS}") for n in range(JOBS)]
        ids = site.enqueue_many(payloads, reference="CRASH")
        number_of = {job_id: n for n, job_id in enumerate(ids)}

        for _kill in range(KILLS):
            process = DaemonProcess(state, env).start()
            processes.append(process)
            time.sleep(rng.uniform(0.5, 3.0))
            assert process.alive(), process.text()[-3000:]
            process.kill()
        final = DaemonProcess(state, env).start()
        processes.append(final)
        wait_until(lambda: site.all_final(ids), 240, "every job printed or failed", every=1.0)
        assert final.terminate() == 0

        rows = site.jobs()
        labels = [label for zebra in zebras for label in zebra.received]
        copies = Counter(int(m.group(1)) for label in labels if (m := _JOB.search(label)))
        banners = Counter(int(m.group(1)) for label in labels if (m := _BANNER.search(label)))
        failed = [i for i in ids if rows[i]["state"] == JobState.FAILED]
        assert all(rows[i]["last_error"] for i in failed)
        for job_id in ids:
            row, n = rows[job_id], number_of[job_id]
            assert row["state"] in (JobState.PRINTED, JobState.FAILED)
            if row["state"] == JobState.PRINTED:
                assert copies[n] >= 1, f"job {job_id} reported printed but never reached its printer"
                assert row["printed_by"] == f"PR-{n % PRINTERS}"
            if copies[n] > 1:
                assert row["possible_duplicate"], f"job {job_id} printed {copies[n]} times, unmarked"
        duplicated = [n for n, c in copies.items() if c > 1]
        marked = [i for i in ids if rows[i]["possible_duplicate"]]
        print(f"{len(processes)} daemon runs, {KILLS} kill -9; {len(duplicated)} jobs printed more than once, "
              f"{len(marked)} marked possible duplicate, {sum(banners.values())} banners, {len(failed)} failed")
        assert not failed
        # every label in the printers belongs to a job of this test (banners aside): nothing stray
        assert sum(copies.values()) + sum(banners.values()) == len(labels)
    finally:
        for process in processes:
            if process.alive():
                process.kill()
        if processes:
            print(processes[-1].text()[-5000:])
        server.stop()
        for zebra in zebras:
            zebra.stop()
