from __future__ import annotations

import asyncio
import threading
import time

import pytest

from usercenter.config import Settings
from usercenter.security.errors import PasswordTooWeak
from usercenter.security.passwords import PasswordHasher, PasswordPolicy

FAST = {"memory_kib": 8192, "time_cost": 1, "parallelism": 1}


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(**FAST)


class TestPasswordHasher:
    def test_defaults_are_owasp_argon2id(self) -> None:
        default = PasswordHasher.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
        password_hash = default.hash("correct horse battery staple")
        assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert default.verify(password_hash, "correct horse battery staple")

    def test_verify_accepts_the_password_and_refuses_others(self, hasher: PasswordHasher) -> None:
        password_hash = hasher.hash("我的密码很长很长")
        assert "我的密码" not in password_hash
        assert hasher.verify(password_hash, "我的密码很长很长")
        assert not hasher.verify(password_hash, "我的密码很长很短")
        assert not hasher.verify(password_hash, "")

    def test_same_password_hashes_differently(self, hasher: PasswordHasher) -> None:
        assert hasher.hash("same password") != hasher.hash("same password")

    @pytest.mark.parametrize(
        "stored", ["", "not a hash", "$argon2id$v=19$m=8192,t=1,p=1$broken", "$2b$12$abc", "密码"]
    )
    def test_unreadable_hash_is_a_mismatch_not_an_error(
        self, hasher: PasswordHasher, stored: str
    ) -> None:
        assert hasher.verify(stored, "password") is False

    def test_full_width_input_matches_the_ascii_password(self, hasher: PasswordHasher) -> None:
        password_hash = hasher.hash("Summer2025!")
        assert hasher.verify(password_hash, "Ｓｕｍｍｅｒ２０２５！")

    def test_needs_rehash_after_parameters_change(self, hasher: PasswordHasher) -> None:
        password_hash = hasher.hash("a long passphrase")
        assert not hasher.needs_rehash(password_hash)
        stronger = PasswordHasher(memory_kib=16384, time_cost=2, parallelism=1)
        assert stronger.needs_rehash(password_hash)
        assert stronger.verify(password_hash, "a long passphrase")  # old hashes still log in
        assert hasher.needs_rehash("not a hash")

    def test_dummy_verify_costs_about_one_verification(self, hasher: PasswordHasher) -> None:
        password_hash = hasher.hash("a long passphrase")

        def timed(action: object) -> float:
            assert callable(action)
            start = time.perf_counter()
            for _ in range(5):
                action()
            return time.perf_counter() - start

        real = timed(lambda: hasher.verify(password_hash, "wrong guess"))
        dummy = timed(lambda: hasher.dummy_verify("wrong guess"))
        assert 0.25 < dummy / real < 4.0

    async def test_async_hashing_runs_off_the_event_loop(self) -> None:
        slow = PasswordHasher(memory_kib=32768, time_cost=2, parallelism=1)
        loop_thread = threading.get_ident()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.001)
                ticks += 1

        task = asyncio.create_task(ticker())
        try:
            password_hash = await slow.hash_async("a long passphrase")
            assert await slow.verify_async(password_hash, "a long passphrase")
            assert not await slow.verify_async(password_hash, "wrong")
            await slow.dummy_verify_async("wrong")
        finally:
            task.cancel()
        assert threading.get_ident() == loop_thread
        assert ticks >= 10  # the loop kept running while the hashes were computed


class TestPasswordPolicy:
    def test_accepts_a_long_uncommon_password(self) -> None:
        PasswordPolicy(8).check("violet tram 47 umbrella", context_words=["zhangsan"])

    def test_refuses_short_password_naming_the_minimum(self) -> None:
        with pytest.raises(PasswordTooWeak) as caught:
            PasswordPolicy(10).check("x7!kq2Lp9")
        error = caught.value
        assert (error.code, error.status, error.reason, error.field) == (
            "password_too_weak",
            422,
            "too_short",
            "password",
        )
        assert "10" in error.detail("en")
        assert "10" in error.detail("zh-CN")

    def test_length_counts_characters_not_bytes(self) -> None:
        policy = PasswordPolicy(8)
        policy.check("我爱北京天安门吗")  # 8 characters, 24 bytes in UTF-8
        with pytest.raises(PasswordTooWeak, match="8"):
            policy.check("我爱北京天安门")  # 7 characters, 21 bytes
        with pytest.raises(PasswordTooWeak):
            policy.check("e\u0301" * 4 + "abc")  # é typed as e + accent: 7 characters, not 11

    def test_refuses_more_than_128_characters(self) -> None:
        policy = PasswordPolicy(8)
        policy.check("q" * 127 + "z")
        with pytest.raises(PasswordTooWeak) as caught:
            policy.check("q" * 128 + "z")
        assert caught.value.reason == "too_long"

    @pytest.mark.parametrize("password", ["password", "PassWord", "12345678", "qwertyuiop"])
    def test_refuses_common_passwords_in_any_case(self, password: str) -> None:
        with pytest.raises(PasswordTooWeak) as caught:
            PasswordPolicy(8).check(password)
        assert caught.value.reason == "too_common"
        assert "common" in caught.value.detail("en")

    def test_refuses_common_password_typed_full_width(self) -> None:
        with pytest.raises(PasswordTooWeak):
            PasswordPolicy(8).check("ｐａｓｓｗｏｒｄ")

    def test_refuses_the_account_own_identifiers(self) -> None:
        policy = PasswordPolicy(8)
        with pytest.raises(PasswordTooWeak) as caught:
            policy.check("13812348888", context_words=["ZhangSan", "13812348888"])
        assert caught.value.reason == "same_as_account"
        with pytest.raises(PasswordTooWeak):
            policy.check("zhangsan.dev", context_words=["ZhangSan.Dev"])
        policy.check("zhangsan.dev!", context_words=["ZhangSan.Dev", ""])

    def test_no_composition_rules(self) -> None:
        PasswordPolicy(8).check("all lower case words here")
