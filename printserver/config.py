"""Daemon settings: a TOML file (``--config``), then ``PRINTSERVER_*`` environment variables on top.

    wms_url = "https://wms.example.com"        # PRINTSERVER_WMS_URL
    token_file = "/etc/wms/printserver.token"  # PRINTSERVER_TOKEN_FILE (or token = "..." / PRINTSERVER_TOKEN)
    ca_file = "/etc/wms/ca.pem"                # PRINTSERVER_CA_FILE: a private CA for the WMS certificate
    state_dir = "/var/lib/wms-printserver"     # PRINTSERVER_STATE_DIR: the journal lives here
    daemon_id = "site-box-1"                   # PRINTSERVER_DAEMON_ID, default: the host name
    virtual_dir = "/var/lib/wms-printserver/labels"  # PRINTSERVER_VIRTUAL_DIR: where virtual:// printers write
    cups_server = "127.0.0.1:631"              # PRINTSERVER_CUPS_SERVER, default: libcups' own default

    [timing]                                   # PRINTSERVER_<NAME> for each, e.g. PRINTSERVER_FAILOVER_AFTER_SECONDS
    long_poll_seconds = 25
    ...

Every number of the ``[timing]`` table is a field of ``Settings`` below.
"""

from __future__ import annotations

import os
import socket
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


class ConfigError(ValueError):
    """The configuration cannot run a daemon; the message says which setting."""


@dataclass(frozen=True)
class Settings:
    wms_url: str
    token: str
    state_dir: Path
    daemon_id: str = field(default_factory=socket.gethostname)
    ca_file: Path | None = None
    virtual_dir: Path | None = None
    cups_server: str | None = None
    # claims
    long_poll_seconds: float = 25.0
    claim_batch: int = 50
    max_local_jobs: int = 200  # jobs held at once; the WMS keeps the rest queued for other runs
    http_timeout_seconds: float = 10.0
    # printers
    connect_timeout_seconds: float = 3.0
    write_timeout_seconds: float = 15.0
    status_timeout_seconds: float = 2.0
    status_interval_seconds: float = 15.0  # probe idle printers this often, report to the WMS on change
    status_heartbeat_seconds: float = 60.0  # report every printer at least this often
    cups_confirm_seconds: float = 10.0  # wait this long for CUPS to finish a job before reporting `sent`
    # failures
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    failover_after_seconds: float = 60.0
    fail_after_attempts: int = 50  # then the job is reported `failed` (visible) instead of `retry`
    wms_backoff_max_seconds: float = 30.0
    duplicate_banner: bool = True  # print a "POSSIBLE DUPLICATE" label before a job that may have printed
    stop_timeout_seconds: float = 20.0

    @property
    def journal_path(self) -> Path:
        return self.state_dir / "journal.sqlite3"


_TIMING = {f.name: f for f in fields(Settings) if f.type in ("float", "int", "bool")}
_PATHS = ("state_dir", "ca_file", "virtual_dir")


def _coerce(name: str, value: object) -> object:
    kind = _TIMING[name].type
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(value)
            return text in ("1", "true", "yes", "on")
        number = int(value) if kind == "int" else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a {kind}, not {value!r}") from exc
    if number < 0:
        raise ConfigError(f"{name} must not be negative")
    return number


def load(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read the TOML file (if any) and the environment; raise ConfigError naming what is missing or wrong."""
    env = dict(os.environ if env is None else env)
    raw: dict[str, object] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        raw.update({k: v for k, v in data.items() if not isinstance(v, dict)})
        raw.update(data.get("timing", {}))
    known = {f.name for f in fields(Settings)} | {"token_file"}
    for name in known:
        value = env.get(f"PRINTSERVER_{name.upper()}")
        if value not in (None, ""):
            raw[name] = value
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")

    token_file = raw.pop("token_file", None)
    if not raw.get("token") and token_file:
        try:
            raw["token"] = Path(str(token_file)).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the token file {token_file}: {exc.strerror}") from exc
    for required in ("wms_url", "token", "state_dir"):
        if not raw.get(required):
            hint = " (or token_file / PRINTSERVER_TOKEN_FILE)" if required == "token" else ""
            raise ConfigError(f"{required} is required: set it in the file or PRINTSERVER_{required.upper()}{hint}")
    url = str(raw["wms_url"]).rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise ConfigError("wms_url must start with https:// (or http:// on a trusted loopback)")
    raw["wms_url"] = url
    for name in _PATHS:
        if raw.get(name):
            raw[name] = Path(str(raw[name]))
    for name in list(raw):
        if name in _TIMING:
            raw[name] = _coerce(name, raw[name])
    settings = Settings(**raw)  # type: ignore[arg-type]
    if settings.ca_file is not None and not settings.ca_file.is_file():
        raise ConfigError(f"ca_file {settings.ca_file} does not exist")
    if settings.virtual_dir is None:
        settings = replace(settings, virtual_dir=settings.state_dir / "labels")
    if not 1 <= settings.claim_batch <= 500:
        raise ConfigError("claim_batch must be between 1 and 500")
    return settings
