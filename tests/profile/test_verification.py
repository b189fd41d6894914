"""Real-name verification over HTTP (staff mode, the default): submitting, the state machine,
staff review with and without permission, the services' adult check, and that the name and
number appear nowhere in plaintext."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.conftest import MovableClock, sqlite_files
from tests.factories.platform import basic_auth
from tests.profile.verification_helpers import (
    event_data,
    id_number,
    reviewer_headers,
    rows_of_user,
    submission,
    user_headers,
    wrong_check,
)
from usercenter.audit.models import AdminLog, ProfileChange
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.profile.models import VerificationHistory

SERVICE = basic_auth("orders:orders-secret")


@pytest.fixture
async def app(database_url: str, db: Database) -> FastAPI:  # type: ignore[override]
    """An app of its own with a business service's credentials (the session app has none)."""
    from contextlib import AsyncExitStack

    from tests.conftest import make_settings
    from tests.identity.conftest import DEFAULTS
    from usercenter.app import create_app

    application = create_app(
        make_settings(database_url, **DEFAULTS, service_clients="orders:orders-secret")
    )
    stack = AsyncExitStack()
    await stack.enter_async_context(application.router.lifespan_context(application))
    yield application  # type: ignore[misc]
    await stack.aclose()


@pytest.fixture
async def http(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://usercenter.test") as c:
        yield c  # type: ignore[misc]


async def pending_id(http: httpx.AsyncClient, headers: dict[str, str]) -> int:
    answer = await http.get("/v1/me/verification", headers=headers)
    return int(answer.json()["id"])


class TestSubmit:
    async def test_submitted_it_is_pending_and_shown_masked_even_to_the_owner(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, headers = await user_headers(app, http)
        before = await http.get("/v1/me/verification", headers=headers)
        assert before.json()["status"] == "none"
        number = id_number("19900307", area="440106", sequence="123")
        sent = await http.post("/v1/me/verification", json=submission(number), headers=headers)
        assert sent.status_code == 201, sent.text
        mine = await http.get("/v1/me/verification", headers=headers)
        body = mine.json()
        assert body["status"] == "pending"
        assert body["real_name_masked"] == "张**"
        assert body["document_number_masked"] == f"440***********{number[-4:]}"
        assert (body["sex"], body["birth_year"]) == ("male", 1990)
        assert number not in mine.text
        assert "张三丰" not in mine.text

    async def test_a_wrong_check_digit_is_a_422_naming_the_field(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        user_id, headers = await user_headers(app, http)
        bad = wrong_check(id_number())
        answer = await http.post("/v1/me/verification", json=submission(bad), headers=headers)
        assert answer.status_code == 422
        assert answer.json()["code"] == "id_number_invalid"
        assert answer.json()["errors"][0]["field"] == "document_number"
        impossible = id_number("19990230")
        answer = await http.post(
            "/v1/me/verification", json=submission(impossible), headers=headers
        )
        assert answer.json()["code"] == "id_birth_date_invalid"
        assert (await rows_of_user(app.state.services.database, user_id))["verifications"] == 0

    async def test_bad_names_and_photo_keys_are_refused(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, headers = await user_headers(app, http)
        number = id_number()
        answer = await http.post(
            "/v1/me/verification", json=submission(number, name="张3"), headers=headers
        )
        assert (answer.status_code, answer.json()["code"]) == (422, "real_name_invalid")
        answer = await http.post(
            "/v1/me/verification",
            json=submission(number, photo_front="../../etc/passwd"),
            headers=headers,
        )
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "photo_front"

    async def test_a_document_of_another_user_is_taken_revealing_nothing(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, first = await user_headers(app, http)
        second_id, second = await user_headers(app, http)
        number = id_number("19850101")
        await http.post("/v1/me/verification", json=submission(number), headers=first)
        answer = await http.post(
            "/v1/me/verification", json=submission(number.lower(), name="李四"), headers=second
        )
        assert (answer.status_code, answer.json()["code"]) == (409, "id_document_taken")
        assert "张" not in answer.text
        assert await rows_of_user(app.state.services.database, second_id) == {
            "verifications": 0,
            "history": 0,
            "changes": 0,
        }

    async def test_other_documents_are_for_staff_with_a_birth_date_given(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, headers = await user_headers(app, http)
        body = {
            "real_name": "陈大文",
            "document_type": "hk_macau_permit",
            "document_number": "H12345678",
            "birth_date": "1980-05-06",
        }
        answer = await http.post("/v1/me/verification", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        assert answer.json()["document_number_masked"] == "H******78"
        assert answer.json()["birth_year"] == 1980


class TestStateMachine:
    async def test_pending_then_rejected_then_resubmitted_then_approved_then_locked(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        user_id, headers = await user_headers(app, http)
        staff = await reviewer_headers(app, http)
        number = id_number("19920202")
        await http.post("/v1/me/verification", json=submission(number), headers=headers)
        again = await http.post("/v1/me/verification", json=submission(number), headers=headers)
        assert (again.status_code, again.json()["code"]) == (409, "verification_pending")
        verification_id = await pending_id(http, headers)

        no_reason = await http.post(
            f"/v1/admin/verifications/{verification_id}/reject", json={}, headers=staff
        )
        assert no_reason.status_code == 422
        rejected = await http.post(
            f"/v1/admin/verifications/{verification_id}/reject",
            json={"reason": "照片不清晰"},
            headers=staff,
        )
        assert rejected.status_code == 200, rejected.text
        mine = (await http.get("/v1/me/verification", headers=headers)).json()
        assert (mine["status"], mine["reason"]) == ("rejected", "照片不清晰")
        twice = await http.post(
            f"/v1/admin/verifications/{verification_id}/reject",
            json={"reason": "x"},
            headers=staff,
        )
        assert twice.json()["code"] == "verification_not_pending"

        resubmitted = await http.post(
            "/v1/me/verification", json=submission(number), headers=headers
        )
        assert resubmitted.json()["status"] == "pending"
        approved = await http.post(
            f"/v1/admin/verifications/{verification_id}/approve", headers=staff
        )
        assert approved.json()["status"] == "approved"
        locked = await http.post(
            "/v1/me/verification", json=submission(id_number("19930303")), headers=headers
        )
        assert (locked.status_code, locked.json()["code"]) == (
            409,
            "verification_already_approved",
        )

        database: Database = app.state.services.database
        async with database.read_session() as session:
            history = (
                await session.execute(
                    select(VerificationHistory.action, VerificationHistory.to_status)
                    .where(VerificationHistory.user_id == user_id)
                    .order_by(VerificationHistory.id)
                )
            ).all()
            changes = (
                await session.execute(
                    select(ProfileChange.action).where(ProfileChange.user_id == user_id)
                )
            ).scalars()
            change_actions = sorted(changes)
        assert [tuple(h) for h in history] == [
            ("submitted", "pending"),
            ("rejected", "rejected"),
            ("resubmitted", "pending"),
            ("approved", "approved"),
        ]
        assert change_actions == ["approve", "reject", "resubmit", "submit"]
        types = [t for t, _ in await event_data(database)]
        assert types == [
            "usercenter.verification.submitted",
            "usercenter.verification.rejected",
            "usercenter.verification.submitted",
            "usercenter.verification.approved",
        ]

    async def test_a_rejection_lets_go_of_the_document(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, impostor = await user_headers(app, http)
        _, owner = await user_headers(app, http)
        staff = await reviewer_headers(app, http)
        number = id_number("19700101")
        await http.post("/v1/me/verification", json=submission(number), headers=impostor)
        verification_id = await pending_id(http, impostor)
        await http.post(
            f"/v1/admin/verifications/{verification_id}/reject",
            json={"reason": "not theirs"},
            headers=staff,
        )
        answer = await http.post("/v1/me/verification", json=submission(number), headers=owner)
        assert answer.status_code == 201, answer.text

    async def test_staff_change_an_approved_one_with_a_reason_in_the_admin_log(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        user_id, headers = await user_headers(app, http)
        staff = await reviewer_headers(app, http)
        await http.post("/v1/me/verification", json=submission(id_number()), headers=headers)
        verification_id = await pending_id(http, headers)
        await http.post(f"/v1/admin/verifications/{verification_id}/approve", headers=staff)
        corrected = id_number("19900307", sequence="456")
        no_reason = await http.put(
            f"/v1/admin/users/{user_id}/verification",
            json=submission(corrected),
            headers=staff,
        )
        assert no_reason.status_code == 422
        changed = await http.put(
            f"/v1/admin/users/{user_id}/verification",
            json=submission(corrected, name="张三风", reason="号码录入错误，核对原件"),
            headers=staff,
        )
        assert changed.status_code == 200, changed.text
        mine = (await http.get("/v1/me/verification", headers=headers)).json()
        assert mine["status"] == "approved"
        assert mine["document_number_masked"].endswith(corrected[-4:])
        database: Database = app.state.services.database
        async with database.read_session() as session:
            logged = (
                (
                    await session.execute(
                        select(AdminLog).where(
                            AdminLog.path == "/v1/admin/users/{user_id}/verification"
                        )
                    )
                )
                .scalars()
                .one()
            )
        assert logged.result == "ok"
        assert logged.target_id == str(user_id)
        assert "号码录入错误" in (logged.request or "")
        assert corrected not in (logged.request or "")
        assert "张三风" not in (logged.request or "")


class TestStaffReview:
    async def test_without_the_permission_staff_are_refused(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, headers = await user_headers(app, http)
        await http.post("/v1/me/verification", json=submission(id_number()), headers=headers)
        verification_id = await pending_id(http, headers)
        viewer = await reviewer_headers(app, http, "user:view")
        for method, path in [
            ("GET", "/v1/admin/verifications?status=pending"),
            ("GET", f"/v1/admin/verifications/{verification_id}"),
            ("POST", f"/v1/admin/verifications/{verification_id}/approve"),
        ]:
            answer = await http.request(method, path, headers=viewer)
            assert answer.status_code == 403, (path, answer.text)
        assert (await http.get("/v1/me/verification", headers=headers)).json()[
            "status"
        ] == "pending"

    async def test_the_queue_pages_and_filters_by_status(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        staff = await reviewer_headers(app, http)
        for year in ("1981", "1982", "1983"):
            _, headers = await user_headers(app, http)
            await http.post(
                "/v1/me/verification", json=submission(id_number(f"{year}0101")), headers=headers
            )
        first = await http.get("/v1/admin/verifications?status=pending&limit=2", headers=staff)
        assert first.status_code == 200, first.text
        page = first.json()
        assert len(page["items"]) == 2
        assert page["next_cursor"]
        rest = await http.get(
            f"/v1/admin/verifications?status=pending&limit=2&cursor={page['next_cursor']}",
            headers=staff,
        )
        years = [i["birth_year"] for i in page["items"] + rest.json()["items"]]
        assert years == [1983, 1982, 1981]
        approved = await http.get("/v1/admin/verifications?status=approved", headers=staff)
        assert approved.json()["items"] == []

    async def test_the_queue_gives_one_users_verification(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        staff = await reviewer_headers(app, http)
        users = []
        for year in ("1984", "1985"):
            user_id, headers = await user_headers(app, http)
            await http.post(
                "/v1/me/verification", json=submission(id_number(f"{year}0101")), headers=headers
            )
            users.append(user_id)
        nobody, _ = await user_headers(app, http)
        for user_id, year in zip(users, (1984, 1985), strict=True):
            found = await http.get(f"/v1/admin/verifications?user_id={user_id}", headers=staff)
            assert found.status_code == 200, found.text
            assert [i["birth_year"] for i in found.json()["items"]] == [year]
            assert found.json()["items"][0]["user_id"] in (user_id, str(user_id))
        none = await http.get(f"/v1/admin/verifications?user_id={nobody}", headers=staff)
        assert none.json() == {"items": [], "next_cursor": None}

    async def test_the_whole_number_only_with_pii_view_and_logged(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, headers = await user_headers(app, http)
        number = id_number("19881212")
        body = submission(number, photo_front="verify/2026/front.jpg")
        await http.post("/v1/me/verification", json=body, headers=headers)
        verification_id = await pending_id(http, headers)
        reviewer = await reviewer_headers(app, http)
        masked = await http.get(f"/v1/admin/verifications/{verification_id}", headers=reviewer)
        assert masked.status_code == 200
        assert number not in masked.text
        assert "front.jpg" not in masked.text
        assert masked.json()["history"][0]["action"] == "submitted"
        refused = await http.get(
            f"/v1/admin/verifications/{verification_id}?reveal=true", headers=reviewer
        )
        assert refused.status_code == 403
        both = await reviewer_headers(app, http, "user:verify:review", "user:pii:view")
        whole = await http.get(
            f"/v1/admin/verifications/{verification_id}?reveal=true", headers=both
        )
        assert whole.status_code == 200
        assert whole.json()["document_number"] == number
        assert whole.json()["real_name"] == "张三丰"
        assert whole.json()["photo_front"] == "verify/2026/front.jpg"
        database: Database = app.state.services.database
        async with database.read_session() as session:
            actions = (
                await session.execute(
                    select(AdminLog.action, AdminLog.result).where(
                        AdminLog.path == "/v1/admin/verifications/{verification_id}"
                    )
                )
            ).all()
        assert ("user.pii.view", "ok") in [tuple(a) for a in actions]


class TestForServices:
    async def test_adult_at_eighteen_not_a_day_before(
        self, app: FastAPI, http: httpx.AsyncClient, moved_clock: MovableClock
    ) -> None:
        user_id, headers = await user_headers(app, http)
        staff = await reviewer_headers(app, http)
        path = f"/v1/users/{user_id}/verification"
        assert (await http.get(path)).status_code == 401
        none = (await http.get(path, headers=SERVICE)).json()
        assert none == {"verified": False, "adult": False, "document_type": None, "status": "none"}

        today = clock.now().astimezone(clock.CHINA_TIME).date()
        born = today.replace(year=today.year - 18) + timedelta(days=1)  # 17 years 364 days
        if born.month == 2 and born.day == 29:  # pragma: no cover - a leap-day edge
            born += timedelta(days=1)
        await http.post(
            "/v1/me/verification",
            json=submission(id_number(born.strftime("%Y%m%d"))),
            headers=headers,
        )
        pending = (await http.get(path, headers=SERVICE)).json()
        assert (pending["verified"], pending["adult"], pending["status"]) == (
            False,
            False,
            "pending",
        )
        verification_id = await pending_id(http, headers)
        await http.post(f"/v1/admin/verifications/{verification_id}/approve", headers=staff)
        minor = (await http.get(path, headers=SERVICE)).json()
        assert (minor["verified"], minor["adult"]) == (True, False)
        assert set(minor) == {"verified", "adult", "document_type", "status"}
        moved_clock.advance(24 * 3600)  # the 18th birthday, China time
        adult = (await http.get(path, headers=SERVICE)).json()
        assert (adult["verified"], adult["adult"]) == (True, True)

    async def test_verified_identity_gives_the_birth_date_and_last_six_in_process(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        user_id, headers = await user_headers(app, http)
        staff = await reviewer_headers(app, http)
        number = id_number("19900307")
        await http.post("/v1/me/verification", json=submission(number), headers=headers)
        services = app.state.services
        async with services.database.read_session() as session:
            assert await services.verifications.verified_identity(session, user_id) is None
        verification_id = await pending_id(http, headers)
        await http.post(f"/v1/admin/verifications/{verification_id}/approve", headers=staff)
        async with services.database.read_session() as session:
            identity = await services.verifications.verified_identity(session, user_id)
        assert identity is not None
        assert identity.number_last_six == number[-6:]
        assert identity.birth_date is not None
        assert identity.birth_date.isoformat() == "1990-03-07"


class TestNoPlaintext:
    async def test_no_name_or_number_in_the_database_file_the_log_or_events(
        self,
        app: FastAPI,
        http: httpx.AsyncClient,
        database_url: str,
        captured: object,
    ) -> None:
        _, headers = await user_headers(app, http)
        staff = await reviewer_headers(app, http)
        number = id_number("19770707", sequence="987")
        name = "欧阳明日"
        await http.post("/v1/me/verification", json=submission(number, name=name), headers=headers)
        verification_id = await pending_id(http, headers)
        await http.post(
            f"/v1/admin/verifications/{verification_id}/reject",
            json={"reason": "照片模糊"},
            headers=staff,
        )
        await http.post("/v1/me/verification", json=submission(number, name=name), headers=headers)
        await http.post(f"/v1/admin/verifications/{verification_id}/approve", headers=staff)
        events = await event_data(app.state.services.database)
        assert len(events) == 4
        for _, data in events:
            assert number not in str(data)
            assert name not in str(data)
            assert data["real_name_masked"] == "欧***"
        log = captured.getvalue()  # type: ignore[attr-defined]
        assert log
        assert number not in log
        assert name not in log
        if database_url.startswith("sqlite"):
            blob = sqlite_files(database_url)
            assert number.encode() not in blob
            assert name.encode() not in blob
            assert number[:17].encode() not in blob
