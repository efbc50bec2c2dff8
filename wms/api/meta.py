"""API self-description: the OpenAPI document and a health probe."""

from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel
from sqlalchemy import text

from wms.api.framework import api, operation
from wms.db import db


class Health(BaseModel):
    status: str
    database: str


@operation("/health", "GET", summary="Liveness and database reachability", tags=["meta"], public=True,
           response=Health)
def health() -> Health:
    """Answers 200 when the web process runs and the database answers a trivial query."""
    db.session.execute(text("SELECT 1"))
    return Health(status="ok", database=db.session.get_bind().dialect.name)


@api.get("/openapi.json")
def openapi_document():  # type: ignore[no-untyped-def]
    from wms.api.openapi import build_document

    return jsonify(build_document())
