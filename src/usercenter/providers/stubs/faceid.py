"""Tencent Cloud FaceID's `IdCardVerification` (身份证二要素, API 3.0, version 2018-03-01), as a
stub: it checks the TC3-HMAC-SHA256 signature (credential, scope, signed headers, body hash,
timestamp within 5 minutes) and answers as the vendor documents it — `Response.Result` "0"
(match), "-1" (mismatch), "-2" (illegal number), "-3" (illegal name), "-4" (register
unavailable), "-5" (no such number), "-6" (upgrading), "-7" (daily limit), or
`Response.Error{Code, Message}` (`AuthFailure.SignatureFailure`, `AuthFailure.SignatureExpire`,
`AuthFailure.SecretIdNotFound`, `InvalidAction`, `MissingParameter`, `InternalError` …), always
with a `RequestId` and HTTP 200.

Its register: the numbers `register`ed with their names; any other well-formed number matches
any name (a register that knows everyone), except for the magic names a demo can type:
`查无此人` (-5), `证件库异常` (-4), `系统升级` (-6), `次数超限` (-7), `内部错误` (an
`InternalError`), `响应超时` (answers after SLOW_SECONDS). `force(number, result)` makes one
number answer `result` (a Result code or an Error code) in tests.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from usercenter.notify.sms import tc3_authorization
from usercenter.providers.stubs.base import SLOW_SECONDS
from usercenter.security.validators import id_card_ok

FACEID_SECRET_ID = "AKIDstubFaceId00000000000000000000"
FACEID_SECRET_KEY = "stubFaceIdSecretKey0000000000000"
FACEID_ACTION = "IdCardVerification"
FACEID_VERSION = "2018-03-01"
SIGNATURE_WINDOW_SECONDS = 300

RESULTS = {
    "0": "姓名和身份证号一致",
    "-1": "姓名和身份证号不一致",
    "-2": "非法身份证号(长度、校验位等不正确)",
    "-3": "非法姓名(长度、格式等不正确)",
    "-4": "证件库服务异常",
    "-5": "证件库中无此身份证记录",
    "-6": "权威比对系统升级中，请稍后再试",
    "-7": "认证次数超过当日限制",
}
ERRORS = {
    "AuthFailure.SignatureFailure": "The provided credentials could not be validated.",
    "AuthFailure.SignatureExpire": "Signature expired.",
    "AuthFailure.SecretIdNotFound": "The SecretId is not found.",
    "AuthFailure.InvalidAuthorization": "Authorization is invalid.",
    "InvalidAction": "The action requested is invalid.",
    "NoSuchVersion": "The API version requested does not exist.",
    "MissingParameter": "A required parameter is missing.",
    "InternalError": "An internal error has occurred.",
    "UnauthorizedOperation.Arrears": "The account is in arrears.",
}
MAGIC_NAMES = {
    "查无此人": "-5",
    "证件库异常": "-4",
    "系统升级": "-6",
    "次数超限": "-7",
    "内部错误": "InternalError",
}
SLOW_NAME = "响应超时"
_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)"
    r"/tc3_request, SignedHeaders=(?P<headers>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def _answer(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"Response": {**body, "RequestId": str(uuid.uuid4())}})


def _error(code: str) -> JSONResponse:
    return _answer({"Error": {"Code": code, "Message": ERRORS.get(code, code)}})


class FaceIdStub:
    """The FaceID stub's register and credentials, and how many checks it answered."""

    def __init__(
        self, secret_id: str = FACEID_SECRET_ID, secret_key: str = FACEID_SECRET_KEY
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.records: dict[str, str] = {}
        self.forced: dict[str, str] = {}
        self.checks = 0

    def register(self, number: str, name: str) -> None:
        """The register knows `number` as `name`'s: any other name is a mismatch."""
        self.records[number.upper()] = name

    def force(self, number: str, result: str) -> None:
        """Answer `result` (a Result code like "-4", or an Error code) for `number`."""
        self.forced[number.upper()] = result

    def _refusal(self, request: Request, body: bytes) -> str | None:
        """The Error code of a request that is not signed as Tencent Cloud checks it."""
        headers = request.headers
        if headers.get("x-tc-action") != FACEID_ACTION:
            return "InvalidAction"
        if headers.get("x-tc-version") != FACEID_VERSION:
            return "NoSuchVersion"
        found = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        timestamp = headers.get("x-tc-timestamp", "")
        if found is None or not timestamp.isdigit() or found["service"] != "faceid":
            return "AuthFailure.InvalidAuthorization"
        if found["id"] != self.secret_id:
            return "AuthFailure.SecretIdNotFound"
        if abs(time.time() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            return "AuthFailure.SignatureExpire"
        names = found["headers"].split(";")
        if not {"content-type", "host"} <= set(names):
            return "AuthFailure.InvalidAuthorization"
        expected = tc3_authorization(
            secret_id=self.secret_id,
            secret_key=self.secret_key,
            service="faceid",
            timestamp=int(timestamp),
            signed_headers={name: headers.get(name, "") for name in names},
            payload=body,
        )
        if expected != headers.get("authorization"):
            return "AuthFailure.SignatureFailure"
        return None

    def _result(self, number: str, name: str) -> str:
        if number in self.forced:
            return self.forced[number]
        if name in MAGIC_NAMES:
            return MAGIC_NAMES[name]
        if not id_card_ok(number):
            return "-2"
        if not 2 <= len(name) <= 50:
            return "-3"
        known = self.records.get(number)
        return "0" if known is None or known == name else "-1"

    async def verify(self, request: Request) -> Response:
        body = await request.body()
        refusal = self._refusal(request, body)
        if refusal is not None:
            return _error(refusal)
        try:
            data = json.loads(body)
        except ValueError:
            return _error("InvalidParameter")
        number, name = data.get("IdCard"), data.get("Name")
        if not isinstance(number, str) or not isinstance(name, str) or not number or not name:
            return _error("MissingParameter")
        self.checks += 1
        if name == SLOW_NAME:
            await asyncio.sleep(SLOW_SECONDS)
        result = self._result(number.upper(), name)
        if result not in RESULTS:
            return _error(result)
        return _answer({"Result": result, "Description": RESULTS[result]})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self.verify, methods=["POST"])])
