from __future__ import annotations

import base64
import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from usercenter.config import Settings
from usercenter.kit import clock
from usercenter.security.keys import Keyring, generate_key_material, load_keyring

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


def settings(keys_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"secret_keys": [], "blind_index_key": None, **overrides}
    return Settings(_env_file=None, keys_dir=keys_dir, **values)  # type: ignore[call-arg]


def same_keys(first: Keyring, second: Keyring) -> bool:
    token = first.cipher.encrypt("13812348888", context="identity.phone")
    return second.cipher.decrypt(token, context="identity.phone") == "13812348888" and (
        first.blind_index.compute("x", context="c") == second.blind_index.compute("x", context="c")
    )


class TestGeneratedKeyFile:
    def test_first_start_creates_a_private_key_file(self, tmp_path: Path) -> None:
        keys_dir = tmp_path / "state" / "keys"
        clock.set_clock(lambda: datetime(2025, 3, 9, tzinfo=UTC))
        try:
            keyring = load_keyring(settings(keys_dir))
        finally:
            clock.set_clock(None)
        path = keys_dir / "field-keys.json"
        data = json.loads(path.read_text())
        assert data["field_keys"][0]["kid"] == "k20250309"
        assert len(base64.b64decode(data["field_keys"][0]["key"])) == 32
        assert len(base64.b64decode(data["blind_index_key"])) == 32
        assert keyring.cipher.current_kid == "k20250309"
        if os.name == "posix":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_IMODE(keys_dir.stat().st_mode) & 0o077 == 0
        assert [p.name for p in keys_dir.iterdir()] == ["field-keys.json"]

    def test_restart_reads_the_same_keys(self, tmp_path: Path) -> None:
        first = load_keyring(settings(tmp_path))
        token = first.cipher.encrypt("张三", context="profile.real_name")
        second = load_keyring(settings(tmp_path))
        assert second.cipher.decrypt(token, context="profile.real_name") == "张三"
        assert same_keys(first, second)

    def test_concurrent_first_starts_agree_on_one_key_file(self, tmp_path: Path) -> None:
        workers = 8
        barrier = threading.Barrier(workers)
        results: list[Keyring] = []
        errors: list[BaseException] = []

        def start() -> None:
            try:
                barrier.wait()
                results.append(load_keyring(settings(tmp_path / "keys")))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=start) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(results) == workers
        assert all(same_keys(results[0], other) for other in results[1:])
        assert same_keys(results[0], load_keyring(settings(tmp_path / "keys")))
        assert [p.name for p in (tmp_path / "keys").iterdir()] == ["field-keys.json"]

    def test_corrupt_key_file_is_reported_not_replaced(self, tmp_path: Path) -> None:
        path = tmp_path / "field-keys.json"
        path.write_text('{"field_keys": []')
        with pytest.raises(ValueError, match=r"field-keys\.json is not a valid key file"):
            load_keyring(settings(tmp_path))
        assert path.read_text() == '{"field_keys": []'


class TestConfiguredKeys:
    def test_configured_keys_are_used_newest_first(self, tmp_path: Path) -> None:
        old = load_keyring(settings(tmp_path, secret_keys=f"k1:{KEY_A}", blind_index_key=KEY_B))
        token = old.cipher.encrypt("13812348888", context="identity.phone")
        rotated = load_keyring(
            settings(tmp_path, secret_keys=f"k2:{KEY_B},k1:{KEY_A}", blind_index_key=KEY_B)
        )
        assert rotated.cipher.current_kid == "k2"
        assert rotated.cipher.decrypt(token, context="identity.phone") == "13812348888"
        assert rotated.cipher.needs_reencrypt(token)
        assert not (tmp_path / "field-keys.json").exists()

    def test_url_safe_base64_without_padding_is_accepted(self, tmp_path: Path) -> None:
        raw = bytes(range(200, 232))
        standard = base64.b64encode(raw).decode()
        urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        first = load_keyring(
            settings(tmp_path, secret_keys=f"k1:{standard}", blind_index_key=KEY_A)
        )
        second = load_keyring(
            settings(tmp_path, secret_keys=f"k1:{urlsafe}", blind_index_key=KEY_A)
        )
        assert same_keys(first, second)

    def test_missing_blind_index_key_comes_from_the_key_file(self, tmp_path: Path) -> None:
        configured = settings(tmp_path, secret_keys=f"k1:{KEY_A}")
        first = load_keyring(configured)
        assert first.cipher.current_kid == "k1"
        assert (tmp_path / "field-keys.json").exists()
        assert same_keys(first, load_keyring(configured))

    @pytest.mark.parametrize(
        "value",
        [
            "no-colon-here",
            f"bad.kid:{KEY_A}",
            f":{KEY_A}",
            "k1:not base64!",
            f"k1:{base64.b64encode(b'x' * 16).decode()}",
            f"k1:{KEY_A},k2",
        ],
    )
    def test_bad_secret_keys_give_one_clear_line(self, tmp_path: Path, value: str) -> None:
        with pytest.raises(ValueError, match="USERCENTER_SECRET_KEYS") as caught:
            load_keyring(settings(tmp_path, secret_keys=value, blind_index_key=KEY_B))
        message = str(caught.value)
        assert "\n" not in message
        assert KEY_A not in message

    def test_duplicate_kid_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match=r"USERCENTER_SECRET_KEYS.*twice"):
            load_keyring(
                settings(tmp_path, secret_keys=f"k1:{KEY_A},k1:{KEY_B}", blind_index_key=KEY_B)
            )

    def test_bad_blind_index_key_names_its_variable(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="USERCENTER_BLIND_INDEX_KEY"):
            load_keyring(settings(tmp_path, secret_keys=f"k1:{KEY_A}", blind_index_key="short"))


def test_generated_material_loads_as_configuration(tmp_path: Path) -> None:
    material = generate_key_material("k2030")
    env = dict(line.split("=", 1) for line in material.env_lines())
    keyring = load_keyring(
        settings(
            tmp_path,
            secret_keys=env["USERCENTER_SECRET_KEYS"],
            blind_index_key=env["USERCENTER_BLIND_INDEX_KEY"],
        )
    )
    assert keyring.cipher.current_kid == "k2030"
    assert material.field_key != material.blind_index_key
    assert generate_key_material().field_key != material.field_key
