"""Delivery addresses: the owner's routes and their rules (exactly one default, the limit,
validation), privacy (ciphertext at rest, masked events and change log, staff masked unless
revealed, services whole) and concurrent changes of one user on every database."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import case, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from tests.conftest import MovableClock, sqlite_files
from tests.factories import services_of
from tests.factories.access import make_staff, staff_token
from tests.identity.conftest import AppFactory, bearer, client_for, new_phone, sms_login
from tests.profile.conftest import SERVICE
from usercenter.audit.models import AdminLog, ProfileChange
from usercenter.events.models import OutboxEvent
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.profile.errors import AddressLimitReached, AddressNotFound
from usercenter.profile.models import UserAddress

TIANHE = "440106"


def address(**overrides: Any) -> dict[str, Any]:
    return {
        "receiver_name": "张三丰",
        "receiver_phone": new_phone(),
        "region_code": TIANHE,
        "detail": "天河路385号太古汇",
        "tag": "home",
        **overrides,
    }


async def logged_in(app: FastAPI, http: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
    tokens = await sms_login(app, http, new_phone())
    return int(tokens["user"]["id"]), bearer(tokens)


async def add(http: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> Any:
    response = await http.post("/v1/me/addresses", json=address(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def defaults(http: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    listed = await http.get("/v1/me/addresses", headers=headers)
    assert listed.status_code == 200
    return [a["id"] for a in listed.json()["items"] if a["is_default"]]


async def events_of(app: FastAPI, user_id: int, prefix: str) -> list[OutboxEvent]:
    async with services_of(app).database.read_session() as session:
        rows = await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.subject == f"users/{user_id}", OutboxEvent.type.startswith(prefix))
            .order_by(OutboxEvent.id)
        )
        return list(rows)


class TestOwnerRoutes:
    async def test_first_is_default_and_set_default_moves_it(self, profile_app: FastAPI) -> None:
        async with client_for(profile_app) as http:
            user_id, headers = await logged_in(profile_app, http)
            first = await add(http, headers)
            assert first["is_default"] is True
            second = await add(http, headers, detail="体育西路1号")
            assert second["is_default"] is False
            moved = await http.post(f"/v1/me/addresses/{second['id']}/default", headers=headers)
            assert moved.status_code == 200
            assert moved.json()["is_default"] is True
            assert await defaults(http, headers) == [second["id"]]
            again = await http.post(f"/v1/me/addresses/{second['id']}/default", headers=headers)
            assert again.status_code == 200
        kinds = [e.type for e in await events_of(profile_app, user_id, "usercenter.address.")]
        assert kinds == [
            "usercenter.address.added",
            "usercenter.address.added",
            "usercenter.address.default_changed",
        ]

    async def test_deleting_the_default_promotes_the_latest_changed(
        self, profile_app: FastAPI, moved_clock: MovableClock
    ) -> None:
        async with client_for(profile_app) as http:
            _, headers = await logged_in(profile_app, http)
            a = await add(http, headers, detail="一号")
            moved_clock.advance(60)
            b = await add(http, headers, detail="二号")
            moved_clock.advance(60)
            c = await add(http, headers, detail="三号")
            moved_clock.advance(60)
            patched = await http.patch(
                f"/v1/me/addresses/{b['id']}", json={"tag": "company"}, headers=headers
            )
            assert patched.status_code == 200
            moved_clock.advance(60)
            deleted = await http.delete(f"/v1/me/addresses/{a['id']}", headers=headers)
            assert deleted.status_code == 204
            assert await defaults(http, headers) == [b["id"]]
            listed = (await http.get("/v1/me/addresses", headers=headers)).json()["items"]
            assert [x["id"] for x in listed] == [b["id"], c["id"]]
            gone = await http.delete(f"/v1/me/addresses/{a['id']}", headers=headers)
            assert gone.status_code == 404
            assert gone.json()["code"] == "address_not_found"
            await http.delete(f"/v1/me/addresses/{b['id']}", headers=headers)
            assert await defaults(http, headers) == [c["id"]]
            await http.delete(f"/v1/me/addresses/{c['id']}", headers=headers)
            assert (await http.get("/v1/me/addresses", headers=headers)).json()["items"] == []
            fresh = await add(http, headers)
            assert fresh["is_default"] is True

    async def test_owner_sees_everything_whole(self, profile_app: FastAPI) -> None:
        async with client_for(profile_app) as http:
            _, headers = await logged_in(profile_app, http)
            body = address(
                receiver_phone="+86 139-1234-5678",
                street="石牌街道",
                postcode="510620",
                latitude="23.1329",
                longitude=113.3312345,
            )
            created = await http.post("/v1/me/addresses", json=body, headers=headers)
            assert created.status_code == 201, created.text
            shown = created.json()
            assert shown["receiver_name"] == "张三丰"
            assert shown["receiver_phone"] == "13912345678"
            assert shown["detail"] == "天河路385号太古汇"
            assert shown["street"] == "石牌街道"
            assert (shown["latitude"], shown["longitude"]) == ("23.1329000", "113.3312345")
            assert shown["region_code"] == TIANHE
            assert shown["region"]["city"] == {"code": "440100", "name": "广州市"}
            listed = (await http.get("/v1/me/addresses", headers=headers)).json()["items"]
            assert listed == [shown]

    async def test_update_changes_only_what_is_sent(self, profile_app: FastAPI) -> None:
        async with client_for(profile_app) as http:
            user_id, headers = await logged_in(profile_app, http)
            created = await add(http, headers, latitude="23.1", longitude="113.2")
            url = f"/v1/me/addresses/{created['id']}"
            changed = await http.patch(
                url, json={"region_code": "110105", "detail": "建国路87号"}, headers=headers
            )
            assert changed.status_code == 200, changed.text
            shown = changed.json()
            assert shown["region"]["province"]["name"] == "北京市"
            assert shown["detail"] == "建国路87号"
            assert shown["receiver_name"] == created["receiver_name"]
            assert shown["is_default"] is True
            cleared = await http.patch(
                url, json={"latitude": None, "longitude": None, "tag": None}, headers=headers
            )
            assert (cleared.json()["latitude"], cleared.json()["tag"]) == (None, None)
            refused = await http.patch(url, json={"receiver_name": None}, headers=headers)
            assert refused.status_code == 422
            assert refused.json()["errors"][0]["field"] == "receiver_name"
            half = await http.patch(url, json={"latitude": "23.1"}, headers=headers)
            assert half.status_code == 422
            assert half.json()["code"] == "coordinates_incomplete"
        changed_events = await events_of(profile_app, user_id, "usercenter.address.changed")
        assert changed_events[0].data["fields"] == ["detail", "region_code"]
        assert changed_events[0].data["district_code"] == "110105"
        async with services_of(profile_app).database.read_session() as session:
            attributes = set(
                await session.scalars(
                    select(ProfileChange.attribute).where(ProfileChange.user_id == user_id)
                )
            )
        assert f"address:{created['id']}" in attributes
        assert f"address:{created['id']}.detail" in attributes

    async def test_another_users_address_is_not_found(self, profile_app: FastAPI) -> None:
        async with client_for(profile_app) as http:
            _, owner = await logged_in(profile_app, http)
            _, other = await logged_in(profile_app, http)
            mine = await add(http, owner)
            url = f"/v1/me/addresses/{mine['id']}"
            assert (await http.patch(url, json={"tag": "other"}, headers=other)).status_code == 404
            assert (await http.delete(url, headers=other)).status_code == 404
            assert (await http.post(f"{url}/default", headers=other)).status_code == 404
            assert (await http.get("/v1/me/addresses", headers=other)).json()["items"] == []

    @pytest.mark.parametrize(
        ("overrides", "status", "code", "field"),
        [
            ({"region_code": "999999"}, 422, "region_invalid", "region_code"),
            ({"region_code": "440100"}, 422, "region_invalid", "region_code"),
            ({"region_code": "4401"}, 422, "validation_failed", "region_code"),
            ({"receiver_phone": "12345678901"}, 422, "receiver_phone_invalid", "receiver_phone"),
            ({"receiver_phone": "020-12345678"}, 422, "receiver_phone_invalid", "receiver_phone"),
            ({"postcode": "51062"}, 422, "validation_failed", "postcode"),
            ({"latitude": "91", "longitude": "113"}, 422, "validation_failed", "latitude"),
            (
                {"latitude": "23.123456789", "longitude": "113"},
                422,
                "validation_failed",
                "latitude",
            ),
            ({"latitude": "23.1"}, 422, "coordinates_incomplete", "longitude"),
            ({"tag": "school"}, 422, "validation_failed", "tag"),
            ({"receiver_name": " "}, 422, "validation_failed", "receiver_name"),
            ({"detail": "x" * 201}, 422, "validation_failed", "detail"),
        ],
    )
    async def test_refuses_bad_input_naming_the_field(
        self,
        profile_app: FastAPI,
        overrides: dict[str, Any],
        status: int,
        code: str,
        field: str,
    ) -> None:
        async with client_for(profile_app) as http:
            _, headers = await logged_in(profile_app, http)
            response = await http.post(
                "/v1/me/addresses", json=address(**overrides), headers=headers
            )
            assert response.status_code == status, response.text
            assert response.json()["code"] == code
            assert field in {e["field"] for e in response.json()["errors"]}
            assert (await http.get("/v1/me/addresses", headers=headers)).json()["items"] == []

    async def test_limit(self, make_profile_app: AppFactory) -> None:
        app = await make_profile_app(profile_address_limit=2)
        async with client_for(app) as http:
            _, headers = await logged_in(app, http)
            first = await add(http, headers)
            await add(http, headers)
            refused = await http.post("/v1/me/addresses", json=address(), headers=headers)
            assert refused.status_code == 409
            assert refused.json()["code"] == "address_limit_reached"
            await http.delete(f"/v1/me/addresses/{first['id']}", headers=headers)
            await add(http, headers)


class TestPrivacy:
    async def test_no_plaintext_in_the_database_file_or_events(
        self, profile_app: FastAPI, database_url: str
    ) -> None:
        phone = new_phone()
        async with client_for(profile_app) as http:
            user_id, headers = await logged_in(profile_app, http)
            created = await add(http, headers, receiver_phone=phone, street="石牌街道")
            second = await add(http, headers, receiver_phone=phone)
            await http.patch(
                f"/v1/me/addresses/{created['id']}",
                json={"detail": "天河路385号太古汇二期", "receiver_name": "张三丰"},
                headers=headers,
            )
            await http.post(f"/v1/me/addresses/{second['id']}/default", headers=headers)
            await http.delete(f"/v1/me/addresses/{second['id']}", headers=headers)
        secrets = ["张三丰", phone, "太古汇", "385号", "石牌街道"]
        events = await events_of(profile_app, user_id, "usercenter.address.")
        assert len(events) == 6
        for event in events:
            text = str(event.data)
            assert not [s for s in secrets if s in text], text
        added = events[0].data
        assert added["receiver_name_masked"] == "张**"
        assert added["receiver_phone_masked"] == f"{phone[:3]}****{phone[-4:]}"
        async with services_of(profile_app).database.read_session() as session:
            logged = list(
                await session.scalars(select(ProfileChange).where(ProfileChange.user_id == user_id))
            )
        assert len(logged) >= 5
        for row in logged:
            assert not [s for s in secrets if s in f"{row.old_value} {row.new_value}"]
        if make_url(database_url).get_backend_name() == "sqlite":
            blob = sqlite_files(database_url)
            for secret in secrets:
                assert secret.encode() not in blob, secret

    async def test_staff_see_masked_unless_revealed_services_whole(
        self, profile_app: FastAPI
    ) -> None:
        phone = new_phone()
        async with client_for(profile_app) as http:
            user_id, headers = await logged_in(profile_app, http)
            created = await add(http, headers, receiver_phone=phone)
            _, operator = await make_staff(profile_app, "operator")
            _, admin = await make_staff(profile_app, "super_admin")
            op = await staff_token(http, operator)
            url = f"/v1/admin/users/{user_id}/addresses"
            masked = await http.get(url, headers=op)
            assert masked.status_code == 200, masked.text
            shown = masked.json()["items"][0]
            assert shown["receiver_name"] == "张**"
            assert shown["receiver_phone"] == f"{phone[:3]}****{phone[-4:]}"
            assert shown["detail"] == "天河路***"
            assert shown["region"]["district"]["name"] == "天河区"
            assert masked.json()["pii_revealed"] is False
            refused = await http.get(url, params={"reveal": "true"}, headers=op)
            assert refused.status_code == 403
            boss = await staff_token(http, admin)
            whole = await http.get(url, params={"reveal": "true"}, headers=boss)
            assert whole.json()["items"][0]["receiver_phone"] == phone
            unknown = await http.get("/v1/admin/users/987654321/addresses", headers=op)
            assert unknown.status_code == 404

            service_url = f"/v1/users/{user_id}/addresses/{created['id']}"
            assert (await http.get(service_url)).status_code == 401
            assert (await http.get(service_url, headers=headers)).status_code == 401
            snapshot = await http.get(service_url, headers=SERVICE)
            assert snapshot.status_code == 200, snapshot.text
            assert snapshot.json()["receiver_phone"] == phone
            assert snapshot.json()["detail"] == "天河路385号太古汇"
            default = await http.get(f"/v1/users/{user_id}/addresses/default", headers=SERVICE)
            assert default.json()["id"] == created["id"]
            await http.delete(f"/v1/me/addresses/{created['id']}", headers=headers)
            assert (await http.get(service_url, headers=SERVICE)).status_code == 404
            none = await http.get(f"/v1/users/{user_id}/addresses/default", headers=SERVICE)
            assert none.status_code == 404
        async with services_of(profile_app).database.read_session() as session:
            rows = list(await session.scalars(select(AdminLog)))
        assert any(r.action == "user.pii.view" and r.result == "ok" for r in rows)
        assert all(phone not in (r.request or "") for r in rows)


class TestConcurrency:
    async def test_database_refuses_a_second_live_default(self, profile_app: FastAPI) -> None:
        async with client_for(profile_app) as http:
            user_id, headers = await logged_in(profile_app, http)
            await add(http, headers)
        database = services_of(profile_app).database
        now = clock.now()
        with pytest.raises(IntegrityError):
            async with database.unit_of_work() as session:
                session.add(
                    UserAddress(
                        id=987_654_321,
                        user_id=user_id,
                        receiver_name_encrypted="x",
                        receiver_phone_encrypted="x",
                        region_code=TIANHE,
                        detail_encrypted="x",
                        is_default=True,
                        created_at=now,
                        updated_at=now,
                    )
                )

    async def test_32_mixed_changes_keep_one_default_and_the_limit(
        self, make_profile_app: AppFactory
    ) -> None:
        limit = 6
        app = await make_profile_app(profile_address_limit=limit)
        services = services_of(app)
        addresses, database = services.addresses, services.database
        async with client_for(app) as http:
            user_id, _ = await logged_in(app, http)
        client = ClientInfo()
        known: list[int] = []
        for _ in range(4):
            async with database.unit_of_work() as session:
                view = await addresses.add_address(session, user_id, address(), client)
            known.append(view.id)

        async def state() -> tuple[int, int]:
            async with database.read_session() as session:
                row = (
                    await session.execute(
                        select(
                            func.count(),
                            func.coalesce(
                                func.sum(case((UserAddress.is_default.is_(True), 1), else_=0)), 0
                            ),
                        ).where(UserAddress.user_id == user_id, UserAddress.deleted_at.is_(None))
                    )
                ).one()
            return int(row[0]), int(row[1])

        seen: list[tuple[int, int]] = []
        done = asyncio.Event()

        async def watch() -> None:
            while not done.is_set():
                seen.append(await state())
                await asyncio.sleep(0)

        async def one(kind: str, target: int | None) -> str:
            try:
                async with database.unit_of_work() as session:
                    if kind == "create":
                        view = await addresses.add_address(session, user_id, address(), client)
                        known.append(view.id)
                    elif kind == "delete":
                        assert target is not None
                        await addresses.remove_address(session, user_id, target, client)
                    else:
                        assert target is not None
                        await addresses.set_default(session, user_id, target, client)
            except (AddressNotFound, AddressLimitReached) as refused:
                return refused.code
            return "ok"

        rng = random.Random(15)
        calls = []
        for i in range(32):
            kind = ("create", "delete", "default")[i % 3]
            calls.append(one(kind, None if kind == "create" else rng.choice(known)))
        watcher = asyncio.create_task(watch())
        results = await asyncio.gather(*calls)
        done.set()
        await watcher
        seen.append(await state())
        assert set(results) <= {"ok", "address_not_found", "address_limit_reached"}
        assert "ok" in results
        for live, default_count in seen:
            assert live <= limit
            assert default_count == (1 if live else 0), seen
        live, default_count = seen[-1]
        assert default_count == 1
        assert live >= 1
