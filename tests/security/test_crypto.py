from __future__ import annotations

import os

import pytest

from usercenter.security.crypto import BlindIndex, FieldCipher, hash_secret, secrets_equal
from usercenter.security.errors import DecryptionFailed

OLD_KEY = os.urandom(32)
NEW_KEY = os.urandom(32)


def cipher(*keys: tuple[str, bytes]) -> FieldCipher:
    return FieldCipher(keys or [("k1", NEW_KEY)])


class TestFieldCipher:
    @pytest.mark.parametrize("plaintext", ["13812348888", "张三", "", "zhang.san@example.com"])
    def test_round_trip(self, plaintext: str) -> None:
        box = cipher()
        token = box.encrypt(plaintext, context="identity.phone")
        assert box.decrypt(token, context="identity.phone") == plaintext

    def test_token_is_compact_ascii_naming_its_key(self) -> None:
        token = cipher(("k2024", NEW_KEY)).encrypt("13812348888", context="identity.phone")
        version, kid, _body = token.split(".")
        assert (version, kid) == ("v1", "k2024")
        assert token.isascii()
        assert "13812348888" not in token
        assert len(token) < 80

    def test_same_value_encrypts_differently_each_time(self) -> None:
        box = cipher()
        tokens = {box.encrypt("13812348888", context="identity.phone") for _ in range(20)}
        assert len(tokens) == 20

    def test_ciphertext_moved_to_another_column_does_not_decrypt(self) -> None:
        box = cipher()
        token = box.encrypt("440101199003071234", context="profile.id_card")
        with pytest.raises(DecryptionFailed):
            box.decrypt(token, context="profile.real_name")

    def test_tampered_ciphertext_is_refused(self) -> None:
        box = cipher()
        token = box.encrypt("6222021234561234", context="wallet.bank_card")
        prefix, body = token.rsplit(".", 1)
        middle = len(body) // 2
        flipped = body[:middle] + ("A" if body[middle] != "A" else "B") + body[middle + 1 :]
        with pytest.raises(DecryptionFailed):
            box.decrypt(f"{prefix}.{flipped}", context="wallet.bank_card")

    def test_relabelled_key_id_is_refused(self) -> None:
        box = cipher(("new", NEW_KEY), ("old", OLD_KEY))
        token = box.encrypt("13812348888", context="identity.phone")
        with pytest.raises(DecryptionFailed):
            box.decrypt(token.replace("v1.new.", "v1.old.", 1), context="identity.phone")

    def test_unknown_key_id_is_refused(self) -> None:
        token = cipher(("gone", OLD_KEY)).encrypt("13812348888", context="identity.phone")
        with pytest.raises(DecryptionFailed, match="gone"):
            cipher(("k1", NEW_KEY)).decrypt(token, context="identity.phone")

    @pytest.mark.parametrize(
        "token",
        [
            "",
            "13812348888",
            "v2.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "v1.k1.",
            "v1..AAAA",
            "v1.k1.not*base64",
            "v1.k1.AAAA",
        ],
    )
    def test_malformed_tokens_fail_as_decryption_errors(self, token: str) -> None:
        with pytest.raises(DecryptionFailed):
            cipher().decrypt(token, context="identity.phone")

    def test_old_keys_still_decrypt_after_rotation(self) -> None:
        before = cipher(("k1", OLD_KEY))
        token = before.encrypt("张三", context="profile.real_name")
        after = cipher(("k2", NEW_KEY), ("k1", OLD_KEY))
        assert after.decrypt(token, context="profile.real_name") == "张三"
        assert after.needs_reencrypt(token)
        fresh = after.encrypt("张三", context="profile.real_name")
        assert fresh.startswith("v1.k2.")
        assert not after.needs_reencrypt(fresh)

    @pytest.mark.parametrize(
        ("keys", "message"),
        [
            ([], "at least one key"),
            ([("k1", os.urandom(16))], "32 bytes"),
            ([("bad.kid", NEW_KEY)], "letters, digits"),
            ([("k" * 17, NEW_KEY)], "letters, digits"),
            ([("k1", NEW_KEY), ("k1", OLD_KEY)], "twice"),
        ],
    )
    def test_constructor_refuses_bad_keys(
        self, keys: list[tuple[str, bytes]], message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            FieldCipher(keys)


class TestBlindIndex:
    def test_same_value_same_digest(self) -> None:
        index = BlindIndex(NEW_KEY)
        digest = index.compute("+8613812348888", context="identity.phone")
        assert digest == index.compute("+8613812348888", context="identity.phone")
        assert len(digest) == 64
        assert int(digest, 16) >= 0

    def test_digest_depends_on_value_context_and_key(self) -> None:
        index = BlindIndex(NEW_KEY)
        digest = index.compute("+8613812348888", context="identity.phone")
        assert digest != index.compute("+8613812348889", context="identity.phone")
        assert digest != index.compute("+8613812348888", context="profile.contact_phone")
        assert digest != BlindIndex(OLD_KEY).compute("+8613812348888", context="identity.phone")

    def test_context_and_value_cannot_be_shifted_into_each_other(self) -> None:
        index = BlindIndex(NEW_KEY)
        assert index.compute("bc", context="a") != index.compute("c", context="ab")

    def test_matches(self) -> None:
        index = BlindIndex(NEW_KEY)
        digest = index.compute("a@example.com", context="identity.email")
        assert index.matches("a@example.com", digest, context="identity.email")
        assert not index.matches("b@example.com", digest, context="identity.email")
        assert not index.matches("a@example.com", digest, context="identity.phone")
        assert not index.matches("a@example.com", "不是摘要", context="identity.email")

    def test_refuses_short_key(self) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            BlindIndex(b"short")


def test_hash_secret_is_sha256_hex() -> None:
    assert hash_secret("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert hash_secret("token-a") != hash_secret("token-b")


def test_secrets_equal() -> None:
    assert secrets_equal("s3cret-令牌", "s3cret-令牌")
    assert not secrets_equal("s3cret-令牌", "s3cret-令")
    assert not secrets_equal("abc", "abd")
