"""Secrets at rest: credentials the WMS must read back (webhook secrets, TOTP seeds, channel and carrier API keys)
are stored encrypted, never in plain text (docs/security.md).

One mechanism for all of them: `SecretBox.encrypt(purpose, plaintext)` / `decrypt(purpose, token)`. Each purpose
gets its own Fernet key derived (HKDF-SHA256) from the master key, so a token of one purpose never decrypts as
another. The master keys are SECRET_KEY (current: every encryption uses it) and OLD_SECRET_KEYS (still accepted
for decryption): a MultiFernet tries them in that order, which is what makes a key rotatable without breaking what
was stored under the old one (`wms secrets rotate` re-encrypts everything with the current key).

Models store ciphertext transparently through `EncryptedString(purpose)`; the few columns encrypted by hand
(TOTP seeds, which predate this module) are listed in MANUAL_COLUMNS so rotation and the schema test know them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, has_app_context
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

# What each purpose protects; a purpose not listed here is refused, so a typo cannot make an unreadable key.
PURPOSES = {
    "totp": "users' TOTP seeds (second factor)",
    "webhook": "HMAC keys that sign the webhooks sent to a sales channel",
    "channel-credentials": "API keys, tokens and passwords of a sales channel's platform (connectors)",
    "carrier-credentials": "API keys and passwords of a carrier account (carrier adapters)",
}

# Derivations used before this module existed, still accepted for decryption (never used to encrypt).
LEGACY_DERIVATIONS: dict[str, Callable[[bytes], bytes]] = {
    "totp": lambda master: hashlib.sha256(b"wms-totp:" + master).digest(),
}


class SecretUnreadable(Exception):
    """A stored secret decrypts with none of the configured keys (a key was removed before `wms secrets rotate`)."""


class NoEncryptionKey(RuntimeError):
    """No SECRET_KEY could be found to encrypt or decrypt with."""


def parse_old_keys(value: Any) -> list[str]:
    """OLD_SECRET_KEYS as configured: a list (config file, JSON in the environment) or a comma-separated string."""
    if not value:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        return [str(value)]  # one key the environment parser read as JSON (a number)
    return [str(part) for part in value if str(part)]


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"rack-zone-wms:" + purpose.encode()).derive(
        master)


def _fernet(raw_key: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(raw_key))


class SecretBox:
    """Encrypt with the current master key, decrypt with the current or any old one; keys derived per purpose."""

    def __init__(self, current: str, old: Sequence[str] = ()) -> None:
        if not current:
            raise NoEncryptionKey("SECRET_KEY is empty: nothing to encrypt secrets with")
        self._masters = [str(current).encode()] + [str(k).encode() for k in old if k and str(k) != str(current)]
        self._cache: dict[str, MultiFernet] = {}
        self._current: dict[str, Fernet] = {}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SecretBox:
        return cls(config.get("SECRET_KEY") or "", parse_old_keys(config.get("OLD_SECRET_KEYS")))

    def _check(self, purpose: str) -> None:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown secret purpose {purpose!r} (add it to wms.crypto.PURPOSES)")

    def _multi(self, purpose: str) -> MultiFernet:
        if purpose not in self._cache:
            self._check(purpose)
            keys = [_fernet(_derive(m, purpose)) for m in self._masters]
            legacy = LEGACY_DERIVATIONS.get(purpose)
            if legacy is not None:
                keys += [_fernet(legacy(m)) for m in self._masters]
            self._cache[purpose] = MultiFernet(keys)
        return self._cache[purpose]

    def _current_only(self, purpose: str) -> Fernet:
        if purpose not in self._current:
            self._check(purpose)
            self._current[purpose] = _fernet(_derive(self._masters[0], purpose))
        return self._current[purpose]

    def encrypt(self, purpose: str, plaintext: str) -> str:
        """A Fernet token (urlsafe text) of `plaintext` under the current key of `purpose`."""
        return self._multi(purpose).encrypt(plaintext.encode()).decode()

    def decrypt(self, purpose: str, token: str) -> str:
        """The plaintext of a token made by encrypt() under the current or an old key; SecretUnreadable if none fits."""
        try:
            return self._multi(purpose).decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                f"a stored {purpose} secret decrypts with none of the configured keys (SECRET_KEY, OLD_SECRET_KEYS)"
            ) from None

    def rotate(self, purpose: str, token: str) -> str:
        """The same plaintext re-encrypted under the current key (SecretUnreadable if no key fits)."""
        try:
            return self._multi(purpose).rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(f"a stored {purpose} secret decrypts with none of the configured keys") from None

    def is_current(self, purpose: str, token: str) -> bool:
        """True when the token decrypts with the current key alone (an old key may be dropped)."""
        try:
            self._current_only(purpose).decrypt(token.encode())
        except InvalidToken:
            return False
        return True


def app_box() -> SecretBox:
    """The SecretBox of the current Flask app (built once per app from its config)."""
    box = current_app.extensions.get("wms.secret_box")
    if box is None:
        box = current_app.extensions["wms.secret_box"] = SecretBox.from_config(current_app.config)
    return box


def bind_box(engine: Any, box: SecretBox) -> None:
    """Let EncryptedString columns read and written through `engine` use `box`, with or without an app context
    (workers and CLI commands use the app's session factory outside any request)."""
    engine.dialect.wms_secret_box = box


def _box_for(dialect: Any) -> SecretBox:
    box = getattr(dialect, "wms_secret_box", None)
    if box is not None:
        return box
    if has_app_context():
        return app_box()
    raise NoEncryptionKey("an encrypted column was used through an engine not made by the WMS app, outside an app "
                          "context: no key to use (wms.crypto.bind_box)")


class EncryptedString(TypeDecorator):
    """A string stored as a Fernet token of its purpose: Python sees plaintext, the database only ciphertext.

    Tokens are randomised: an encrypted column cannot be searched or compared in SQL. Size `length` for the
    ciphertext: at most 4 * ceil((n + 73) / 3) characters for n bytes of plaintext (43 take 140, 128 take 268)."""

    impl = String
    cache_ok = True

    def __init__(self, purpose: str, length: int | None = None) -> None:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown secret purpose {purpose!r} (add it to wms.crypto.PURPOSES)")
        super().__init__(length)
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return _box_for(dialect).encrypt(self.purpose, value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return _box_for(dialect).decrypt(self.purpose, value)


@dataclass(frozen=True)
class EncryptedColumn:
    table: str
    column: str
    purpose: str
    primary_key: str = "id"

    @cached_property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


# Columns encrypted by the code that writes them rather than by EncryptedString (their model predates it).
MANUAL_COLUMNS = (EncryptedColumn("users", "totp_secret_enc", "totp"),)


def encrypted_columns(metadata: Any) -> list[EncryptedColumn]:
    """Every column of the schema that holds SecretBox tokens: EncryptedString ones and MANUAL_COLUMNS."""
    found = []
    for table in metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, EncryptedString):
                pk = [c.name for c in table.primary_key.columns]
                if len(pk) != 1:
                    raise ValueError(f"{table.name}: an encrypted column needs a one-column primary key to rotate")
                found.append(EncryptedColumn(table.name, col.name, col.type.purpose, pk[0]))
    return found + [c for c in MANUAL_COLUMNS if c.table in metadata.tables]


@dataclass
class RotationResult:
    column: str
    rotated: int = 0
    unreadable: list[Any] | None = None


def rotate_column(engine: Any, column: EncryptedColumn, box: SecretBox, batch_size: int = 500,
                  progress: Callable[[str, int], None] | None = None) -> RotationResult:
    """Re-encrypt every value of one column under the current key, one transaction per batch. A value changed
    meanwhile by the application is left as written (it is already under the current key)."""
    pk = sa.column(column.primary_key)
    value = sa.column(column.column, String)
    t = sa.table(column.table, pk, value)
    result = RotationResult(column.name, unreadable=[])
    last = None
    while True:
        with engine.begin() as conn:
            query = sa.select(pk, value).where(value.is_not(None)).order_by(pk).limit(batch_size)
            if last is not None:
                query = query.where(pk > last)
            rows = conn.execute(query).all()
            for key, token in rows:
                try:
                    fresh = box.rotate(column.purpose, token)
                except SecretUnreadable:
                    result.unreadable.append(key)
                    continue
                done = conn.execute(sa.update(t).where(pk == key, value == token).values({column.column: fresh}))
                result.rotated += done.rowcount
        if not rows:
            return result
        last = rows[-1][0]
        if progress:
            progress(column.name, result.rotated)


def count_not_current(engine: Any, column: EncryptedColumn, box: SecretBox) -> tuple[int, int]:
    """(values, values not readable with the current key alone) of one column."""
    value = sa.column(column.column, String)
    with engine.connect() as conn:
        tokens = conn.scalars(sa.select(value).select_from(sa.table(column.table, value)).where(value.is_not(None)))
        total = stale = 0
        for token in tokens:
            total += 1
            stale += not box.is_current(column.purpose, token)
    return total, stale


def rotate_all(engine: Any, metadata: Any, box: SecretBox, batch_size: int = 500,
               progress: Callable[[str, int], None] | None = None) -> list[RotationResult]:
    """rotate_column over every encrypted column of the schema."""
    return [rotate_column(engine, c, box, batch_size, progress) for c in encrypted_columns(metadata)]
