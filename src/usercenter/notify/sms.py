"""Text messages carrying a one-time code: a console sender for local use, Aliyun and Tencent Cloud.

Every sender takes an E.164 number (`+8613812345678`) and returns an `SmsReceipt` or raises
`SmsRateLimited` (the vendor's per-number frequency control), `PhoneInvalid` (the number cannot
receive messages) or `SmsUnavailable` (anything else: our account, the vendor, the network).
No sender retries: neither vendor's SendSms is idempotent, so a request that timed out may
still have been delivered, and a second try could cost a second message and trip the limits.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, Protocol
from urllib.parse import quote

import httpx

from usercenter.kit import clock
from usercenter.kit.log import get_logger
from usercenter.notify.errors import NotifyError, PhoneInvalid, SmsRateLimited, SmsUnavailable
from usercenter.security.masking import mask_phone

_log = get_logger(__name__)

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_MAINLAND_PREFIX = "+86"


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    """What the vendor said about an accepted message: its id and the id of the API call."""

    provider: str
    message_id: str
    request_id: str


class SmsSender(Protocol):
    name: str

    async def send_code(self, phone: str, code: str, *, purpose: str) -> SmsReceipt:
        """Send `code` to the E.164 number `phone`; raises SmsRateLimited, PhoneInvalid or
        SmsUnavailable. `purpose` (login, register, ...) is only logged."""
        ...


def shown_phone(phone: str) -> str:
    """An E.164 number as logs show it: a mainland one as people write it, `139****1234`."""
    return mask_phone(phone.removeprefix(_MAINLAND_PREFIX))


def require_e164(phone: str) -> str:
    """`phone` unchanged if it is written in E.164 (`+` and 7 to 15 digits); PhoneInvalid if not."""
    if not _E164.fullmatch(phone):
        raise PhoneInvalid()
    return phone


class ConsoleSmsSender:
    """Writes the message to the log instead of sending it (local runs, demos and tests).

    A development sender: the code is logged in clear at INFO, so whoever runs the service can
    log in; the phone is masked like everywhere else. The last code sent to each number is kept
    in memory, at most `capacity` numbers, for `last_code`.
    """

    name = "console"

    def __init__(self, *, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._codes: dict[str, str] = {}

    async def send_code(self, phone: str, code: str, *, purpose: str) -> SmsReceipt:
        require_e164(phone)
        self._codes.pop(phone, None)
        self._codes[phone] = code
        if len(self._codes) > self._capacity:
            del self._codes[next(iter(self._codes))]
        receipt = SmsReceipt(self.name, uuid.uuid4().hex, "")
        _log.info(
            "sms_code_sent",
            provider=self.name,
            phone=shown_phone(phone),
            code=code,
            purpose=purpose,
            message_id=receipt.message_id,
            note="not delivered: development sender",
        )
        return receipt

    def last_code(self, phone: str) -> str | None:
        """The last code sent to `phone` (E.164), if any."""
        return self._codes.get(phone)


class _VendorSmsSender:
    """What the HTTP senders share: one bounded POST, and the mapping of vendor codes."""

    name: str
    errors: Mapping[str, type[NotifyError]]

    def __init__(self, *, timeout: float, client: httpx.AsyncClient | None) -> None:
        self._timeout = timeout
        self._client = client

    async def _post(
        self, url: str, *, content: bytes, headers: Mapping[str, str], phone: str
    ) -> httpx.Response:
        """POST once within `timeout` seconds in all; a timeout or network error is
        SmsUnavailable. Without a client of our own, a short-lived one is used."""
        try:
            async with asyncio.timeout(self._timeout):
                if self._client is not None:
                    return await self._client.post(
                        url, content=content, headers=headers, timeout=self._timeout
                    )
                async with httpx.AsyncClient(timeout=self._timeout) as client:
                    return await client.post(url, content=content, headers=headers)
        except (httpx.HTTPError, TimeoutError) as exc:
            self._fail(phone, type(exc).__name__, message=str(exc) or None)

    def _fail(
        self,
        phone: str,
        vendor_code: str,
        *,
        message: str | None = None,
        request_id: str | None = None,
    ) -> NoReturn:
        """Log the vendor's answer and raise the error it maps to (SmsUnavailable by default)."""
        error_class = self.errors.get(vendor_code, SmsUnavailable)
        error = error_class(provider=self.name, vendor_code=vendor_code)
        log = _log.warning if isinstance(error, SmsUnavailable) else _log.info
        log(
            "sms_send_failed",
            provider=self.name,
            phone=shown_phone(phone),
            vendor_code=vendor_code,
            vendor_message=message,
            request_id=request_id,
            error=error.code,
        )
        raise error

    def _succeed(self, phone: str, receipt: SmsReceipt, *, purpose: str) -> SmsReceipt:
        _log.info(
            "sms_sent",
            provider=self.name,
            phone=shown_phone(phone),
            purpose=purpose,
            message_id=receipt.message_id,
            request_id=receipt.request_id,
        )
        return receipt


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# --- Aliyun Dysmsapi 2017-05-25 ----------------------------------------------------------------


def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 encoding as Aliyun's RPC signature wants it: only A-Z a-z 0-9 - _ . ~ stay."""
    return quote(value, safe="")


def aliyun_signature(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """Signature (v1.0, HMAC-SHA1) of an RPC request's parameters, `Signature` itself excluded."""
    canonical = "&".join(
        f"{aliyun_percent_encode(key)}={aliyun_percent_encode(params[key])}"
        for key in sorted(params)
        if key != "Signature"
    )
    string_to_sign = f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(canonical)}"
    digest = hmac.new(
        f"{access_key_secret}&".encode(), string_to_sign.encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def aliyun_phone_number(phone: str) -> str:
    """Aliyun wants mainland numbers bare (`13812345678`), others as country code and number."""
    if phone.startswith(_MAINLAND_PREFIX):
        return phone[len(_MAINLAND_PREFIX) :]
    return phone.removeprefix("+")


class AliyunSmsSender(_VendorSmsSender):
    """Aliyun Dysmsapi `SendSms` as a signed RPC request (form POST, HMAC-SHA1).

    `isv.BUSINESS_LIMIT_CONTROL` and `isv.DAY_LIMIT_CONTROL` are SmsRateLimited,
    `isv.MOBILE_NUMBER_ILLEGAL` is PhoneInvalid; every other code (balance, template, signature,
    `isp.SYSTEM_ERROR`), an HTTP 5xx, an answer that is not JSON, a timeout or a network error is
    SmsUnavailable.
    """

    name = "aliyun"
    errors: Mapping[str, type[NotifyError]] = {
        "isv.BUSINESS_LIMIT_CONTROL": SmsRateLimited,
        "isv.DAY_LIMIT_CONTROL": SmsRateLimited,
        "isv.MOBILE_NUMBER_ILLEGAL": PhoneInvalid,
    }
    api_version = "2017-05-25"

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        *,
        endpoint: str = "https://dysmsapi.aliyuncs.com/",
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(timeout=timeout, client=client)
        self._access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self._sign_name = sign_name
        self._template_code = template_code
        self._endpoint = endpoint

    def _signed_params(self, phone: str, code: str) -> dict[str, str]:
        params = {
            "Action": "SendSms",
            "Version": self.api_version,
            "Format": "JSON",
            "AccessKeyId": self._access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PhoneNumbers": aliyun_phone_number(phone),
            "SignName": self._sign_name,
            "TemplateCode": self._template_code,
            "TemplateParam": json.dumps({"code": code}, separators=(",", ":")),
        }
        params["Signature"] = aliyun_signature("POST", params, self._access_key_secret)
        return params

    async def send_code(self, phone: str, code: str, *, purpose: str) -> SmsReceipt:
        require_e164(phone)
        params = self._signed_params(phone, code)
        body = "&".join(
            f"{aliyun_percent_encode(key)}={aliyun_percent_encode(value)}"
            for key, value in params.items()
        )
        response = await self._post(
            self._endpoint,
            content=body.encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            phone=phone,
        )
        if response.status_code >= 500:
            self._fail(phone, f"HTTP {response.status_code}")
        data = _json_object(response)
        if data is None:
            self._fail(phone, f"HTTP {response.status_code} without JSON")
        request_id = str(data.get("RequestId", ""))
        vendor_code = str(data.get("Code", ""))
        if vendor_code != "OK":
            message = data.get("Message")
            self._fail(
                phone,
                vendor_code or f"HTTP {response.status_code} without Code",
                message=str(message) if message is not None else None,
                request_id=request_id,
            )
        receipt = SmsReceipt(self.name, str(data.get("BizId", "")), request_id)
        return self._succeed(phone, receipt, purpose=purpose)


# --- Tencent Cloud SMS 2021-01-11 (API 3.0) ---------------------------------------------------

TC3_ALGORITHM = "TC3-HMAC-SHA256"


def _hmac_sha256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    timestamp: int,
    signed_headers: Mapping[str, str],
    payload: bytes,
) -> str:
    """The `Authorization` header of a TencentCloud API 3.0 POST (TC3-HMAC-SHA256).

    `signed_headers` are the headers to sign, as sent; they must include content-type and host.
    """
    headers = {name.lower(): value.strip().lower() for name, value in signed_headers.items()}
    names = sorted(headers)
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            "".join(f"{name}:{headers[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [
            TC3_ALGORITHM,
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _hmac_sha256(f"TC3{secret_key}".encode(), date)
    key = _hmac_sha256(key, service)
    key = _hmac_sha256(key, "tc3_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{TC3_ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )


def tc3_headers(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    action: str,
    version: str,
    host: str,
    content_type: str,
    payload: bytes,
    region: str | None = None,
) -> dict[str, str]:
    """Every header of a TencentCloud API 3.0 POST of `payload` to `action`, signed now."""
    timestamp = int(clock.now().timestamp())
    signed = {"Content-Type": content_type, "Host": host, "X-TC-Action": action}
    authorization = tc3_authorization(
        secret_id=secret_id,
        secret_key=secret_key,
        service=service,
        timestamp=timestamp,
        signed_headers=signed,
        payload=payload,
    )
    headers = {
        **signed,
        "Authorization": authorization,
        "X-TC-Version": version,
        "X-TC-Timestamp": str(timestamp),
    }
    if region is not None:
        headers["X-TC-Region"] = region
    return headers


class TencentSmsSender(_VendorSmsSender):
    """Tencent Cloud SMS `SendSms` (2021-01-11) signed with TC3-HMAC-SHA256.

    The four `LimitExceeded.PhoneNumber*Limit` codes are SmsRateLimited and
    `InvalidParameterValue.IncorrectPhoneNumber` is PhoneInvalid, whether they come per number
    or for the whole request. `FailedOperation.PhoneNumberInBlacklist` is SmsUnavailable: the
    number is well formed and the person did nothing wrong (they, or the carrier, opted out of
    messages), so telling them their number is invalid would mislead; it is logged with the
    vendor code for support. Every other code, an HTTP 5xx, an answer that is not JSON, a timeout
    or a network error is SmsUnavailable too.
    """

    name = "tencent"
    errors: Mapping[str, type[NotifyError]] = {
        "LimitExceeded.PhoneNumberThirtySecondLimit": SmsRateLimited,
        "LimitExceeded.PhoneNumberOneHourLimit": SmsRateLimited,
        "LimitExceeded.PhoneNumberDailyLimit": SmsRateLimited,
        "LimitExceeded.PhoneNumberSameContentDailyLimit": SmsRateLimited,
        "InvalidParameterValue.IncorrectPhoneNumber": PhoneInvalid,
    }
    service = "sms"
    api_version = "2021-01-11"
    content_type = "application/json; charset=utf-8"

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        *,
        region: str = "ap-guangzhou",
        endpoint: str = "https://sms.tencentcloudapi.com/",
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(timeout=timeout, client=client)
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._sdk_app_id = sdk_app_id
        self._sign_name = sign_name
        self._template_id = template_id
        self._region = region
        self._endpoint = endpoint
        self._host = httpx.URL(endpoint).netloc.decode("ascii")

    def _signed_headers(self, payload: bytes) -> dict[str, str]:
        return tc3_headers(
            secret_id=self._secret_id,
            secret_key=self._secret_key,
            service=self.service,
            action="SendSms",
            version=self.api_version,
            host=self._host,
            content_type=self.content_type,
            payload=payload,
            region=self._region,
        )

    async def send_code(self, phone: str, code: str, *, purpose: str) -> SmsReceipt:
        require_e164(phone)
        payload = json.dumps(
            {
                "PhoneNumberSet": [phone],
                "SmsSdkAppId": self._sdk_app_id,
                "SignName": self._sign_name,
                "TemplateId": self._template_id,
                "TemplateParamSet": [code],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        response = await self._post(
            self._endpoint, content=payload, headers=self._signed_headers(payload), phone=phone
        )
        if response.status_code >= 500:
            self._fail(phone, f"HTTP {response.status_code}")
        data = _json_object(response)
        answer = data.get("Response") if data is not None else None
        if not isinstance(answer, dict):
            self._fail(phone, f"HTTP {response.status_code} without Response")
        request_id = str(answer.get("RequestId", ""))
        error = answer.get("Error")
        if isinstance(error, dict):
            self._fail(
                phone,
                str(error.get("Code") or "Error without Code"),
                message=str(error.get("Message", "")),
                request_id=request_id,
            )
        statuses = answer.get("SendStatusSet")
        status = statuses[0] if isinstance(statuses, list) and statuses else None
        if not isinstance(status, dict):
            self._fail(phone, "SendStatusSet missing", request_id=request_id)
        vendor_code = str(status.get("Code", ""))
        if vendor_code != "Ok":
            self._fail(
                phone, vendor_code, message=str(status.get("Message", "")), request_id=request_id
            )
        receipt = SmsReceipt(self.name, str(status.get("SerialNo", "")), request_id)
        return self._succeed(phone, receipt, purpose=purpose)
