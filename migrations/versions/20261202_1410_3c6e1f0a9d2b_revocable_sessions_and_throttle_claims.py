"""Server-side sessions (revocable, optionally bound to a handheld) and atomic sign-in throttle claims.

Hand-written. A session lived only in its signed cookie, so a cookie saved before sign-out kept working for its
12 hours: `user_sessions` holds one row per sign-in (the sha256 of the random id the cookie carries), revoked at
sign-out, on a password, PIN or role change, deactivation, second-factor reset and "sign out everywhere". Cookies
issued before this revision carry no id: their holders sign in again. `login_throttles` holds, per sign-in subject,
the attempts claimed in its current window; an attempt is claimed (a conditional upsert) before its secret is
checked, so concurrent attempts never check more than the limit.

Revision ID: 3c6e1f0a9d2b
Revises: fbeabfd8f90e
Create Date: 2026-12-02 14:10:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '3c6e1f0a9d2b'
down_revision = 'fbeabfd8f90e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False, comment="sha256 of the cookie's id"),
    sa.Column('device_id', sa.String(length=64), nullable=True,
              comment='the handheld this session is bound to (X-Device-Id); null: not bound'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("device_id IS NULL OR device_id <> ''", name=op.f('ck_user_sessions_device_id_not_empty')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('login_throttles',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False,
              comment='failed or in-flight attempts since window_started_at'),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_login_throttles_attempts_not_negative')),
    sa.PrimaryKeyConstraint('kind', 'subject', name=op.f('pk_login_throttles'))
    )


def downgrade() -> None:
    op.drop_table('login_throttles')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
