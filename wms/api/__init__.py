"""The JSON API under /api/v1: one decorator declares, validates, authorises and documents each operation."""

from __future__ import annotations

from wms.api.framework import OPERATIONS, api, operation  # noqa: F401
