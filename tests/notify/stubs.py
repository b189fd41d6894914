"""Stand-ins for the SMS vendors: real HTTP servers on 127.0.0.1 that check what Aliyun and
Tencent Cloud check (signature, timestamp, nonce, required parameters) and answer in their
format, with an outcome chosen by the phone number.

The signature checks are written from the vendors' documentation, separately from the senders'
code, so a sender that signs wrongly is refused here as it would be there.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote_plus

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from usercenter.providers.stubs import serve as serve_stub

SLOW_SECONDS = 3.0


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run `app` on a free local port (the providers' stub runner); yields its base URL, with
    the trailing slash the vendors' endpoints have."""
    with serve_stub(app) as url:
        yield url + "/"


def free_port() -> int:
    """A port nothing listens on (for 'server down' tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- Aliyun -----------------------------------------------------------------------------------

ALIYUN_KEY_ID = "LTAI5tStubKeyId"
ALIYUN_KEY_SECRET = "stub-secret-for-tests"
ALIYUN_SIGN_NAME = "用户中心"
ALIYUN_TEMPLATE = "SMS_000001"

# Number as Aliyun receives it (mainland numbers without +86) -> outcome.
ALIYUN_OUTCOMES: dict[str, str] = {
    "13800000001": "isv.BUSINESS_LIMIT_CONTROL",
    "13800000002": "isv.DAY_LIMIT_CONTROL",
    "13800000003": "isv.MOBILE_NUMBER_ILLEGAL",
    "13800000004": "isp.SYSTEM_ERROR",
    "13800000005": "isv.AMOUNT_NOT_ENOUGH",
    "13800000006": "slow",
    "13800000007": "http 502",
    "13800000008": "not json",
}
_ALIYUN_MAINLAND = re.compile(r"1[3-9]\d{9}")
_ALIYUN_INTERNATIONAL = re.compile(r"(?!86)[1-9]\d{6,14}")
_ALIYUN_REQUIRED = (
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Signature",
    "PhoneNumbers",
    "SignName",
    "TemplateCode",
)


def _aliyun_encode(value: str) -> str:
    # The documentation's recipe: form-encode, then fix what form encoding does differently.
    return quote_plus(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def aliyun_expected_signature(method: str, params: dict[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    query = "&".join(_aliyun_encode(k) + "=" + _aliyun_encode(v) for k, v in pairs)
    to_sign = method + "&" + _aliyun_encode("/") + "&" + _aliyun_encode(query)
    mac = hmac.new((secret + "&").encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class AliyunStub:
    """Dysmsapi SendSms. `requests` holds the parameters of every call that passed the checks."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.calls = 0
        self._nonces: set[str] = set()

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self._endpoint, methods=["POST"])])

    @staticmethod
    def _answer(code: str, message: str, status: int = 200, **extra: Any) -> JSONResponse:
        body = {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message, **extra}
        return JSONResponse(body, status_code=status)

    async def _endpoint(self, request: Request) -> Response:
        self.calls += 1
        if request.headers.get("content-type") != "application/x-www-form-urlencoded":
            return self._answer("UnsupportedHTTPMethod", "Expected a form body", 400)
        try:
            pairs = parse_qsl((await request.body()).decode("ascii"), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return self._answer("InvalidParameter", "The form body is malformed", 400)
        params = dict(pairs)
        missing = [name for name in _ALIYUN_REQUIRED if not params.get(name)]
        if missing:
            return self._answer(f"Missing{missing[0]}", f"{missing[0]} is mandatory", 400)
        if params["Action"] != "SendSms" or params["Version"] != "2017-05-25":
            return self._answer("InvalidAction.NotFound", "Specified api is not found", 404)
        if params["AccessKeyId"] != ALIYUN_KEY_ID:
            return self._answer("InvalidAccessKeyId.NotFound", "AccessKeyId is not found", 404)
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return self._answer("InvalidSignatureMethod", "Signature method not supported", 400)
        try:
            sent_at = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return self._answer("InvalidTimeStamp.Format", "Timestamp is not ISO 8601", 400)
        if abs(sent_at.replace(tzinfo=UTC).timestamp() - time.time()) > 900:
            return self._answer("InvalidTimeStamp.Expired", "Timestamp has expired", 400)
        expected = aliyun_expected_signature("POST", params, ALIYUN_KEY_SECRET)
        if not hmac.compare_digest(expected, params["Signature"]):
            return self._answer(
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
                400,
                Recommend="https://api.aliyun.com/troubleshoot",
            )
        if params["SignatureNonce"] in self._nonces:
            return self._answer("SignatureNonceUsed", "Specified signature nonce was used", 400)
        self._nonces.add(params["SignatureNonce"])
        if params["Format"] != "JSON":
            return PlainTextResponse("<xml/>", media_type="text/xml")
        if params["SignName"] != ALIYUN_SIGN_NAME:
            return self._answer("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法")
        if params["TemplateCode"] != ALIYUN_TEMPLATE:
            return self._answer("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法")
        try:
            template_param = json.loads(params.get("TemplateParam", ""))
        except ValueError:
            return self._answer("isv.INVALID_JSON_PARAM", "JSON参数不合法")
        if not isinstance(template_param, dict) or not isinstance(template_param.get("code"), str):
            return self._answer("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
        number = params["PhoneNumbers"]
        if not (_ALIYUN_MAINLAND.fullmatch(number) or _ALIYUN_INTERNATIONAL.fullmatch(number)):
            return self._answer("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        self.requests.append(params)
        outcome = ALIYUN_OUTCOMES.get(number, "OK")
        if outcome == "slow":
            await asyncio.sleep(SLOW_SECONDS)
        elif outcome == "http 502":
            return PlainTextResponse("<html>502 Bad Gateway</html>", status_code=502)
        elif outcome == "not json":
            return PlainTextResponse("<html>maintenance</html>")
        elif outcome != "OK":
            return self._answer(outcome, f"stub answer {outcome}")
        return self._answer("OK", "OK", BizId=f"{uuid.uuid4().int % 10**18}^0")


# --- Tencent Cloud ----------------------------------------------------------------------------

TENCENT_SECRET_ID = "AKIDStubSecretId"
TENCENT_SECRET_KEY = "stub-secret-key-for-tests"
TENCENT_SDK_APP_ID = "1400000001"
TENCENT_SIGN_NAME = "用户中心"
TENCENT_TEMPLATE_ID = "100001"

TENCENT_NUMBER_OUTCOMES: dict[str, str] = {
    "+8613800000001": "LimitExceeded.PhoneNumberThirtySecondLimit",
    "+8613800000002": "LimitExceeded.PhoneNumberOneHourLimit",
    "+8613800000003": "LimitExceeded.PhoneNumberDailyLimit",
    "+8613800000004": "LimitExceeded.PhoneNumberSameContentDailyLimit",
    "+8613800000005": "InvalidParameterValue.IncorrectPhoneNumber",
    "+8613800000006": "FailedOperation.PhoneNumberInBlacklist",
    "+8613800000007": "slow",
    "+8613800000008": "request InternalError",
    "+8613800000009": "http 502",
}
_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)"
    r"/tc3_request, SignedHeaders=(?P<headers>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def tencent_expected_signature(
    secret_key: str, date: str, service: str, timestamp: str, canonical_request: str
) -> str:
    def step(key: bytes, data: str) -> bytes:
        return hmac.new(key, data.encode("utf-8"), hashlib.sha256).digest()

    signing_key = step(
        step(step(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request"
    )
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            timestamp,
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    return hmac.new(signing_key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class TencentStub:
    """SMS SendSms 2021-01-11. `requests` holds the bodies of calls that passed the checks."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.calls = 0

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self._endpoint, methods=["POST"])])

    @staticmethod
    def _error(code: str, message: str) -> JSONResponse:
        # Tencent answers request-level errors with HTTP 200 and Response.Error.
        return JSONResponse(
            {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": _rid()}}
        )

    def _check_signature(self, request: Request, body: bytes) -> JSONResponse | None:
        match = _AUTHORIZATION.fullmatch(request.headers.get("authorization", ""))
        if match is None:
            return self._error("AuthFailure.InvalidAuthorization", "Authorization is malformed")
        if match["id"] != TENCENT_SECRET_ID:
            return self._error("AuthFailure.SecretIdNotFound", "The SecretId is not found")
        timestamp = request.headers.get("x-tc-timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > 300:
            return self._error("AuthFailure.SignatureExpire", "Signature expired")
        if match["date"] != datetime.fromtimestamp(int(timestamp), UTC).date().isoformat():
            return self._error("AuthFailure.SignatureFailure", "Credential date is not UTC")
        if match["service"] != "sms":
            return self._error("AuthFailure.SignatureFailure", "Credential service is not sms")
        names = match["headers"].split(";")
        if names != sorted(names) or not {"content-type", "host"} <= set(names):
            return self._error("AuthFailure.SignatureFailure", "content-type and host unsigned")
        canonical_headers = "".join(
            f"{name}:{request.headers.get(name, '').strip().lower()}\n" for name in names
        )
        canonical_request = (
            f"POST\n/\n\n{canonical_headers}\n{match['headers']}\n"
            + hashlib.sha256(body).hexdigest()
        )
        expected = tencent_expected_signature(
            TENCENT_SECRET_KEY, match["date"], "sms", timestamp, canonical_request
        )
        if not hmac.compare_digest(expected, match["signature"]):
            return self._error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. Please check your signature "
                "is correct.",
            )
        return None

    async def _endpoint(self, request: Request) -> Response:
        self.calls += 1
        body = await request.body()
        if request.headers.get("content-type") != "application/json; charset=utf-8":
            return self._error("InvalidParameter", "Content-Type must be JSON with charset")
        if request.headers.get("x-tc-action") != "SendSms":
            return self._error("InvalidAction", "The action does not exist")
        if request.headers.get("x-tc-version") != "2021-01-11":
            return self._error("NoSuchVersion", "The version does not exist")
        if not request.headers.get("x-tc-region"):
            return self._error("MissingParameter", "X-TC-Region is missing")
        refused = self._check_signature(request, body)
        if refused is not None:
            return refused
        try:
            payload = json.loads(body)
        except ValueError:
            return self._error("FailedOperation.JsonParseFail", "The body is not JSON")
        numbers = payload.get("PhoneNumberSet")
        if not isinstance(numbers, list) or not numbers:
            return self._error("MissingParameter", "PhoneNumberSet is missing")
        if payload.get("SmsSdkAppId") != TENCENT_SDK_APP_ID:
            return self._error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId not found")
        if payload.get("SignName") != TENCENT_SIGN_NAME:
            return self._error("FailedOperation.SignatureIncorrectOrUnapproved", "bad sign name")
        if payload.get("TemplateId") != TENCENT_TEMPLATE_ID:
            return self._error("FailedOperation.TemplateIncorrectOrUnapproved", "bad template")
        params = payload.get("TemplateParamSet")
        if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], str):
            return self._error("FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "")
        self.requests.append(payload)
        statuses = []
        for number in numbers:
            outcome = TENCENT_NUMBER_OUTCOMES.get(number, "Ok")
            if not str(number).startswith("+"):
                outcome = "InvalidParameterValue.IncorrectPhoneNumber"
            if outcome == "slow":
                await asyncio.sleep(SLOW_SECONDS)
                outcome = "Ok"
            elif outcome == "request InternalError":
                return self._error("InternalError", "internal error")
            elif outcome == "http 502":
                return PlainTextResponse("<html>502 Bad Gateway</html>", status_code=502)
            statuses.append(
                {
                    "SerialNo": f"2028:{uuid.uuid4().int % 10**19}",
                    "PhoneNumber": number,
                    "Fee": 1 if outcome == "Ok" else 0,
                    "SessionContext": "",
                    "Code": outcome,
                    "Message": "send success" if outcome == "Ok" else f"stub answer {outcome}",
                    "IsoCode": "CN",
                }
            )
        return JSONResponse({"Response": {"SendStatusSet": statuses, "RequestId": _rid()}})


def _rid() -> str:
    return str(uuid.uuid4())
