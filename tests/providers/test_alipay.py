from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from structlog.testing import capture_logs

from tests.providers.conftest import FAST, person
from usercenter.kit import clock
from usercenter.providers.alipay import (
    AlipayProvider,
    load_private_key,
    load_public_key,
    rsa2_sign,
    rsa2_verify,
    sign_content,
    top_level_members,
)
from usercenter.providers.base import AppCredentials, AppType, LoginProof
from usercenter.providers.errors import (
    ProviderCodeInvalid,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from usercenter.providers.stubs import ALIPAY_APP_ID, RunningStubs


@pytest.fixture
def alipay(http: httpx.AsyncClient) -> AlipayProvider:
    return AlipayProvider(http, **FAST)


@pytest.fixture
def app(stubs: RunningStubs) -> AppCredentials:
    return stubs.app(ALIPAY_APP_ID)


@pytest.fixture
def new_year_utc() -> Iterator[None]:
    clock.set_clock(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    yield
    clock.set_clock(None)


@pytest.fixture
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def with_extra(app: AppCredentials, **extra: object) -> AppCredentials:
    return AppCredentials(app.app_type, app.app_id, app.secret, {**app.extra, **extra})


async def login(alipay: AlipayProvider, app: AppCredentials, code: str) -> ProviderError | None:
    try:
        await alipay.exchange(app, LoginProof(code=code))
    except ProviderError as exc:
        return exc
    return None


class TestExchange:
    async def test_a_code_gives_the_open_id(
        self, alipay: AlipayProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        who = person()
        identity = await alipay.exchange(
            app, LoginProof(code=stubs.alipay.code_for(ALIPAY_APP_ID, who))
        )
        assert identity.app_type is AppType.ALIPAY
        assert identity.subject == stubs.alipay.open_id_for(ALIPAY_APP_ID, who)

    async def test_a_legacy_app_gets_the_user_id(
        self, alipay: AlipayProvider, stubs: RunningStubs
    ) -> None:
        stubs.alipay.add_app("2021000000000077", subject_field="user_id")
        legacy = stubs.alipay.credentials("2021000000000077", stubs.urls["alipay"])
        who = person()
        identity = await alipay.exchange(
            legacy, LoginProof(code=stubs.alipay.code_for("2021000000000077", who))
        )
        assert identity.subject == stubs.alipay.user_id_for(who)

    async def test_a_code_works_once(
        self, alipay: AlipayProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.alipay.code_for(ALIPAY_APP_ID, person())
        await alipay.exchange(app, LoginProof(code=code))
        raised = await login(alipay, app, code)
        assert type(raised) is ProviderCodeInvalid
        assert raised.vendor_code == "40002 isv.code-invalid"

    @pytest.mark.parametrize(
        ("code", "error", "vendor_code"),
        [
            ("never-issued", ProviderCodeInvalid, "40002 isv.code-invalid"),
            ("ali-40006", ProviderRejected, "40006 isv.insufficient-isv-permissions"),
            ("ali-busy", ProviderUnavailable, "20000 isp.unknow-error"),
            ("ali-tampered", ProviderUnavailable, "response signature invalid"),
            ("ali-unsigned", ProviderUnavailable, "response unsigned"),
            ("ali-http-502", ProviderUnavailable, "HTTP 502"),
            ("ali-slow", ProviderUnavailable, "TimeoutError"),
        ],
    )
    async def test_every_vendor_error_becomes_our_code(
        self,
        alipay: AlipayProvider,
        app: AppCredentials,
        code: str,
        error: type[ProviderError],
        vendor_code: str,
    ) -> None:
        raised = await login(alipay, app, code)
        assert type(raised) is error
        assert raised.vendor_code == vendor_code

    async def test_busy_once_then_fine_logs_in(
        self, alipay: AlipayProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.alipay.code_for(ALIPAY_APP_ID, person(), busy_times=1)
        assert (await alipay.exchange(app, LoginProof(code=code))).subject
        assert stubs.alipay.calls[code] == 2

    async def test_busy_every_time_is_tried_retries_plus_one_times(
        self, alipay: AlipayProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.alipay.code_for(ALIPAY_APP_ID, person(), busy_times=99)
        assert type(await login(alipay, app, code)) is ProviderUnavailable
        assert stubs.alipay.calls[code] == 2


class TestSignatures:
    async def test_a_request_signed_with_another_key_is_refused_by_alipay(
        self,
        alipay: AlipayProvider,
        app: AppCredentials,
        stubs: RunningStubs,
        other_key: rsa.RSAPrivateKey,
    ) -> None:
        forged = with_extra(app, private_key=pem(other_key)[0])
        raised = await login(alipay, forged, stubs.alipay.code_for(ALIPAY_APP_ID, person()))
        assert type(raised) is ProviderUnavailable
        assert raised.vendor_code == "40002 isv.invalid-signature"

    async def test_an_answer_signed_by_someone_else_is_not_believed(
        self,
        alipay: AlipayProvider,
        app: AppCredentials,
        stubs: RunningStubs,
        other_key: rsa.RSAPrivateKey,
    ) -> None:
        misconfigured = with_extra(app, alipay_public_key=pem(other_key)[1])
        code = stubs.alipay.code_for(ALIPAY_APP_ID, person())
        raised = await login(alipay, misconfigured, code)
        assert type(raised) is ProviderUnavailable
        assert raised.vendor_code == "response signature invalid"

    async def test_a_tampered_answer_is_logged_as_an_error(
        self, alipay: AlipayProvider, app: AppCredentials
    ) -> None:
        with capture_logs() as logs:
            await login(alipay, app, "ali-tampered")
        [failure] = [entry for entry in logs if entry["event"] == "provider_call_failed"]
        assert failure["log_level"] == "error"
        assert failure["vendor_code"] == "response signature invalid"

    async def test_an_app_without_keys_is_unavailable(
        self, alipay: AlipayProvider, app: AppCredentials
    ) -> None:
        keyless = AppCredentials(app.app_type, app.app_id, "", {"gateway": app.extra["gateway"]})
        assert type(await login(alipay, keyless, "c")) is ProviderUnavailable

    async def test_keys_in_bare_base64_work_too(
        self, alipay: AlipayProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        def bare(text: str) -> str:
            return "".join(line for line in text.splitlines() if not line.startswith("-----"))

        bare_app = with_extra(
            app,
            private_key=bare(app.extra["private_key"]),
            alipay_public_key=bare(app.extra["alipay_public_key"]),
        )
        code = stubs.alipay.code_for(ALIPAY_APP_ID, person())
        assert (await alipay.exchange(bare_app, LoginProof(code=code))).subject

    def test_the_request_is_signed_over_its_sorted_parameters(
        self, alipay: AlipayProvider, app: AppCredentials
    ) -> None:
        params = alipay.signed_params(app, "the-code")
        public_key = load_public_key(pem_public_of(app.extra["private_key"]))
        assert rsa2_verify(sign_content(params), params["sign"], public_key)
        assert sign_content(params).startswith("app_id=")
        assert "sign=" not in sign_content(params).replace("sign_type=", "")

    @pytest.mark.usefixtures("new_year_utc")
    def test_the_timestamp_is_china_time(self, alipay: AlipayProvider, app: AppCredentials) -> None:
        params = alipay.signed_params(app, "c")
        assert params["timestamp"] == "2026-01-01 08:00:00"


def pem_public_of(private_pem: str) -> str:
    key = load_private_key(private_pem)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


class TestSignContent:
    def test_empty_values_and_the_signature_are_left_out(self) -> None:
        assert sign_content({"b": "2", "a": "1", "sign": "x", "c": ""}) == "a=1&b=2"

    def test_values_are_not_url_encoded(self) -> None:
        assert sign_content({"t": "2026-01-01 08:00:00"}) == "t=2026-01-01 08:00:00"


class TestRawMembers:
    def test_member_text_is_kept_exactly(self) -> None:
        body = '{ "r" : {"a":"\\u4e2d\\/x", "b": [1, 2]} ,"sign":"s=="}'
        members = top_level_members(body)
        assert members["r"] == '{"a":"\\u4e2d\\/x", "b": [1, 2]}'
        assert json.loads(members["sign"]) == "s=="

    @pytest.mark.parametrize("body", ["", "[]", '{"a":1', '{"a":1}x', '{"a" 1}', "{1:2}"])
    def test_what_is_not_one_object_is_refused(self, body: str) -> None:
        with pytest.raises(ValueError, match=r"(?i)expect|not|after|member"):
            top_level_members(body)

    def test_a_signature_over_unescaped_slashes_is_accepted(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        raw = '{"url":"https:\\/\\/example.com"}'
        signature = rsa2_sign(raw.replace("\\/", "/"), key)
        assert AlipayProvider._signature_holds(raw, signature, key.public_key())
        assert not AlipayProvider._signature_holds(
            raw, base64.b64encode(b"x").decode(), key.public_key()
        )
