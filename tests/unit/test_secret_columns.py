"""No credential is stored in plain text: every column named like one is encrypted (wms.crypto) or a hash."""

from __future__ import annotations

import re

import sqlalchemy as sa

import wms.models  # noqa: F401  (the whole schema)
from wms.crypto import MANUAL_COLUMNS, EncryptedString
from wms.db import Base

LOOKS_LIKE_A_CREDENTIAL = re.compile(r"secret|passw|api_?key|token|credential|private_?key|access_?key", re.I)

# Columns named like a credential that hold none, each with the reason.
NOT_CREDENTIALS = {
    "stock_ledger.actor_token_id": "the id of the api_tokens row that acted, not the token",
}


def plaintext_credentials(metadata: sa.MetaData) -> list[str]:
    """Columns named like a credential that are neither encrypted, nor a hash, nor explained in NOT_CREDENTIALS."""
    manual = {f"{c.table}.{c.column}" for c in MANUAL_COLUMNS}
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            if not LOOKS_LIKE_A_CREDENTIAL.search(column.name):
                continue
            encrypted = isinstance(column.type, EncryptedString) or name in manual
            hashed = column.name.endswith("_hash")  # hash_secret (argon2) or sha256: nothing to read back
            if not (encrypted or hashed or name in NOT_CREDENTIALS):
                found.append(name)
    return found


def test_every_column_named_like_a_credential_is_encrypted_or_hashed() -> None:
    assert plaintext_credentials(Base.metadata) == [], (
        "store credentials with wms.crypto.EncryptedString(purpose) (or a hash when they need not be read back)")


def test_a_new_plaintext_api_key_or_password_column_would_be_caught() -> None:
    metadata = sa.MetaData()
    sa.Table("carrier_accounts", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("api_key", sa.String(200)), sa.Column("password", sa.String(200)),
             sa.Column("oauth_refresh_token", sa.Text), sa.Column("secret_hash", sa.String(128)),
             sa.Column("client_secret", EncryptedString("carrier-credentials", 512)))
    assert plaintext_credentials(metadata) == ["carrier_accounts.api_key", "carrier_accounts.password",
                                               "carrier_accounts.oauth_refresh_token"]


def test_the_allow_list_names_only_columns_that_exist() -> None:
    names = {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns}
    assert set(NOT_CREDENTIALS) <= names
    assert {f"{c.table}.{c.column}" for c in MANUAL_COLUMNS} <= names
