from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from tests.notify.conftest import Running
from tests.notify.stubs import (
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    ALIYUN_SIGN_NAME,
    ALIYUN_TEMPLATE,
    TENCENT_SDK_APP_ID,
    TENCENT_SECRET_ID,
    TENCENT_SECRET_KEY,
    TENCENT_SIGN_NAME,
    TENCENT_TEMPLATE_ID,
    AliyunStub,
    TencentStub,
    aliyun_expected_signature,
    free_port,
)
from usercenter.notify import (
    AliyunSmsSender,
    ConsoleSmsSender,
    NotifyError,
    PhoneInvalid,
    SmsRateLimited,
    SmsUnavailable,
    TencentSmsSender,
)
from usercenter.notify.sms import aliyun_signature, tc3_authorization

PHONE = "+8613812345678"


def aliyun_sender(url: str, *, secret: str = ALIYUN_KEY_SECRET, **kwargs: Any) -> AliyunSmsSender:
    return AliyunSmsSender(
        ALIYUN_KEY_ID, secret, ALIYUN_SIGN_NAME, ALIYUN_TEMPLATE, endpoint=url, **kwargs
    )


def tencent_sender(
    url: str, *, secret: str = TENCENT_SECRET_KEY, **kwargs: Any
) -> TencentSmsSender:
    return TencentSmsSender(
        TENCENT_SECRET_ID,
        secret,
        TENCENT_SDK_APP_ID,
        TENCENT_SIGN_NAME,
        TENCENT_TEMPLATE_ID,
        endpoint=url,
        **kwargs,
    )


class TestSignatures:
    def test_aliyun_signature_matches_documented_example(self) -> None:
        # Aliyun's worked example: DescribeRegions, AccessKey testid / testsecret.
        params = {
            "TimeStamp": "2016-02-23T12:46:24Z",
            "Format": "XML",
            "AccessKeyId": "testid",
            "Action": "DescribeRegions",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            "Version": "2014-05-26",
            "SignatureVersion": "1.0",
        }
        assert aliyun_signature("GET", params, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="

    def test_aliyun_signature_encodes_like_the_documented_recipe(self) -> None:
        # Space, *, ~, /, + and non-ASCII are where RFC 3986 and form encoding part ways.
        params = {"SignName": "用户 中心*~/+", "TemplateParam": '{"code":"1 2"}'}
        expected = aliyun_expected_signature("POST", params, "secret")
        assert aliyun_signature("POST", params, "secret") == expected
        assert aliyun_signature("POST", {**params, "Signature": "x"}, "secret") == expected

    def test_tc3_matches_documented_example(self) -> None:
        # Tencent Cloud's worked example: CVM DescribeInstances at 1551113065.
        payload = (
            b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], '
            b'"Name": "instance-name"}]}'
        )
        authorization = tc3_authorization(
            secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service="cvm",
            timestamp=1551113065,
            signed_headers={
                "Content-Type": "application/json; charset=utf-8",
                "Host": "cvm.tencentcloudapi.com",
            },
            payload=payload,
        )
        assert authorization == (
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
            "tc3_request, SignedHeaders=content-type;host, "
            "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        )


class TestConsoleSmsSender:
    async def test_keeps_the_last_code_per_phone(self) -> None:
        sender = ConsoleSmsSender()
        await sender.send_code(PHONE, "111111", purpose="login")
        await sender.send_code(PHONE, "222222", purpose="login")
        await sender.send_code("+8613900000000", "333333", purpose="register")
        assert sender.last_code(PHONE) == "222222"
        assert sender.last_code("+8613900000000") == "333333"
        assert sender.last_code("+8613700000000") is None

    async def test_logs_the_code_in_clear_and_the_phone_masked(self) -> None:
        sender = ConsoleSmsSender()
        with capture_logs() as logs:
            receipt = await sender.send_code(PHONE, "654321", purpose="login")
        [entry] = [log for log in logs if log["event"] == "sms_code_sent"]
        assert entry["log_level"] == "info"
        assert entry["code"] == "654321"
        assert entry["phone"] == "138****5678"
        assert entry["purpose"] == "login"
        assert "not delivered" in entry["note"]
        assert "13812345678" not in repr(logs)
        assert receipt.provider == "console"
        assert receipt.message_id

    async def test_a_number_outside_the_mainland_keeps_its_country_code(self) -> None:
        with capture_logs() as logs:
            await ConsoleSmsSender().send_code("+447911123456", "654321", purpose="login")
        assert [log["phone"] for log in logs] == ["+44****3456"]

    async def test_forgets_the_oldest_phone_past_capacity(self) -> None:
        sender = ConsoleSmsSender(capacity=2)
        for index in range(3):
            await sender.send_code(f"+861380000000{index}", str(index) * 6, purpose="login")
        assert sender.last_code("+8613800000000") is None
        assert sender.last_code("+8613800000002") == "222222"

    @pytest.mark.parametrize("phone", ["13812345678", "+86 138 1234 5678", "+0123456789", ""])
    async def test_refuses_a_number_not_in_e164(self, phone: str) -> None:
        sender = ConsoleSmsSender()
        with pytest.raises(PhoneInvalid) as caught:
            await sender.send_code(phone, "123456", purpose="login")
        assert caught.value.field == "phone"
        assert caught.value.status == 422
        assert sender.last_code(phone) is None


class TestAliyunSmsSender:
    async def test_sends_a_signed_request_and_returns_the_receipt(
        self, aliyun: Running[AliyunStub]
    ) -> None:
        receipt = await aliyun_sender(aliyun.url).send_code(PHONE, "123456", purpose="login")
        sent = aliyun.stub.requests[-1]
        assert sent["PhoneNumbers"] == "13812345678"
        assert sent["TemplateParam"] == '{"code":"123456"}'
        assert sent["SignName"] == ALIYUN_SIGN_NAME
        assert receipt.provider == "aliyun"
        assert receipt.message_id.endswith("^0")
        assert receipt.request_id

    async def test_each_request_has_a_fresh_nonce(self, aliyun: Running[AliyunStub]) -> None:
        # The stub refuses a reused SignatureNonce, as Aliyun does.
        sender = aliyun_sender(aliyun.url)
        await sender.send_code(PHONE, "123456", purpose="login")
        await sender.send_code(PHONE, "123456", purpose="login")
        assert (
            aliyun.stub.requests[-1]["SignatureNonce"] != aliyun.stub.requests[-2]["SignatureNonce"]
        )

    async def test_sends_international_numbers_with_country_code(
        self, aliyun: Running[AliyunStub]
    ) -> None:
        await aliyun_sender(aliyun.url).send_code("+85261234567", "123456", purpose="login")
        assert aliyun.stub.requests[-1]["PhoneNumbers"] == "85261234567"

    async def test_uses_a_client_it_is_given(self, aliyun: Running[AliyunStub]) -> None:
        async with httpx.AsyncClient() as client:
            sender = aliyun_sender(aliyun.url, client=client)
            receipt = await sender.send_code(PHONE, "123456", purpose="login")
            assert not client.is_closed
        assert receipt.message_id

    @pytest.mark.parametrize(
        ("phone", "error", "vendor_code"),
        [
            ("+8613800000001", SmsRateLimited, "isv.BUSINESS_LIMIT_CONTROL"),
            ("+8613800000002", SmsRateLimited, "isv.DAY_LIMIT_CONTROL"),
            ("+8613800000003", PhoneInvalid, "isv.MOBILE_NUMBER_ILLEGAL"),
            ("+8613800000004", SmsUnavailable, "isp.SYSTEM_ERROR"),
            ("+8613800000005", SmsUnavailable, "isv.AMOUNT_NOT_ENOUGH"),
            ("+8613800000007", SmsUnavailable, "HTTP 502"),
            ("+8613800000008", SmsUnavailable, "HTTP 200 without JSON"),
        ],
    )
    async def test_maps_vendor_answers(
        self,
        aliyun: Running[AliyunStub],
        phone: str,
        error: type[NotifyError],
        vendor_code: str,
    ) -> None:
        with capture_logs() as logs, pytest.raises(NotifyError) as caught:
            await aliyun_sender(aliyun.url).send_code(phone, "123456", purpose="login")
        assert type(caught.value) is error
        assert caught.value.vendor_code == vendor_code
        [entry] = [log for log in logs if log["event"] == "sms_send_failed"]
        assert entry["vendor_code"] == vendor_code
        assert entry["error"] == error.code
        assert phone[3:] not in repr(logs)

    def test_maps_errors_to_the_documented_statuses(self) -> None:
        assert (SmsRateLimited.status, SmsRateLimited.code) == (429, "sms_rate_limited")
        assert (PhoneInvalid.status, PhoneInvalid.code) == (422, "phone_invalid")
        assert (SmsUnavailable.status, SmsUnavailable.code) == (503, "sms_unavailable")

    async def test_wrong_secret_is_refused_by_the_signature_check(
        self, aliyun: Running[AliyunStub]
    ) -> None:
        before = len(aliyun.stub.requests)
        with pytest.raises(SmsUnavailable) as caught:
            await aliyun_sender(aliyun.url, secret="not-the-secret").send_code(
                PHONE, "123456", purpose="login"
            )
        assert caught.value.vendor_code == "SignatureDoesNotMatch"
        assert len(aliyun.stub.requests) == before

    async def test_timeout_is_unavailable_and_quick(self, aliyun: Running[AliyunStub]) -> None:
        started = time.monotonic()
        with pytest.raises(SmsUnavailable):
            await aliyun_sender(aliyun.url, timeout=0.3).send_code(
                "+8613800000006", "123456", purpose="login"
            )
        assert time.monotonic() - started < 1.5

    async def test_timeout_is_not_retried(self, aliyun: Running[AliyunStub]) -> None:
        calls = aliyun.stub.calls
        with pytest.raises(SmsUnavailable):
            await aliyun_sender(aliyun.url, timeout=0.3).send_code(
                "+8613800000006", "123456", purpose="login"
            )
        assert aliyun.stub.calls == calls + 1

    async def test_connection_refused_is_unavailable(self) -> None:
        sender = aliyun_sender(f"http://127.0.0.1:{free_port()}/")
        with pytest.raises(SmsUnavailable) as caught:
            await sender.send_code(PHONE, "123456", purpose="login")
        assert caught.value.vendor_code == "ConnectError"

    async def test_number_not_in_e164_is_refused_before_calling(
        self, aliyun: Running[AliyunStub]
    ) -> None:
        calls = aliyun.stub.calls
        with pytest.raises(PhoneInvalid):
            await aliyun_sender(aliyun.url).send_code("13812345678", "123456", purpose="login")
        assert aliyun.stub.calls == calls


class TestTencentSmsSender:
    async def test_sends_a_signed_request_and_returns_the_receipt(
        self, tencent: Running[TencentStub]
    ) -> None:
        receipt = await tencent_sender(tencent.url).send_code(PHONE, "123456", purpose="login")
        sent = tencent.stub.requests[-1]
        assert sent["PhoneNumberSet"] == [PHONE]
        assert sent["TemplateParamSet"] == ["123456"]
        assert sent["SmsSdkAppId"] == TENCENT_SDK_APP_ID
        assert sent["TemplateId"] == TENCENT_TEMPLATE_ID
        assert receipt.provider == "tencent"
        assert receipt.message_id.startswith("2028:")
        assert receipt.request_id

    @pytest.mark.parametrize(
        ("phone", "error", "vendor_code"),
        [
            ("+8613800000001", SmsRateLimited, "LimitExceeded.PhoneNumberThirtySecondLimit"),
            ("+8613800000002", SmsRateLimited, "LimitExceeded.PhoneNumberOneHourLimit"),
            ("+8613800000003", SmsRateLimited, "LimitExceeded.PhoneNumberDailyLimit"),
            ("+8613800000004", SmsRateLimited, "LimitExceeded.PhoneNumberSameContentDailyLimit"),
            ("+8613800000005", PhoneInvalid, "InvalidParameterValue.IncorrectPhoneNumber"),
            ("+8613800000006", SmsUnavailable, "FailedOperation.PhoneNumberInBlacklist"),
            ("+8613800000008", SmsUnavailable, "InternalError"),
            ("+8613800000009", SmsUnavailable, "HTTP 502"),
        ],
    )
    async def test_maps_vendor_answers(
        self,
        tencent: Running[TencentStub],
        phone: str,
        error: type[NotifyError],
        vendor_code: str,
    ) -> None:
        with capture_logs() as logs, pytest.raises(NotifyError) as caught:
            await tencent_sender(tencent.url).send_code(phone, "123456", purpose="login")
        assert type(caught.value) is error
        assert caught.value.vendor_code == vendor_code
        [entry] = [log for log in logs if log["event"] == "sms_send_failed"]
        assert entry["vendor_code"] == vendor_code

    async def test_wrong_secret_is_refused_by_the_signature_check(
        self, tencent: Running[TencentStub]
    ) -> None:
        before = len(tencent.stub.requests)
        with pytest.raises(SmsUnavailable) as caught:
            await tencent_sender(tencent.url, secret="not-the-secret").send_code(
                PHONE, "123456", purpose="login"
            )
        assert caught.value.vendor_code == "AuthFailure.SignatureFailure"
        assert len(tencent.stub.requests) == before

    async def test_non_ascii_sign_name_is_signed_over_the_bytes_sent(
        self, tencent: Running[TencentStub]
    ) -> None:
        # The body carries 用户中心 as UTF-8; a hash over anything else would fail the check.
        await tencent_sender(tencent.url).send_code(PHONE, "123456", purpose="login")
        assert tencent.stub.requests[-1]["SignName"] == TENCENT_SIGN_NAME

    async def test_timeout_is_unavailable_and_quick(self, tencent: Running[TencentStub]) -> None:
        started = time.monotonic()
        with pytest.raises(SmsUnavailable):
            await tencent_sender(tencent.url, timeout=0.3).send_code(
                "+8613800000007", "123456", purpose="login"
            )
        assert time.monotonic() - started < 1.5

    async def test_answer_that_is_not_json_is_unavailable(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, text="<html>gateway</html>")

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            sender = tencent_sender("https://sms.tencentcloudapi.com/", client=client)
            with pytest.raises(SmsUnavailable) as caught:
                await sender.send_code(PHONE, "123456", purpose="login")
        assert caught.value.vendor_code == "HTTP 200 without Response"

    async def test_signs_the_host_it_sends_to(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            status = {"SerialNo": "1", "PhoneNumber": PHONE, "Code": "Ok", "Message": "ok"}
            answer = {"Response": {"SendStatusSet": [status], "RequestId": "r"}}
            return httpx.Response(200, text=json.dumps(answer))

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            sender = tencent_sender("https://sms.tencentcloudapi.com/", client=client)
            await sender.send_code(PHONE, "123456", purpose="login")
        [request] = seen
        assert request.headers["host"] == "sms.tencentcloudapi.com"
        assert request.headers["x-tc-region"] == "ap-guangzhou"
        assert (
            "/sms/tc3_request, SignedHeaders=content-type;host;x-tc-action,"
            in (request.headers["authorization"])
        )
