"""Field encryption, blind indexes and hashes of high-entropy secrets.

A personal-data column (phone, e-mail, ID card, bank card, real name) holds two values:

- a ciphertext from `FieldCipher`, `v1.<kid>.<base64url(nonce + ciphertext + tag)>`: AES-256-GCM
  under the key named by `kid`, so keys can rotate while old rows still open. The column's name
  (`context`, e.g. "identity.phone") is the associated data, so a ciphertext copied into another
  column does not decrypt there.
- a blind index from `BlindIndex`: an HMAC of the normalised value, for exact lookup and unique
  constraints without storing the plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from usercenter.security.errors import DecryptionFailed

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT_VERSION = "v1"
KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,16}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not _BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _context_bytes(context: str) -> bytes:
    if not context or "\x00" in context:
        raise ValueError("context must be a non-empty string without NUL characters")
    return context.encode("utf-8")


class FieldCipher:
    """AES-256-GCM for one column value at a time; `keys` are `(kid, 32 bytes)`, newest first.

    New ciphertexts use the newest key; every key listed still decrypts.
    """

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("FieldCipher needs at least one key")
        self._keys: dict[str, AESGCM] = {}
        for kid, key in keys:
            if not KID_PATTERN.fullmatch(kid):
                raise ValueError(f"key id {kid!r} must be 1-16 letters, digits, '_' or '-'")
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {kid!r} must be {KEY_BYTES} bytes, not {len(key)}")
            if kid in self._keys:
                raise ValueError(f"key id {kid!r} is listed twice")
            self._keys[kid] = AESGCM(key)
        self._current_kid = keys[0][0]

    @property
    def current_kid(self) -> str:
        """The id of the key new ciphertexts are made with."""
        return self._current_kid

    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._current_kid].encrypt(
            nonce, plaintext.encode("utf-8"), _context_bytes(context)
        )
        return f"{FORMAT_VERSION}.{self._current_kid}.{_b64url_encode(nonce + sealed)}"

    def decrypt(self, token: str, *, context: str) -> str:
        """The plaintext; raises DecryptionFailed on an unknown key, tampering or wrong context."""
        aad = _context_bytes(context)
        kid, body = self._parse(token)
        cipher = self._keys.get(kid)
        if cipher is None:
            raise DecryptionFailed(f"no key with id {kid!r}")
        try:
            raw = _b64url_decode(body)
        except (ValueError, binascii.Error):
            raise DecryptionFailed("ciphertext is not base64url") from None
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionFailed("ciphertext is too short")
        try:
            plaintext = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
        except InvalidTag:
            raise DecryptionFailed(
                f"ciphertext under key {kid!r} was altered or belongs to another field"
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionFailed("plaintext is not UTF-8") from None

    def needs_reencrypt(self, token: str) -> bool:
        """Whether `token` was made under a key other than the newest (rotation pending)."""
        kid, _ = self._parse(token)
        return kid != self._current_kid

    @staticmethod
    def _parse(token: str) -> tuple[str, str]:
        version, _, rest = token.partition(".")
        kid, _, body = rest.partition(".")
        if version != FORMAT_VERSION or not KID_PATTERN.fullmatch(kid) or not body:
            raise DecryptionFailed("not a field ciphertext of format v1")
        return kid, body


class BlindIndex:
    """HMAC-SHA256 of a normalised value, keyed per deployment, separated per column."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"blind index key must be {KEY_BYTES} bytes, not {len(key)}")
        self._key = key

    def compute(self, value: str, *, context: str) -> str:
        """Hex digest; the caller normalises `value` first (E.164 phone, lower-cased e-mail)."""
        message = _context_bytes(context) + b"\x00" + value.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for another keyed hash (refresh-token MACs), separate per purpose."""
        return hmac.new(self._key, b"derive\x00" + purpose.encode(), hashlib.sha256).digest()

    def matches(self, value: str, digest: str, *, context: str) -> bool:
        return hmac.compare_digest(
            self.compute(value, context=context).encode("ascii"), digest.encode("utf-8")
        )


def hash_secret(value: str) -> str:
    """SHA-256 hex of a high-entropy secret (refresh token, reset token), as stored.

    Only for random tokens: a password or a short code needs `PasswordHasher` or a keyed hash.
    """
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def secrets_equal(a: str, b: str) -> bool:
    """Constant-time equality of two secrets or their hashes."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
