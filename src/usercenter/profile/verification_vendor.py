"""The ID two-factor check (身份证二要素: does this name go with this ID card number?) at a
vendor: Tencent Cloud FaceID `IdCardVerification` (API 3.0, version 2018-03-01, signed with
TC3-HMAC-SHA256, as `notify.sms` signs Tencent Cloud SMS).

The vendor answers `Response.Result`: "0" match, "-1" mismatch, "-2" illegal number, "-3"
illegal name, "-5" no such number in the register (all three: the pair is not confirmed), and
"-4" register unavailable, "-6" upgrading, "-7" daily quota reached (unavailable: try later);
or `Response.Error{Code, Message}` (signature, credentials, arrears …: unavailable). Neither
the name nor the number is ever logged: the number masked, the name not at all.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn, Protocol

import httpx

from usercenter.kit.log import get_logger
from usercenter.notify.sms import tc3_headers
from usercenter.security.masking import mask_id_card

_log = get_logger(__name__)


class IdCheckOutcome(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NO_RECORD = "no_record"  # the register has no such number


@dataclass(frozen=True, slots=True)
class IdCheck:
    """What the vendor said: the outcome, its own result code and description, the call's id."""

    outcome: IdCheckOutcome
    vendor_code: str
    description: str
    request_id: str


class IdCheckUnavailable(Exception):
    """The vendor gave no verdict: down, timed out, refused our call, or its register is out."""

    def __init__(self, vendor_code: str) -> None:
        super().__init__(vendor_code)
        self.vendor_code = vendor_code


class IdCardVerifier(Protocol):
    name: str

    async def check(self, real_name: str, id_number: str) -> IdCheck:
        """Whether `real_name` goes with `id_number`; raises IdCheckUnavailable without a
        verdict."""
        ...


_OUTCOMES = {
    "0": IdCheckOutcome.MATCH,
    "-1": IdCheckOutcome.MISMATCH,
    "-2": IdCheckOutcome.MISMATCH,
    "-3": IdCheckOutcome.MISMATCH,
    "-5": IdCheckOutcome.NO_RECORD,
}


class TencentIdCardVerifier:
    """Tencent Cloud FaceID `IdCardVerification`; one bounded POST, never retried (each call
    is billed)."""

    name = "tencent_faceid"
    service = "faceid"
    action = "IdCardVerification"
    api_version = "2018-03-01"
    content_type = "application/json; charset=utf-8"

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        *,
        endpoint: str = "https://faceid.tencentcloudapi.com/",
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._endpoint = endpoint
        self._host = httpx.URL(endpoint).netloc.decode("ascii")
        self._timeout = timeout
        self._client = client

    def _headers(self, payload: bytes) -> dict[str, str]:
        return tc3_headers(
            secret_id=self._secret_id,
            secret_key=self._secret_key,
            service=self.service,
            action=self.action,
            version=self.api_version,
            host=self._host,
            content_type=self.content_type,
            payload=payload,
        )

    async def _post(self, payload: bytes, shown: str) -> httpx.Response:
        headers = self._headers(payload)
        try:
            async with asyncio.timeout(self._timeout):
                if self._client is not None:
                    return await self._client.post(
                        self._endpoint, content=payload, headers=headers, timeout=self._timeout
                    )
                async with httpx.AsyncClient(timeout=self._timeout) as client:
                    return await client.post(self._endpoint, content=payload, headers=headers)
        except (httpx.HTTPError, TimeoutError) as exc:
            self._fail(shown, type(exc).__name__)

    def _fail(self, shown: str, vendor_code: str, request_id: str | None = None) -> NoReturn:
        _log.warning(
            "id_check_unavailable",
            vendor=self.name,
            document_number=shown,
            vendor_code=vendor_code,
            request_id=request_id,
        )
        raise IdCheckUnavailable(vendor_code)

    async def check(self, real_name: str, id_number: str) -> IdCheck:
        shown = mask_id_card(id_number)
        payload = json.dumps(
            {"IdCard": id_number, "Name": real_name}, ensure_ascii=False, separators=(",", ":")
        ).encode()
        response = await self._post(payload, shown)
        if response.status_code >= 500:
            self._fail(shown, f"HTTP {response.status_code}")
        answer = _response_object(response)
        if answer is None:
            self._fail(shown, f"HTTP {response.status_code} without Response")
        request_id = str(answer.get("RequestId", ""))
        error = answer.get("Error")
        if isinstance(error, dict):
            self._fail(shown, str(error.get("Code") or "Error without Code"), request_id)
        result = str(answer.get("Result", ""))
        outcome = _OUTCOMES.get(result)
        if outcome is None:
            self._fail(shown, f"Result {result or '(none)'}", request_id)
        _log.info(
            "id_checked",
            vendor=self.name,
            document_number=shown,
            outcome=outcome.value,
            vendor_code=result,
            request_id=request_id,
        )
        return IdCheck(outcome, result, str(answer.get("Description", "")), request_id)


def _response_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    answer = data.get("Response") if isinstance(data, dict) else None
    return answer if isinstance(answer, dict) else None
