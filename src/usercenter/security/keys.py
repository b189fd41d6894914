"""Where the field-encryption and blind-index keys come from.

Configured keys win: `USERCENTER_SECRET_KEYS` (`kid:base64`, newest first) and
`USERCENTER_BLIND_INDEX_KEY` (base64). What is not configured is read from
`<keys_dir>/field-keys.json`, which the first start creates, so a service run with nothing
configured keeps its keys across restarts. Losing that file loses the personal data encrypted
under it: back it up, or move the keys into the environment (`generate_key_material`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from usercenter.config import Backend, Settings
from usercenter.kit import clock
from usercenter.kit.log import get_logger
from usercenter.security.crypto import KEY_BYTES, KID_PATTERN, BlindIndex, FieldCipher

log = get_logger(__name__)

KEY_FILE_NAME = "field-keys.json"
_KEY_ITEM_SHAPE = (
    "each item must be `kid:base64-of-32-bytes`, kid being 1-16 letters, digits, '_' or '-'"
)


@dataclass(frozen=True, slots=True)
class Keyring:
    cipher: FieldCipher
    blind_index: BlindIndex


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """A fresh field key and blind-index key, in the forms the environment and key file use."""

    kid: str
    field_key: bytes
    blind_index_key: bytes

    @property
    def secret_keys_item(self) -> str:
        """`kid:base64`, one item of USERCENTER_SECRET_KEYS."""
        return f"{self.kid}:{_b64encode(self.field_key)}"

    @property
    def blind_index_key_b64(self) -> str:
        return _b64encode(self.blind_index_key)

    def env_lines(self) -> list[str]:
        return [
            f"USERCENTER_SECRET_KEYS={self.secret_keys_item}",
            f"USERCENTER_BLIND_INDEX_KEY={self.blind_index_key_b64}",
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "field_keys": [{"kid": self.kid, "key": _b64encode(self.field_key)}],
            "blind_index_key": self.blind_index_key_b64,
        }


def generate_key_material(kid: str | None = None) -> KeyMaterial:
    """New random keys; the kid defaults to `k<yyyymmdd>` of today (UTC)."""
    kid = kid or f"k{clock.now():%Y%m%d}"
    if not KID_PATTERN.fullmatch(kid):
        raise ValueError(f"key id {kid!r} must be 1-16 letters, digits, '_' or '-'")
    return KeyMaterial(kid, os.urandom(KEY_BYTES), os.urandom(KEY_BYTES))


def require_configured_keys(settings: Settings) -> None:
    """On a server database, refuse to run without configured keys: every process on every
    machine must encrypt with the same ones (generated key files stay the SQLite default).
    Raises ValueError in one line naming the settings and `usercenter keys generate`."""
    if settings.backend is not Backend.SQLITE:
        missing = [
            name
            for name, value in (
                ("USERCENTER_SECRET_KEYS", settings.secret_keys),
                ("USERCENTER_BLIND_INDEX_KEY", settings.blind_index_key),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"{' and '.join(missing)} must be set on a {settings.backend.value} database "
                "(keys generated on one machine's disk would differ on the next); "
                "run `usercenter keys generate` and put its lines in the environment"
            )


def load_keyring(settings: Settings) -> Keyring:
    """The keys from the settings, completed from (or into) the key file in `keys_dir` — only
    on the embedded SQLite database: on a server database every process on every machine must
    encrypt with the same keys, so they must be configured.

    Raises ValueError in one line naming the setting or file at fault.
    """
    require_configured_keys(settings)
    field_keys = [
        _parse_secret_key(position, item.get_secret_value())
        for position, item in enumerate(settings.secret_keys, start=1)
    ]
    blind_key: bytes | None = None
    if settings.blind_index_key is not None and settings.blind_index_key.get_secret_value():
        blind_key = _decode_key(settings.blind_index_key.get_secret_value())
        if blind_key is None:
            raise ValueError("USERCENTER_BLIND_INDEX_KEY must be the base64 of 32 bytes")
    if not field_keys or blind_key is None:
        stored_keys, stored_blind_key = _load_or_create_key_file(settings.keys_dir / KEY_FILE_NAME)
        field_keys = field_keys or stored_keys
        blind_key = blind_key or stored_blind_key
    try:
        cipher = FieldCipher(field_keys)
    except ValueError as error:
        raise ValueError(f"USERCENTER_SECRET_KEYS: {error}") from None
    return Keyring(cipher=cipher, blind_index=BlindIndex(blind_key))


def _b64encode(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _decode_key(text: str) -> bytes | None:
    """32 bytes from standard or URL-safe base64 (padding optional); None if it is not that."""
    text = text.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def _parse_secret_key(position: int, item: str) -> tuple[str, bytes]:
    kid, sep, encoded = item.partition(":")
    kid = kid.strip()
    if not sep or not KID_PATTERN.fullmatch(kid):
        raise ValueError(f"USERCENTER_SECRET_KEYS item {position}: {_KEY_ITEM_SHAPE}")
    key = _decode_key(encoded)
    if key is None:
        raise ValueError(
            f"USERCENTER_SECRET_KEYS item {position} ({kid}): the key must be the base64 "
            f"of {KEY_BYTES} bytes"
        )
    return kid, key


def _load_or_create_key_file(path: Path) -> tuple[list[tuple[str, bytes]], bytes]:
    if not path.exists():
        _create_key_file(path, generate_key_material())
    return _read_key_file(path)


def _create_key_file(path: Path, material: KeyMaterial) -> None:
    """Write the file completely under a temporary name, then hard-link it into place.

    `os.link` fails if the name exists, so when two processes start together the first link
    wins and the other one reads the winner's keys; nobody ever sees a half-written file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )  # mkstemp creates the file with mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(material.to_json(), handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
            log.warning(
                "field_keys_generated",
                path=str(path),
                hint="back this file up, or move the keys to USERCENTER_SECRET_KEYS and "
                "USERCENTER_BLIND_INDEX_KEY: data encrypted under them is lost without it",
            )
    finally:
        os.unlink(temporary)


def _read_key_file(path: Path) -> tuple[list[tuple[str, bytes]], bytes]:
    problem = f"{path} is not a valid key file"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{problem}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("field_keys"), list):
        raise ValueError(f"{problem}: expected {{'field_keys': [...], 'blind_index_key': ...}}")
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(data["field_keys"], start=1):
        kid = entry.get("kid") if isinstance(entry, dict) else None
        raw_key = entry.get("key") if isinstance(entry, dict) else None
        key = _decode_key(raw_key) if isinstance(raw_key, str) else None
        if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid) or key is None:
            raise ValueError(f"{problem}: field key {position} needs a kid and 32 base64 bytes")
        keys.append((kid, key))
    if not keys:
        raise ValueError(f"{problem}: no field keys")
    raw_blind_key = data.get("blind_index_key")
    blind_key = _decode_key(raw_blind_key) if isinstance(raw_blind_key, str) else None
    if blind_key is None:
        raise ValueError(f"{problem}: blind_index_key must be the base64 of 32 bytes")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("field_keys_file_not_private", path=str(path), hint="chmod 600 it")
    return keys, blind_key
