"""auth API operations."""

from __future__ import annotations
