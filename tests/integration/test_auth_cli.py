"""`wms users` commands: secrets come from stdin, the command commits its own work."""

from __future__ import annotations

from sqlalchemy import func, select

from wms.auth.models import RecoveryCode, User
from wms.auth.passwords import verify_secret
from wms.db import db


def _user(app, username):  # type: ignore[no-untyped-def]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


def test_create_reads_the_password_and_pin_from_stdin(app, runner, make_warehouse):  # type: ignore[no-untyped-def]
    with app.app_context():
        make_warehouse("PAR")
        db.session.commit()
    result = runner.invoke(args=["users", "create", "pia", "--role", "picker", "--role", "packer",
                                 "--display-name", "Pia P", "--warehouse", "PAR", "--badge", "B-5",
                                 "--pin-stdin", "--password-stdin"],
                           input="a long enough password\n4711\n")
    assert result.exit_code == 0, result.output
    assert "created user pia" in result.output
    pia = _user(app, "pia")
    assert verify_secret(pia.password_hash, "a long enough password")
    assert pia.badge_code == "B-5" and verify_secret(pia.pin_hash, "4711")
    assert {r.value for r in pia.roles} == {"picker", "packer"} and len(pia.warehouse_ids) == 1


def test_create_refuses_a_weak_password_and_writes_nothing(app, runner):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["users", "create", "pia", "--role", "picker", "--all-warehouses",
                                 "--password-stdin"], input="short\n")
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert _user(app, "pia") is None


def test_create_refuses_a_duplicate_username(app, runner):  # type: ignore[no-untyped-def]
    args = ["users", "create", "pia", "--role", "picker", "--all-warehouses", "--password-stdin"]
    assert runner.invoke(args=args, input="a long enough password\n").exit_code == 0
    again = runner.invoke(args=args, input="another long password\n")
    assert again.exit_code != 0 and "already used" in again.output
    assert verify_secret(_user(app, "pia").password_hash, "a long enough password")


def test_create_needs_the_password_on_stdin(app, runner):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["users", "create", "pia", "--role", "picker", "--all-warehouses"])
    assert result.exit_code != 0
    assert _user(app, "pia") is None


def test_list_shows_users_roles_and_scope(app, runner, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        make_user("sam", roles=("supervisor",), all_warehouses=True, totp=True)
        make_user("pia", roles=("picker",), badge="B-1", pin="1234")
        db.session.commit()
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines == ["pia\tpicker\t-\tbadge\t-\tactive", "sam\tsupervisor\t*\t-\t2fa\tactive"]


def test_reset_2fa_clears_totp_and_recovery_codes_and_ends_sessions(app, runner, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        from wms.auth.totp import new_recovery_codes

        sam = make_user("sam", roles=("supervisor",), totp=True)
        new_recovery_codes(sam)
        db.session.commit()
        version = sam.session_version
    result = runner.invoke(args=["users", "reset-2fa", "sam"])
    assert result.exit_code == 0, result.output
    after = _user(app, "sam")
    assert not after.has_totp and after.totp_secret_enc is None
    assert after.session_version == version + 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0


def test_reset_2fa_of_an_unknown_user_fails_readably(runner):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["users", "reset-2fa", "ghost"])
    assert result.exit_code != 0 and "No user ghost" in result.output
