"""The journal survives a reopen with its states and reports; the configuration names what is wrong."""

from __future__ import annotations

import pytest

from printserver.config import ConfigError, load
from printserver.journal import Journal, report_key


def _job(job_id: int, attempt: int = 1) -> dict:
    return {"id": job_id, "attempt": attempt, "payload_b64": "", "printer": {"code": "P"}}


def test_states_and_undelivered_reports_survive_a_reopen(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    assert journal.record_claimed([_job(1)]) == [True]
    assert journal.record_claimed([_job(1), _job(2)]) == [False, True]
    journal.mark(1, 1, "sending", printer_code="P")
    key = report_key("d", 2, 1, "printed")
    journal.mark(2, 1, "done", printer_code="P", report=(key, {"outcome": "printed"}))
    journal.mark(2, 1, "done", printer_code="P", report=(key, {"outcome": "printed"}))  # replay: one report
    journal._db.close()  # no checkpoint, as after kill -9

    again = Journal(tmp_path / "j.sqlite3")
    assert [(j.job_id, j.state, j.printer_code) for j in again.open_jobs()] == [(1, "sending", "P")]
    pending = again.pending_reports()
    assert [(r.job_id, r.key, r.body) for r in pending] == [(2, key, {"outcome": "printed"})]
    again.delivered(pending[0].seq, "200")
    assert again.pending_reports() == []
    assert again.pending_reports(shard=1, shards=2) == []


def test_report_keys_are_deterministic_per_job_attempt_and_outcome():
    assert report_key("d", 7, 2, "sent") == report_key("d", 7, 2, "sent")
    assert len({report_key("d", 7, 2, "sent"), report_key("d", 7, 3, "sent"), report_key("d", 7, 2, "printed")}) == 3


def test_configuration_from_a_file_with_the_environment_on_top(tmp_path):
    token = tmp_path / "token"
    token.write_text("secret-token\n")
    conf = tmp_path / "p.toml"
    conf.write_text(f'wms_url = "https://wms.example/"\ntoken_file = "{token}"\nstate_dir = "{tmp_path}"\n'
                    "[timing]\nfailover_after_seconds = 30\n")
    settings = load(conf, env={"PRINTSERVER_DAEMON_ID": "box-1", "PRINTSERVER_LONG_POLL_SECONDS": "5"})
    assert settings.wms_url == "https://wms.example" and settings.token == "secret-token"
    assert settings.daemon_id == "box-1" and settings.long_poll_seconds == 5.0
    assert settings.failover_after_seconds == 30.0
    assert settings.virtual_dir == tmp_path / "labels"


@pytest.mark.parametrize(("env", "message"), [
    ({}, "wms_url is required"),
    ({"PRINTSERVER_WMS_URL": "ftp://x", "PRINTSERVER_TOKEN": "t", "PRINTSERVER_STATE_DIR": "/tmp"}, "https://"),
    ({"PRINTSERVER_WMS_URL": "https://x", "PRINTSERVER_STATE_DIR": "/tmp"}, "token is required"),
    ({"PRINTSERVER_WMS_URL": "https://x", "PRINTSERVER_TOKEN": "t", "PRINTSERVER_STATE_DIR": "/tmp",
      "PRINTSERVER_RETRY_BASE_SECONDS": "soon"}, "retry_base_seconds must be a float"),
    ({"PRINTSERVER_WMS_URL": "https://x", "PRINTSERVER_TOKEN": "t", "PRINTSERVER_STATE_DIR": "/tmp",
      "PRINTSERVER_CA_FILE": "/nonexistent.pem"}, "ca_file"),
])
def test_a_bad_configuration_says_which_setting(env, message):
    with pytest.raises(ConfigError, match=message):
        load(None, env=env)


def test_concurrent_writers_share_commits_and_a_failing_part_fails_alone(tmp_path):
    import sqlite3
    import threading

    journal = Journal(tmp_path / "j.sqlite3")
    journal.record_claimed([_job(n) for n in range(200)])
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            journal.mark(n, 1, "done", printer_code="P", report=(report_key("d", n, 1, "printed"), {"n": n}))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with pytest.raises(sqlite3.IntegrityError):
        journal.mark(0, 1, "no-such-state")  # the CHECK refuses it; nothing else is affected
    journal._db.close()
    again = Journal(tmp_path / "j.sqlite3")
    assert again.open_jobs() == []
    assert len(again.pending_reports(limit=1000)) == 200


def test_the_command_refuses_to_start_without_a_configuration_and_says_why(monkeypatch, capsys):
    from printserver.__main__ import main

    for name in ("PRINTSERVER_WMS_URL", "PRINTSERVER_TOKEN", "PRINTSERVER_TOKEN_FILE", "PRINTSERVER_STATE_DIR",
                 "PRINTSERVER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert main([]) == 2
    assert "wms_url is required" in capsys.readouterr().err
