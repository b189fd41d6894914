"""Sending login codes through a vendor (the Aliyun stub). Delivery happens after the answer:
a vendor's refusal is logged and counted, the send's daily counts are given back, and the
resend interval still holds."""

from __future__ import annotations

import json

from fastapi import FastAPI

from tests.identity.conftest import (
    AppFactory,
    MovableClock,
    client_for,
    delivered,
    new_phone,
    state_of,
)
from tests.notify.conftest import Running, aliyun
from tests.notify.stubs import (
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    ALIYUN_SIGN_NAME,
    ALIYUN_TEMPLATE,
    AliyunStub,
)

__all__ = ["aliyun"]


async def _aliyun_app(
    make_app: AppFactory, stub: Running[AliyunStub], **overrides: object
) -> FastAPI:
    return await make_app(
        sms_provider="aliyun",
        aliyun_access_key_id=ALIYUN_KEY_ID,
        aliyun_access_key_secret=ALIYUN_KEY_SECRET,
        aliyun_sms_sign_name=ALIYUN_SIGN_NAME,
        aliyun_sms_template_code=ALIYUN_TEMPLATE,
        aliyun_sms_endpoint=stub.url,
        sms_timeout_seconds=0.5,
        sms_resend_interval_seconds=60,
        **overrides,
    )


async def test_a_code_sent_by_the_vendor_logs_the_user_in(
    make_app: AppFactory, aliyun: Running[AliyunStub]
) -> None:
    application = await _aliyun_app(make_app, aliyun)
    phone = new_phone()
    async with client_for(application) as http:
        sent = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
        assert sent.status_code == 202, sent.text
        await state_of(application).courier.drain()
        [request] = [r for r in aliyun.stub.requests if r["PhoneNumbers"] == phone]
        code = json.loads(request["TemplateParam"])["code"]
        login = await http.post(
            "/v1/auth/sms-login", json={"phone": phone, "code": code, "platform": "H5"}
        )
    assert login.status_code == 200, login.text
    assert delivered(application, "sms", "sent") == 1


async def test_vendor_errors_are_counted_not_answered(
    make_app: AppFactory, aliyun: Running[AliyunStub]
) -> None:
    application = await _aliyun_app(make_app, aliyun)
    refused = ["13800000001", "13800000003", "13800000004", "13800000007"]
    async with client_for(application) as http:
        for phone in refused:
            response = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
            assert response.status_code == 202, phone
    await state_of(application).courier.drain()
    assert delivered(application, "sms", "failed") == len(refused)
    assert delivered(application, "sms", "sent") == 0


async def test_a_failed_delivery_gives_back_the_daily_count_but_not_the_interval(
    make_app: AppFactory, aliyun: Running[AliyunStub], moved_clock: MovableClock
) -> None:
    application = await _aliyun_app(make_app, aliyun, sms_daily_limit_per_phone=1)
    body = {"phone": "13800000006", "purpose": "login"}  # the stub answers too late
    async with client_for(application) as http:
        assert (await http.post("/v1/sms/codes", json=body)).status_code == 202
        await state_of(application).courier.drain()
        assert delivered(application, "sms", "failed") == 1
        again = await http.post("/v1/sms/codes", json=body)
        assert (again.status_code, again.json()["code"]) == (429, "sms_rate_limited")
        moved_clock.advance(61)
        # The daily cap is one: only the given-back count lets this one through.
        assert (await http.post("/v1/sms/codes", json=body)).status_code == 202
