"""After sign-in we only ever redirect to a path of this site."""

from __future__ import annotations

import pytest

from wms.auth.services import safe_next


@pytest.mark.parametrize("target", ["/", "/admin/users?q=a", "/hh/", "/layout#zone-A"])
def test_paths_on_this_site_are_kept(target: str) -> None:
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", [
    None, "", "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
    "evil.example/path", "/ok\r\nSet-Cookie: x=1", "\\\\evil.example",
])
def test_other_sites_and_odd_targets_fall_back_to_the_default(target: str | None) -> None:
    assert safe_next(target, "/home") == "/home"
