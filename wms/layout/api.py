"""layout API operations."""

from __future__ import annotations
