"""Real-name verification decided by the ID check vendor (Tencent Cloud FaceID
IdCardVerification) through its protocol stub: match, mismatch, no record, and every way it can
fail to answer — a 503 with nothing written."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import make_settings
from tests.identity.conftest import DEFAULTS
from tests.profile.verification_helpers import (
    event_data,
    id_number,
    reviewer_headers,
    rows_of_user,
    submission,
    user_headers,
)
from usercenter.app import create_app
from usercenter.db import Database
from usercenter.profile.verification_vendor import IdCheckUnavailable, TencentIdCardVerifier
from usercenter.providers.stubs.base import free_port, serve
from usercenter.providers.stubs.faceid import FACEID_SECRET_ID, FACEID_SECRET_KEY, FaceIdStub


@pytest.fixture(scope="module")
def stub() -> Iterator[tuple[FaceIdStub, str]]:
    faceid = FaceIdStub()
    with serve(faceid.app()) as url:
        yield faceid, url


@pytest.fixture
async def vendor_app(
    database_url: str, db: Database, stub: tuple[FaceIdStub, str]
) -> AsyncIterator[Any]:
    """Builds started apps asking the stub (or `endpoint`), in `mode`."""
    async with AsyncExitStack() as stack:

        async def build(mode: str = "vendor", endpoint: str | None = None) -> FastAPI:
            settings = make_settings(
                database_url,
                **DEFAULTS,
                profile_verification_mode=mode,
                faceid_endpoint=endpoint or f"{stub[1]}/",
                tencent_secret_id=FACEID_SECRET_ID,
                tencent_secret_key=FACEID_SECRET_KEY,
                verification_vendor_timeout_seconds=1.0,
            )
            application = create_app(settings)
            await stack.enter_async_context(application.router.lifespan_context(application))
            return application

        yield build


def client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("10.7.7.7", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://usercenter.test")


class TestVendorDecides:
    async def test_a_match_is_approved_at_once(self, vendor_app: Any) -> None:
        app = await vendor_app("vendor")
        async with client(app) as http:
            _user_id, headers = await user_headers(app, http)
            answer = await http.post(
                "/v1/me/verification", json=submission(id_number("19860606")), headers=headers
            )
            assert answer.status_code == 201, answer.text
            assert (answer.json()["status"], answer.json()["decided_by"]) == ("approved", "vendor")
        types = [t for t, _ in await event_data(app.state.services.database)]
        assert types == ["usercenter.verification.submitted", "usercenter.verification.approved"]

    async def test_a_mismatch_is_rejected_with_a_reason_and_the_document_let_go(
        self, vendor_app: Any, stub: tuple[FaceIdStub, str]
    ) -> None:
        app = await vendor_app("vendor")
        number = id_number("19860607")
        stub[0].register(number, "王五")
        async with client(app) as http:
            _, headers = await user_headers(app, http)
            answer = await http.post(
                "/v1/me/verification", json=submission(number, name="赵六"), headers=headers
            )
            assert answer.json()["status"] == "rejected"
            assert "不一致" in answer.json()["reason"]
            _, owner = await user_headers(app, http)
            mine = await http.post(
                "/v1/me/verification", json=submission(number, name="王五"), headers=owner
            )
            assert mine.json()["status"] == "approved"

    async def test_vendor_then_staff_leaves_a_mismatch_pending_for_staff(
        self, vendor_app: Any
    ) -> None:
        app = await vendor_app("vendor_then_staff")
        async with client(app) as http:
            _, headers = await user_headers(app, http)
            answer = await http.post(
                "/v1/me/verification",
                json=submission(id_number("19860608"), name="查无此人"),
                headers=headers,
            )
            assert answer.json()["status"] == "pending"
            staff = await reviewer_headers(app, http)
            detail = await http.get(f"/v1/admin/verifications/{answer.json()['id']}", headers=staff)
            assert detail.json()["verification"]["vendor_result"] == "no_record"

    async def test_documents_the_vendor_cannot_check_go_to_staff(self, vendor_app: Any) -> None:
        app = await vendor_app("vendor")
        async with client(app) as http:
            _, headers = await user_headers(app, http)
            body = {
                "real_name": "John Smith",
                "document_type": "passport",
                "document_number": "P1234567",
            }
            answer = await http.post("/v1/me/verification", json=body, headers=headers)
            assert answer.json()["status"] == "pending"


class TestVendorFails:
    @pytest.mark.parametrize(
        "how", ["down", "register_unavailable", "internal_error", "timeout", "daily_limit"]
    )
    async def test_no_verdict_is_a_503_and_nothing_is_written(
        self, vendor_app: Any, stub: tuple[FaceIdStub, str], how: str
    ) -> None:
        number = id_number("19860609", sequence=f"{len(how):03d}")
        name = {"timeout": "响应超时", "daily_limit": "次数超限"}.get(how, "张三丰")
        if how == "register_unavailable":
            stub[0].force(number, "-4")
        if how == "internal_error":
            stub[0].force(number, "InternalError")
        endpoint = f"http://127.0.0.1:{free_port()}/" if how == "down" else None
        app = await vendor_app("vendor", endpoint)
        async with client(app) as http:
            user_id, headers = await user_headers(app, http)
            answer = await http.post(
                "/v1/me/verification", json=submission(number, name=name), headers=headers
            )
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "verification_vendor_unavailable"
            assert answer.headers["Retry-After"]
            mine = await http.get("/v1/me/verification", headers=headers)
            assert mine.json()["status"] == "none"
        database = app.state.services.database
        assert await rows_of_user(database, user_id) == {
            "verifications": 0,
            "history": 0,
            "changes": 0,
        }
        assert await event_data(database) == []

    async def test_a_rejected_user_stays_rejected_when_the_vendor_is_down(
        self, vendor_app: Any, stub: tuple[FaceIdStub, str]
    ) -> None:
        number = id_number("19860610")
        stub[0].register(number, "王五")
        app = await vendor_app("vendor")
        async with client(app) as http:
            _, headers = await user_headers(app, http)
            await http.post(
                "/v1/me/verification", json=submission(number, name="赵六"), headers=headers
            )
            stub[0].force(number, "-6")
            again = await http.post(
                "/v1/me/verification", json=submission(number, name="王五"), headers=headers
            )
            assert again.status_code == 503
            mine = await http.get("/v1/me/verification", headers=headers)
            assert mine.json()["status"] == "rejected"


class TestStubProtocol:
    async def test_a_wrong_key_is_refused_as_a_signature_failure(
        self, stub: tuple[FaceIdStub, str]
    ) -> None:
        verifier = TencentIdCardVerifier(FACEID_SECRET_ID, "not the key", endpoint=f"{stub[1]}/")
        with pytest.raises(IdCheckUnavailable) as refused:
            await verifier.check("张三丰", id_number())
        assert refused.value.vendor_code == "AuthFailure.SignatureFailure"
        stranger = TencentIdCardVerifier("AKIDnobody", FACEID_SECRET_KEY, endpoint=f"{stub[1]}/")
        with pytest.raises(IdCheckUnavailable) as unknown:
            await stranger.check("张三丰", id_number())
        assert unknown.value.vendor_code == "AuthFailure.SecretIdNotFound"

    async def test_answers_are_the_vendors_and_the_log_shows_neither_name_nor_number(
        self, stub: tuple[FaceIdStub, str], captured: Any
    ) -> None:
        verifier = TencentIdCardVerifier(
            FACEID_SECRET_ID, FACEID_SECRET_KEY, endpoint=f"{stub[1]}/"
        )
        number = id_number("19860611")
        stub[0].register(number, "王五")
        assert (await verifier.check("王五", number)).outcome.value == "match"
        mismatch = await verifier.check("赵六", number)
        assert (mismatch.outcome.value, mismatch.vendor_code) == ("mismatch", "-1")
        assert mismatch.request_id
        log = captured.getvalue()
        assert "id_checked" in log
        assert number not in log
        assert "王五" not in log
        assert "赵六" not in log
