"""The README's two commands do their own set-up: Debian packages (scripts/system-deps), then .venv at the locked
versions (scripts/bootstrap, constraints.txt); CI runs the README's test command and nothing else; the licence."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# sha256 of https://www.gnu.org/licenses/agpl-3.0.txt
AGPL_SHA256 = "8486a10c4393cee1c25392769ddd3b2d6c242d6ec7928e1414efff7dfb2f07ef"


@pytest.fixture
def bin_dir() -> Iterator[Path]:
    """A folder nobody can read (pytest's tmp_path is private to its user)."""
    with tempfile.TemporaryDirectory(prefix="system-deps-") as folder:
        os.chmod(folder, 0o755)
        yield Path(folder)


def _path_without(bin_dir: Path, *missing: str) -> str:
    """A PATH holding every system command but `missing` (links in one folder)."""
    for folder in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            target = bin_dir / name
            if name in missing or target.exists() or target.is_symlink():
                continue
            target.symlink_to(os.path.join(folder, name))
    return str(bin_dir)


def _as_a_plain_user(command: list[str], path: str) -> subprocess.CompletedProcess[str]:
    """Run `command` as someone who cannot install packages: nobody when the tests run as root."""
    env = {"PATH": path, "HOME": "/nonexistent", "LANG": "C.UTF-8"}
    prefix = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *command],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_without_chromium_a_plain_user_gets_the_apt_get_line_and_status_2(bin_dir: Path) -> None:
    result = _as_a_plain_user([str(ROOT / "scripts" / "system-deps")], _path_without(bin_dir, "chromium"))
    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("apt-get install "), result.stdout
    assert "chromium" in lines[0].split()


def test_the_test_command_stops_before_any_check_when_a_package_is_missing(bin_dir: Path) -> None:
    result = _as_a_plain_user([str(ROOT / "scripts" / "test")], _path_without(bin_dir, "chromium"))
    assert result.returncode == 2
    assert result.stdout.startswith("apt-get install ") and "bootstrap" not in result.stdout + result.stderr
    assert "passed" not in result.stdout and "ruff" not in result.stdout


def test_the_demo_checks_only_what_the_demo_needs(bin_dir: Path) -> None:
    result = _as_a_plain_user([str(ROOT / "scripts" / "system-deps"), "--demo"], _path_without(bin_dir, "chromium"))
    assert result.returncode == 0, result.stdout + result.stderr
    demo = (ROOT / "scripts" / "demo").read_text()
    assert demo.index("scripts/system-deps --demo") < demo.index("scripts/bootstrap")


def test_ci_runs_the_readme_test_command_and_nothing_else() -> None:
    text = (ROOT / ".ci" / "run").read_text()
    assert "apt-get" not in text
    commands = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert commands[-1] == "scripts/test"
    assert all(c == "scripts/test" or c.startswith(("set -euo pipefail", "cd ")) for c in commands), commands


def test_the_test_command_installs_system_packages_before_anything_else() -> None:
    commands = [ln for ln in (ROOT / "scripts" / "test").read_text().splitlines()
                if ln.strip() and not ln.startswith(("#", "set ", "cd "))]
    assert commands[:2] == ["scripts/system-deps", "scripts/bootstrap"]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[_canonical(name)] = version
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _needed(project: str, extras: tuple[str, ...]) -> set[str]:
    """Every distribution `project` with `extras` needs, transitively (as installed, markers evaluated)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [(project, extras)]
    while todo:
        name, wanted = todo.pop()
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            envs = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if req.marker is not None and not any(req.marker.evaluate(env) for env in envs):
                continue
            key = _canonical(req.name)
            if key not in seen:
                seen.add(key)
                todo.append((req.name, tuple(req.extras)))
    return seen


def test_the_venv_holds_the_locked_versions_and_the_lock_pins_everything_the_project_needs() -> None:
    pins = _pins()
    installed = {_canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    assert {name: installed.get(name) for name in pins} == pins
    unpinned = _needed("rackzone-wms", ("test", "cups")) - set(pins)
    assert unpinned == set(), "run scripts/lock: pyproject.toml needs packages constraints.txt does not pin"


def test_bootstrap_installs_from_the_lock_and_reinstalls_when_either_file_changes() -> None:
    text = (ROOT / "scripts" / "bootstrap").read_text()
    assert "-c constraints.txt" in text
    assert "cat pyproject.toml constraints.txt | sha256sum" in text
    assert "constraints.txt" in (ROOT / "scripts" / "lock").read_text()


def test_the_licence_is_the_unaltered_agpl_v3_and_the_package_says_so() -> None:
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(text).hexdigest() == AGPL_SHA256
    assert text.decode().rstrip().endswith("<https://www.gnu.org/licenses/>.")
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    assert project["license"] == "AGPL-3.0-or-later" and project["license-files"] == ["LICENSE"]



@pytest.mark.skipif(os.geteuid() != 0, reason="installing needs root")
def test_as_root_what_is_missing_is_installed_with_apt_get(bin_dir: Path) -> None:
    path = _path_without(bin_dir, "chromium", "apt-get")
    calls = bin_dir / "apt-get.calls"
    fake = bin_dir / "apt-get"  # stands in for the real one: this test must not install anything
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    fake.chmod(0o755)
    result = subprocess.run([str(ROOT / "scripts" / "system-deps")], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": path, "LANG": "C.UTF-8"}, timeout=60)
    assert result.returncode == 0, result.stderr
    update, install = calls.read_text().splitlines()
    assert update == "update -qq"
    assert install.startswith("install -y") and "chromium" in install.split()
