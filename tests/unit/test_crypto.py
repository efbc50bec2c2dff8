"""SecretBox: per-purpose keys derived from SECRET_KEY, old keys accepted for decryption, legacy TOTP tokens read."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet

from wms.crypto import PURPOSES, EncryptedString, SecretBox, SecretUnreadable, parse_old_keys


def test_a_secret_comes_back_from_its_token_and_the_token_does_not_contain_it() -> None:
    box = SecretBox("key-a")
    token = box.encrypt("webhook", "whsec-123")
    assert "whsec-123" not in token
    assert box.decrypt("webhook", token) == "whsec-123"
    assert box.encrypt("webhook", "whsec-123") != token  # randomised: equal secrets are not seen as equal


def test_a_token_of_one_purpose_does_not_decrypt_as_another() -> None:
    box = SecretBox("key-a")
    token = box.encrypt("webhook", "whsec-123")
    with pytest.raises(SecretUnreadable):
        box.decrypt("carrier-credentials", token)


def test_a_token_made_under_an_old_key_decrypts_while_the_old_key_is_listed() -> None:
    token = SecretBox("key-a").encrypt("channel-credentials", "api-key")
    assert SecretBox("key-b", ["key-a"]).decrypt("channel-credentials", token) == "api-key"
    with pytest.raises(SecretUnreadable):
        SecretBox("key-b").decrypt("channel-credentials", token)


def test_rotate_puts_a_token_under_the_current_key() -> None:
    token = SecretBox("key-a").encrypt("webhook", "whsec")
    both = SecretBox("key-b", ["key-a"])
    assert not both.is_current("webhook", token)
    fresh = both.rotate("webhook", token)
    assert both.is_current("webhook", fresh)
    assert SecretBox("key-b").decrypt("webhook", fresh) == "whsec"


def test_totp_seeds_encrypted_before_this_module_still_decrypt_under_the_same_or_an_old_key() -> None:
    legacy = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"wms-totp:key-a").digest()))
    token = legacy.encrypt(b"JBSWY3DPEHPK3PXP").decode()
    assert SecretBox("key-a").decrypt("totp", token) == "JBSWY3DPEHPK3PXP"
    assert SecretBox("key-b", ["key-a"]).decrypt("totp", token) == "JBSWY3DPEHPK3PXP"
    assert SecretBox("key-a").rotate("totp", token) != token
    assert SecretBox("key-a").is_current("totp", SecretBox("key-a").rotate("totp", token))
    with pytest.raises(SecretUnreadable):
        SecretBox("key-a").decrypt("webhook", token)  # the legacy derivation is TOTP's alone


def test_an_unknown_purpose_is_refused_rather_than_given_a_key() -> None:
    with pytest.raises(ValueError, match="unknown secret purpose"):
        SecretBox("key-a").encrypt("webhooks", "x")
    with pytest.raises(ValueError, match="unknown secret purpose"):
        EncryptedString("carrier")
    assert {"totp", "webhook", "channel-credentials", "carrier-credentials"} <= set(PURPOSES)


def test_old_keys_are_read_from_a_comma_list_or_a_list() -> None:
    assert parse_old_keys("a, b,,c ") == ["a", "b", "c"]
    assert parse_old_keys(["a", "b"]) == ["a", "b"]
    assert parse_old_keys(None) == parse_old_keys("") == parse_old_keys(()) == []
    assert parse_old_keys(12345) == ["12345"]  # WMS_OLD_SECRET_KEYS=12345 reaches the config as a number
