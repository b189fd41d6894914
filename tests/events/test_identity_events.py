"""The events of identity and tokens, as another service would read them: each change a user
or staff makes through the API writes its event with it, numbered in order per user, with
masked identifiers only; a refused change leaves none."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
from fastapi import FastAPI

from tests.events.conftest import SINGLE_DEVICE, EventLog, user_subject
from tests.identity.conftest import (
    bearer,
    client_for,
    last_sms_code,
    new_phone,
    new_username,
    register,
    sms_login,
)
from usercenter.providers.stubs import WECHAT_APP_ID, WECHAT_MINIAPP_ID, RunningStubs

PASSWORD = "correct horse 42"


def masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def person() -> str:
    return f"p-{secrets.token_hex(4)}"


async def miniapp_login(
    http: httpx.AsyncClient, stubs: RunningStubs, who: str, app_id: str = WECHAT_MINIAPP_ID
) -> dict[str, Any]:
    code = stubs.wechat.code_for(app_id, who)
    response = await http.post("/v1/auth/wechat/miniapp", json={"code": code, "app_id": app_id})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def bind_phone(
    app: FastAPI, http: httpx.AsyncClient, tokens: dict[str, Any], phone: str, **extra: str
) -> httpx.Response:
    sent = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "bind"})
    assert sent.status_code == 202, sent.text
    body = {"phone": phone, "code": await last_sms_code(app, phone), **extra}
    return await http.post("/v1/me/identities/phone", json=body, headers=bearer(tokens))


class TestRegistration:
    async def test_an_sms_registration_names_method_platform_and_the_masked_phone(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        phone = new_phone()
        tokens = await sms_login(app, http, phone, platform="APP")
        [registered] = await events.of(user_subject(tokens))
        assert registered["type"] == "usercenter.user.registered"
        assert registered["data"] == {
            "user_id": int(tokens["user"]["id"]),
            "uid": tokens["user"]["uid"],
            "method": "phone",
            "platform": "APP",
            "phone_masked": masked(phone),
        }
        assert phone not in await events.everything()


class TestIdentityEvents:
    async def test_bind_merge_and_unbind_follow_one_another_per_user(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog, stubs: RunningStubs
    ) -> None:
        phone, who = new_phone(), person()
        tokens = await sms_login(app, http, phone)
        subject = user_subject(tokens)
        bound = await http.post(
            "/v1/me/identities/wechat_app",
            json={"code": stubs.wechat.code_for(WECHAT_APP_ID, who), "app_id": WECHAT_APP_ID},
            headers=bearer(tokens),
        )
        assert bound.status_code == 204, bound.text
        # The mini program of the same open platform: its first login lands on this user.
        merged = await miniapp_login(http, stubs, who)
        assert merged["user"]["id"] == tokens["user"]["id"]
        unbound = await http.delete(
            "/v1/me/identities/wechat_app",
            params={"app_id": WECHAT_APP_ID},
            headers=bearer(tokens),
        )
        assert unbound.status_code == 204, unbound.text

        history = await events.of(subject)
        assert [e["type"] for e in history] == [
            "usercenter.user.registered",
            "usercenter.user.identity_bound",
            "usercenter.user.identity_merged",
            "usercenter.user.identity_unbound",
        ]
        base = {"user_id": int(tokens["user"]["id"]), "uid": tokens["user"]["uid"]}
        bind, merge, unbind = (e["data"] for e in history[1:])
        assert bind == {
            **base,
            "identity_type": "wechat_app",
            "identifier_masked": bind["identifier_masked"],
            "app_id": WECHAT_APP_ID,
        }
        assert "****" in bind["identifier_masked"]
        assert merge == {
            **base,
            "identity_type": "wechat_miniapp",
            "app_id": WECHAT_MINIAPP_ID,
            "via": "unionid",
        }
        assert unbind == {**bind, "by_staff_id": None}
        assert phone not in await events.everything()
        # The merge is not also a binding: one identity_bound in all.
        assert len(await events.rows("usercenter.user.identity_bound")) == 1

    async def test_a_phone_bound_then_rebound_is_unbound_then_bound_masked(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog, stubs: RunningStubs
    ) -> None:
        old, new = new_phone(), new_phone()
        tokens = await miniapp_login(http, stubs, person())
        assert (await bind_phone(app, http, tokens, old)).status_code == 204
        await http.post("/v1/sms/codes", json={"phone": new, "purpose": "change_phone"})
        await http.post("/v1/sms/codes", json={"phone": old, "purpose": "change_phone"})
        rebound = await http.post(
            "/v1/me/identities/phone",
            json={
                "phone": new,
                "code": await last_sms_code(app, new),
                "old_code": await last_sms_code(app, old),
            },
            headers=bearer(tokens),
        )
        assert rebound.status_code == 204, rebound.text
        history = await events.of(user_subject(tokens))
        assert [
            (e["type"].rsplit(".", 1)[1], e["data"].get("identifier_masked")) for e in history[1:]
        ] == [
            ("identity_bound", masked(old)),
            ("identity_unbound", masked(old)),
            ("identity_bound", masked(new)),
        ]
        assert {e["data"]["identity_type"] for e in history[1:]} == {"phone"}
        everything = await events.everything()
        assert old not in everything
        assert new not in everything

    async def test_binding_a_phone_of_another_user_leaves_no_event(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog, stubs: RunningStubs
    ) -> None:
        taken = new_phone()
        owner = await sms_login(app, http, taken)
        tokens = await miniapp_login(http, stubs, person())
        refused = await bind_phone(app, http, tokens, taken)
        assert refused.status_code == 409
        assert refused.json()["code"] == "identity_taken"
        assert await events.types(user_subject(tokens)) == ["usercenter.user.registered"]
        assert await events.types(user_subject(owner)) == ["usercenter.user.registered"]
        assert await events.rows("usercenter.user.identity_bound") == []

    async def test_staff_unbinding_names_the_staff_member(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        phone = new_phone()
        tokens = await sms_login(app, http, phone)
        user_id = tokens["user"]["id"]
        detail = await http.get(f"/v1/admin/users/{user_id}", headers=events.headers)
        identity_id = detail.json()["identities"][0]["id"]
        unbound = await http.delete(
            f"/v1/admin/users/{user_id}/identities/{identity_id}", headers=events.headers
        )
        assert unbound.status_code == 204, unbound.text
        last = await events.last(user_subject(tokens))
        assert last["type"] == "usercenter.user.identity_unbound"
        assert last["data"]["identity_type"] == "phone"
        assert last["data"]["identifier_masked"] == masked(phone)
        assert last["data"]["by_staff_id"] == events.staff_id


class TestProfile:
    async def test_only_the_fields_that_changed_are_named_and_no_change_writes_nothing(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        tokens = await sms_login(app, http, new_phone())
        subject = user_subject(tokens)

        async def patch(body: dict[str, Any]) -> None:
            response = await http.patch("/v1/me", json=body, headers=bearer(tokens))
            assert response.status_code == 200, response.text

        await patch({"nickname": "小明", "gender": 1})
        await patch({"nickname": "小明", "gender": 1})  # the same values: no change
        await patch({"nickname": "小明", "signature": "hello"})
        changes = [e for e in await events.of(subject) if e["type"].endswith("profile_changed")]
        assert [e["data"]["fields"] for e in changes] == [["gender", "nickname"], ["signature"]]
        assert "小明" not in await events.everything()


class TestPasswords:
    async def test_set_changed_and_reset_with_the_sessions_they_end(
        self, app: FastAPI, events: EventLog
    ) -> None:
        phone = new_phone()
        async with client_for(app) as http:
            first = await sms_login(app, http, phone)
            other = await sms_login(app, http, phone)
            subject = user_subject(first)
            # No password yet: an SMS code sets one; the other session ends.
            await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "reset_password"})
            code = await last_sms_code(app, phone)
            set_ = await http.put(
                "/v1/me/password",
                json={"new_password": PASSWORD, "sms_code": code},
                headers=bearer(first),
            )
            assert set_.status_code == 204, set_.text
            changed = await http.put(
                "/v1/me/password",
                json={"new_password": PASSWORD + "!", "old_password": PASSWORD},
                headers=bearer(first),
            )
            assert changed.status_code == 204, changed.text
            await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "reset_password"})
            reset = await http.post(
                "/v1/auth/password-reset",
                json={
                    "phone": phone,
                    "code": await last_sms_code(app, phone),
                    "new_password": PASSWORD + "?",
                },
            )
            assert reset.status_code == 204, reset.text
        history = [(e["type"].rsplit(".", 1)[1], e["data"]) for e in await events.of(subject)]
        assert [(kind, data.get("how") or data.get("reason")) for kind, data in history[1:]] == [
            ("password_changed", "set"),
            ("revoked", "password_changed"),
            ("password_changed", "changed"),
            ("password_changed", "reset"),
            ("revoked", "password_reset"),
        ]
        assert history[2][1]["session_id"] == other["session_id"]
        assert history[5][1]["session_id"] == first["session_id"]
        assert PASSWORD not in await events.everything()

    async def test_a_change_racing_logouts_ends_each_session_once(
        self, app: FastAPI, events: EventLog
    ) -> None:
        """The change takes the sessions before it writes its event, as a logout does: the
        two never wait on each other crosswise, and each session ends once."""
        username = new_username()
        async with client_for(app) as http:
            keeper = await register(http, username, PASSWORD)
            password = PASSWORD
            ended: list[str] = []
            for round_ in range(3):
                others = []
                for _ in range(3):
                    login = await http.post(
                        "/v1/auth/password-login",
                        json={"login": username, "password": password, "platform": "APP"},
                    )
                    assert login.status_code == 200, login.text
                    others.append(login.json())
                new_password = f"{PASSWORD} {round_}"
                answers = await asyncio.gather(
                    http.put(
                        "/v1/me/password",
                        json={"new_password": new_password, "old_password": password},
                        headers=bearer(keeper),
                    ),
                    *(http.post("/v1/auth/logout", headers=bearer(o)) for o in others),
                )
                assert answers[0].status_code == 204, answers[0].text
                assert {a.status_code for a in answers[1:]} <= {204, 401, 404}, [
                    a.text for a in answers[1:]
                ]
                password = new_password
                ended += [o["session_id"] for o in others]
        history = await events.of(user_subject(keeper))
        revoked = [e["data"]["session_id"] for e in history if e["type"].endswith("revoked")]
        assert sorted(revoked) == sorted(ended)
        assert [e["data"]["how"] for e in history if e["type"].endswith("password_changed")] == [
            "changed"
        ] * 3

    async def test_a_refused_change_writes_nothing(
        self, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        tokens = await register(http, new_username())
        wrong = await http.put(
            "/v1/me/password",
            json={"new_password": "another horse 43", "old_password": "not it"},
            headers=bearer(tokens),
        )
        assert wrong.status_code in (400, 401, 403), wrong.text
        assert await events.types(user_subject(tokens)) == ["usercenter.user.registered"]


class TestSessions:
    async def test_each_early_end_is_one_event_with_its_reason(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        phone = new_phone()
        a = await sms_login(app, http, phone, platform="APP")
        b = await sms_login(app, http, phone, platform="WEB")
        c = await sms_login(app, http, phone, platform="MINIAPP")
        d = await sms_login(app, http, phone, platform=SINGLE_DEVICE)
        e = await sms_login(app, http, phone, platform=SINGLE_DEVICE)  # replaces d
        ended = await http.delete(f"/v1/me/sessions/{b['session_id']}", headers=bearer(a))
        assert ended.status_code == 204, ended.text
        logout = await http.post("/v1/auth/logout", headers=bearer(c))
        assert logout.status_code == 204, logout.text
        others = await http.post("/v1/me/sessions/revoke-others", headers=bearer(a))
        assert others.status_code == 200, others.text
        revoked = [
            (x["data"]["session_id"], x["data"]["platform"], x["data"]["reason"])
            for x in await events.of(user_subject(a))
            if x["type"] == "usercenter.session.revoked"
        ]
        assert revoked == [
            (d["session_id"], SINGLE_DEVICE, "replaced"),
            (b["session_id"], "WEB", "ended_by_user"),
            (c["session_id"], "MINIAPP", "logout"),
            (e["session_id"], SINGLE_DEVICE, "ended_by_user"),
        ]

    async def test_racing_revocations_of_the_same_sessions_write_one_event_each(
        self, app: FastAPI, events: EventLog
    ) -> None:
        phone = new_phone()
        async with client_for(app) as http:
            keeper = await sms_login(app, http, phone, platform="APP")
            others = [await sms_login(app, http, phone, platform="WEB") for _ in range(4)]
            for _ in range(2):
                answers = await asyncio.gather(
                    http.post("/v1/me/sessions/revoke-others", headers=bearer(keeper)),
                    *(
                        http.delete(f"/v1/me/sessions/{o['session_id']}", headers=bearer(keeper))
                        for o in others
                    ),
                )
                assert answers[0].status_code == 200, answers[0].text
                assert {a.status_code for a in answers[1:]} <= {204, 404}
        revoked = [
            e["data"]["session_id"]
            for e in await events.of(user_subject(keeper))
            if e["type"] == "usercenter.session.revoked"
        ]
        assert sorted(revoked) == sorted(o["session_id"] for o in others)

    async def test_a_replayed_refresh_token_commits_its_revocation_event(
        self, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        first = await register(http, new_username())
        rotated = await http.post(
            "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert rotated.status_code == 200, rotated.text
        replay = await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert replay.json()["code"] == "refresh_token_reused"
        last = await events.last(user_subject(first))
        assert last["type"] == "usercenter.session.revoked"
        assert last["data"]["session_id"] == first["session_id"]
        assert last["data"]["reason"] == "refresh_reused"
        # Once: the session is dead, a second replay ends nothing more.
        again = await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert again.status_code == 401
        assert len(await events.rows("usercenter.session.revoked")) == 1

    async def test_a_staff_session_ending_writes_no_user_event(
        self, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        out = await http.post("/v1/admin/auth/logout", headers=events.headers)
        assert out.status_code == 204, out.text
        assert await events.rows("usercenter.session.revoked") == []


class TestDisable:
    async def test_disable_ends_sessions_and_enable_follows_naming_the_staff_member(
        self, app: FastAPI, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        tokens = await sms_login(app, http, new_phone())
        user_id = tokens["user"]["id"]
        for _ in range(2):  # disabling a disabled user changes nothing
            off = await http.post(f"/v1/admin/users/{user_id}/disable", headers=events.headers)
            assert off.status_code == 204, off.text
        on = await http.post(f"/v1/admin/users/{user_id}/enable", headers=events.headers)
        assert on.status_code == 200, on.text
        history = await events.of(user_subject(tokens))
        assert [e["type"] for e in history] == [
            "usercenter.user.registered",
            "usercenter.user.disabled",
            "usercenter.session.revoked",
            "usercenter.user.enabled",
        ]
        assert history[1]["data"]["by_staff_id"] == events.staff_id
        assert history[2]["data"]["reason"] == "user_disabled"
        assert history[2]["data"]["session_id"] == tokens["session_id"]
        assert history[3]["data"] == {
            "user_id": int(user_id),
            "uid": tokens["user"]["uid"],
            "by_staff_id": events.staff_id,
        }

    async def test_disabling_an_unknown_user_leaves_no_event(
        self, http: httpx.AsyncClient, events: EventLog
    ) -> None:
        missing = await http.post("/v1/admin/users/987654321/disable", headers=events.headers)
        assert missing.status_code == 404
        assert await events.rows("usercenter.user.disabled") == []
