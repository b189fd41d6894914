"""Sending login codes through a vendor (the Aliyun stub): its errors reach the client as our
codes, and a send that failed is not counted against the limits."""

from __future__ import annotations

import json

from fastapi import FastAPI

from tests.identity.conftest import AppFactory, client_for, new_phone
from tests.notify.conftest import Running, aliyun
from tests.notify.stubs import (
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    ALIYUN_SIGN_NAME,
    ALIYUN_TEMPLATE,
    AliyunStub,
)

__all__ = ["aliyun"]


async def _aliyun_app(make_app: AppFactory, stub: Running[AliyunStub]) -> FastAPI:
    return await make_app(
        sms_provider="aliyun",
        aliyun_access_key_id=ALIYUN_KEY_ID,
        aliyun_access_key_secret=ALIYUN_KEY_SECRET,
        aliyun_sms_sign_name=ALIYUN_SIGN_NAME,
        aliyun_sms_template_code=ALIYUN_TEMPLATE,
        aliyun_sms_endpoint=stub.url,
        sms_timeout_seconds=0.5,
        sms_resend_interval_seconds=60,
    )


async def test_a_code_sent_by_the_vendor_logs_the_user_in(
    make_app: AppFactory, aliyun: Running[AliyunStub]
) -> None:
    application = await _aliyun_app(make_app, aliyun)
    phone = new_phone()
    async with client_for(application) as http:
        sent = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
        assert sent.status_code == 202, sent.text
        [request] = [r for r in aliyun.stub.requests if r["PhoneNumbers"] == phone]
        code = json.loads(request["TemplateParam"])["code"]
        login = await http.post(
            "/v1/auth/sms-login", json={"phone": phone, "code": code, "platform": "H5"}
        )
    assert login.status_code == 200, login.text


async def test_vendor_errors_become_our_codes(
    make_app: AppFactory, aliyun: Running[AliyunStub]
) -> None:
    application = await _aliyun_app(make_app, aliyun)
    expected = {
        "13800000001": (429, "sms_rate_limited"),
        "13800000003": (422, "phone_invalid"),
        "13800000004": (503, "sms_unavailable"),
        "13800000007": (503, "sms_unavailable"),
    }
    async with client_for(application) as http:
        for phone, (status, code) in expected.items():
            response = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
            assert (response.status_code, response.json()["code"]) == (status, code), phone


async def test_a_vendor_timeout_is_503_and_not_counted_as_sent(
    make_app: AppFactory, aliyun: Running[AliyunStub]
) -> None:
    application = await _aliyun_app(make_app, aliyun)
    async with client_for(application) as http:
        for _ in range(2):  # the second try is not held back by the 60 s resend interval
            response = await http.post(
                "/v1/sms/codes", json={"phone": "13800000006", "purpose": "login"}
            )
            assert response.status_code == 503
            assert response.json()["code"] == "sms_unavailable"
