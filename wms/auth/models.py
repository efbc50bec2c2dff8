"""People, their roles and second factors; login attempts; hashed API tokens for machines and scripts."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import ROLES_NEEDING_SECOND_FACTOR, Role, TokenPurpose, enum_column


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    badge_code: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(sa.String(255))
    locale: Mapped[str] = mapped_column(sa.String(8), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    all_warehouses: Mapped[bool] = mapped_column(default=False)
    totp_secret_enc: Mapped[str | None] = mapped_column(sa.Text)
    totp_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    totp_last_counter: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    session_version: Mapped[int] = mapped_column(default=1, comment="bumped to sign every session out")

    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    warehouse_rows: Mapped[list[UserWarehouse]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (
        sa.CheckConstraint("username <> ''", name="username_not_empty"),
        sa.CheckConstraint("(badge_code IS NULL) = (pin_hash IS NULL)", name="badge_has_pin"),
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    @property
    def warehouse_ids(self) -> frozenset[int] | None:
        """None means every warehouse."""
        if self.all_warehouses:
            return None
        return frozenset(w.warehouse_id for w in self.warehouse_rows)

    @property
    def needs_second_factor(self) -> bool:
        return bool(self.roles & ROLES_NEEDING_SECOND_FACTOR)

    @property
    def has_totp(self) -> bool:
        return self.totp_confirmed_at is not None

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), primary_key=True)


class UserWarehouse(Base):
    __tablename__ = "user_warehouses"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(
        sa.ForeignKey("warehouses.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """Failed and successful sign-ins, kept in the database so every web worker throttles alike."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    subject: Mapped[str] = mapped_column(sa.String(128))
    ip: Mapped[str] = mapped_column(sa.String(64))
    success: Mapped[bool]
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.Index("ix_login_attempts_subject_at", "kind", "subject", "at"),
        sa.Index("ix_login_attempts_ip_at", "ip", "at"),
    )


class ApiToken(Base):
    """A bearer token: `wms_<prefix>_<secret>`; only a hash of the secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(128))
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose, "token_purpose"))
    warehouse_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        sa.CheckConstraint("(purpose = 'user') = (user_id IS NOT NULL)", name="user_token_has_user"),
        sa.CheckConstraint("purpose = 'user' OR warehouse_id IS NOT NULL", name="machine_token_has_warehouse"),
        sa.CheckConstraint("channel_id IS NULL OR purpose = 'channel'", name="channel_only_on_channel_tokens"),
    )


class UserSession(Base):
    """One sign-in: the cookie holds a random id, the database its hash; revoking the row ends the session."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, comment="sha256 of the cookie's id")
    device_id: Mapped[str | None] = mapped_column(
        sa.String(64), comment="the handheld this session is bound to (X-Device-Id); null: not bound")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.CheckConstraint("device_id IS NULL OR device_id <> ''", name="device_id_not_empty"),)


class LoginThrottle(Base):
    """Attempts claimed for one sign-in subject in its current window: a claim is taken (atomically) before a
    secret is checked, so concurrent attempts can never check more than the limit."""

    __tablename__ = "login_throttles"

    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    attempts: Mapped[int] = mapped_column(comment="failed or in-flight attempts since window_started_at")
    window_started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),)
