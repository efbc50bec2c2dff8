"""Messages for the person holding the device: translated in a request, plain English elsewhere (CLI, bench)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_babel import gettext


def _(message: str, **params: Any) -> str:
    if has_request_context():
        return gettext(message, **params)
    return message % params if params else message
