"""Third-party login and account linking through the API, against the provider stubs
(seed 003's two scenarios, unionid merging, conflicts, unbind and rebind)."""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.factories.platform import client_apps_of
from tests.identity.conftest import (
    AppFactory,
    bearer,
    client_for,
    last_sms_code,
    new_phone,
    sms_login,
)
from tests.providers.conftest import stubs
from usercenter.audit.models import ProfileChange
from usercenter.config import LogFormat
from usercenter.db import Database
from usercenter.identity.models import Identity, User
from usercenter.logs import build_formatter
from usercenter.providers.stubs import (
    ALIPAY_APP_ID,
    QQ_APP_ID,
    WECHAT_APP_ID,
    WECHAT_MINIAPP_ID,
    WECHAT_OFFICIAL_ID,
    WECHAT_UNBOUND_MINIAPP_ID,
    WEIBO_APP_ID,
    RunningStubs,
)

__all__ = ["stubs"]


def person() -> str:
    return f"p-{secrets.token_hex(4)}"


async def linked_app(make_app: AppFactory, stubs: RunningStubs, **overrides: Any) -> FastAPI:
    """The service with every stub app configured as a client app."""
    return await make_app(client_apps=client_apps_of(stubs), **overrides)


async def miniapp_login(
    http: httpx.AsyncClient, stubs: RunningStubs, who: str, app_id: str = WECHAT_MINIAPP_ID
) -> httpx.Response:
    code = stubs.wechat.code_for(app_id, who)
    return await http.post("/v1/auth/wechat/miniapp", json={"code": code, "app_id": app_id})


async def oauth_login(
    http: httpx.AsyncClient, stubs: RunningStubs, app_id: str, who: str
) -> httpx.Response:
    authorize = await http.get(
        "/v1/auth/oauth/wechat_official/authorize",
        params={"redirect_uri": "https://h5.example.com/back", "app_id": app_id},
    )
    assert authorize.status_code == 200, authorize.text
    body = {"code": stubs.wechat.code_for(app_id, who), "state": authorize.json()["state"]}
    return await http.post(
        "/v1/auth/oauth/wechat_official", json={**body, "app_id": app_id, "platform": "H5"}
    )


class TestWeChatLogin:
    async def test_first_miniapp_login_registers_and_second_logs_in(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        who = person()
        async with client_for(application) as http:
            first = await miniapp_login(http, stubs, who)
            assert first.status_code == 200, first.text
            assert first.json()["is_new_user"] is True
            second = await miniapp_login(http, stubs, who)
        assert second.json()["is_new_user"] is False
        assert second.json()["user"]["id"] == first.json()["user"]["id"]
        assert "session_key" not in first.text

    async def test_unionid_joins_miniapp_official_account_and_app(
        self, make_app: AppFactory, stubs: RunningStubs, db: Database
    ) -> None:
        application = await linked_app(make_app, stubs)
        who = person()
        async with client_for(application) as http:
            mini = (await miniapp_login(http, stubs, who)).json()
            official = await oauth_login(http, stubs, WECHAT_OFFICIAL_ID, who)
            assert official.status_code == 200, official.text
            app = await http.post(
                "/v1/auth/oauth/wechat_app",
                json={"code": stubs.wechat.code_for(WECHAT_APP_ID, who), "app_id": WECHAT_APP_ID},
            )
            assert app.status_code == 200, app.text
            bound = await http.get("/v1/me/identities", headers=bearer(mini))
        ids = {mini["user"]["id"], official.json()["user"]["id"], app.json()["user"]["id"]}
        assert len(ids) == 1
        assert official.json()["is_new_user"] is False
        assert {item["type"] for item in bound.json()} == {
            "wechat_miniapp",
            "wechat_official",
            "wechat_app",
        }
        async with db.read_session() as session:
            merges = await session.scalar(
                select(func.count()).where(
                    ProfileChange.user_id == int(mini["user"]["id"]),
                    ProfileChange.action == "merge",
                )
            )
        assert merges == 2

    async def test_an_app_without_unionid_is_a_user_of_its_own(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        who = person()
        async with client_for(application) as http:
            bound = (await miniapp_login(http, stubs, who)).json()
            unbound = (await miniapp_login(http, stubs, who, WECHAT_UNBOUND_MINIAPP_ID)).json()
        assert unbound["user"]["id"] != bound["user"]["id"]

    async def test_two_first_logins_at_once_from_two_apps_make_one_user(
        self, make_app: AppFactory, stubs: RunningStubs, db: Database
    ) -> None:
        application = await linked_app(make_app, stubs)
        who = person()
        async with client_for(application) as one, client_for(application) as two:
            results = await asyncio.gather(
                miniapp_login(one, stubs, who),
                two.post(
                    "/v1/auth/oauth/wechat_app",
                    json={
                        "code": stubs.wechat.code_for(WECHAT_APP_ID, who),
                        "app_id": WECHAT_APP_ID,
                    },
                ),
            )
        assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
        assert results[0].json()["user"]["id"] == results[1].json()["user"]["id"]
        async with db.read_session() as session:
            users = await session.scalar(select(func.count()).select_from(User))
        assert users == 1

    async def test_provider_errors_become_our_codes_and_leave_nothing_behind(
        self, make_app: AppFactory, stubs: RunningStubs, db: Database
    ) -> None:
        application = await linked_app(make_app, stubs)
        expected = {
            "wx-40029": (400, "provider_code_invalid"),
            "wx-45011": (403, "provider_rejected"),
            "wx-40226": (403, "provider_rejected"),
            "wx-slow": (503, "provider_unavailable"),
        }
        async with client_for(application) as http:
            for code, (status, error) in expected.items():
                response = await http.post(
                    "/v1/auth/wechat/miniapp", json={"code": code, "app_id": WECHAT_MINIAPP_ID}
                )
                assert (response.status_code, response.json()["code"]) == (status, error), code
        async with db.read_session() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 0
            assert await session.scalar(select(func.count()).select_from(Identity)) == 0

    async def test_state_is_required_signed_and_single_use(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        who = person()
        async with client_for(application) as http:
            code = stubs.wechat.code_for(WECHAT_OFFICIAL_ID, who)
            missing = await http.post(
                "/v1/auth/oauth/wechat_official", json={"code": code, "app_id": WECHAT_OFFICIAL_ID}
            )
            assert missing.json()["code"] == "state_invalid"
            authorize = (
                await http.get(
                    "/v1/auth/oauth/wechat_official/authorize",
                    params={"redirect_uri": "https://h5.example.com/back"},
                )
            ).json()
            assert authorize["url"].startswith(stubs.urls["wechat"])
            assert "state=" in authorize["url"]
            body = {"code": code, "app_id": WECHAT_OFFICIAL_ID, "state": authorize["state"]}
            forged = {**body, "state": authorize["state"][:-3] + "AAA"}
            bad = await http.post("/v1/auth/oauth/wechat_official", json=forged)
            assert bad.json()["code"] == "state_invalid"
            ok = await http.post("/v1/auth/oauth/wechat_official", json=body)
            assert ok.status_code == 200, ok.text
            replay = await http.post(
                "/v1/auth/oauth/wechat_official",
                json={**body, "code": stubs.wechat.code_for(WECHAT_OFFICIAL_ID, who)},
            )
            assert replay.json()["code"] == "state_invalid"


class TestMiniAppPhone:
    async def test_phone_button_logs_in_the_owner_of_the_phone(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        phone = new_phone()
        async with client_for(application) as http:
            owner = await sms_login(application, http, phone)
            who = person()
            response = await http.post(
                "/v1/auth/wechat/miniapp/phone",
                json={
                    "phone_code": stubs.wechat.phone_code_for(WECHAT_MINIAPP_ID, f"+86{phone}"),
                    "login_code": stubs.wechat.code_for(WECHAT_MINIAPP_ID, who),
                    "app_id": WECHAT_MINIAPP_ID,
                },
            )
            assert response.status_code == 200, response.text
            assert response.json()["user"]["id"] == owner["user"]["id"]
            # The mini program's openid was bound on the way: a plain mini program login now
            # lands on the same user.
            again = await miniapp_login(http, stubs, who)
            assert again.json()["user"]["id"] == owner["user"]["id"]

    async def test_phone_code_works_once(self, make_app: AppFactory, stubs: RunningStubs) -> None:
        application = await linked_app(make_app, stubs)
        code = stubs.wechat.phone_code_for(WECHAT_MINIAPP_ID, f"+86{new_phone()}")
        async with client_for(application) as http:
            body = {"phone_code": code, "app_id": WECHAT_MINIAPP_ID}
            first = await http.post("/v1/auth/wechat/miniapp/phone", json=body)
            second = await http.post("/v1/auth/wechat/miniapp/phone", json=body)
        assert first.status_code == 200, first.text
        assert first.json()["is_new_user"] is True
        assert second.json()["code"] == "provider_code_invalid"

    async def test_legacy_encrypted_phone_binds_to_the_logged_in_user(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        who = person()
        phone = new_phone()
        async with client_for(application) as http:
            tokens = (await miniapp_login(http, stubs, who)).json()
            data, iv = stubs.wechat.legacy_phone_data(WECHAT_MINIAPP_ID, who, f"+86{phone}")
            bound = await http.post(
                "/v1/me/identities/wechat-phone",
                json={"encrypted_data": data, "iv": iv, "app_id": WECHAT_MINIAPP_ID},
                headers=bearer(tokens),
            )
            assert bound.status_code == 204, bound.text
            me = await http.get("/v1/me", headers=bearer(tokens))
        assert me.json()["phone"] == f"{phone[:3]}****{phone[-4:]}"


class TestBinding:
    async def test_scenario_1_phone_first_then_wechat(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        who = person()
        async with client_for(application) as http:
            tokens = await sms_login(application, http, new_phone())
            bound = await http.post(
                "/v1/me/identities/wechat_app",
                json={"code": stubs.wechat.code_for(WECHAT_APP_ID, who), "app_id": WECHAT_APP_ID},
                headers=bearer(tokens),
            )
            assert bound.status_code == 204, bound.text
            via_wechat = await miniapp_login(http, stubs, who)  # same unionid, other app
        assert via_wechat.json()["user"]["id"] == tokens["user"]["id"]

    async def test_scenario_2_wechat_first_then_phone(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        phone = new_phone()
        async with client_for(application) as http:
            tokens = (await miniapp_login(http, stubs, person())).json()
            await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "bind"})
            bound = await http.post(
                "/v1/me/identities/phone",
                json={"phone": phone, "code": await last_sms_code(application, phone)},
                headers=bearer(tokens),
            )
            assert bound.status_code == 204, bound.text
            by_phone = await sms_login(application, http, phone)
        assert by_phone["user"]["id"] == tokens["user"]["id"]
        assert by_phone["is_new_user"] is False

    async def test_binding_what_belongs_to_another_user_is_refused(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        who = person()
        taken_phone = new_phone()
        async with client_for(application) as http:
            await sms_login(application, http, taken_phone)
            wechat_user = (await miniapp_login(http, stubs, who)).json()
            await http.post("/v1/sms/codes", json={"phone": taken_phone, "purpose": "bind"})
            phone = await http.post(
                "/v1/me/identities/phone",
                json={"phone": taken_phone, "code": await last_sms_code(application, taken_phone)},
                headers=bearer(wechat_user),
            )
            other = await sms_login(application, http, new_phone())
            wechat = await http.post(
                "/v1/me/identities/wechat_app",
                json={"code": stubs.wechat.code_for(WECHAT_APP_ID, who), "app_id": WECHAT_APP_ID},
                headers=bearer(other),
            )
        assert phone.status_code == 409
        assert phone.json()["code"] == "identity_taken"
        assert phone.json()["detail"] == "该手机号已存在，无法绑定"
        assert wechat.status_code == 409
        assert wechat.json()["detail"] == "此账号已存在绑定"

    async def test_unbind_never_removes_the_last_way_in(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        phone = new_phone()
        async with client_for(application) as http:
            tokens = (await miniapp_login(http, stubs, person())).json()
            last = await http.delete("/v1/me/identities/wechat_miniapp", headers=bearer(tokens))
            assert last.status_code == 409
            assert last.json()["code"] == "last_login_method"
            await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "bind"})
            await http.post(
                "/v1/me/identities/phone",
                json={"phone": phone, "code": await last_sms_code(application, phone)},
                headers=bearer(tokens),
            )
            ok = await http.delete("/v1/me/identities/wechat_miniapp", headers=bearer(tokens))
            assert ok.status_code == 204
            listed = await http.get("/v1/me/identities", headers=bearer(tokens))
            missing = await http.delete("/v1/me/identities/qq", headers=bearer(tokens))
        assert [item["type"] for item in listed.json()] == ["phone"]
        assert missing.status_code == 404

    async def test_rebinding_the_phone_needs_a_code_to_the_old_one(
        self, make_app: AppFactory, stubs: RunningStubs, db: Database
    ) -> None:
        application = await linked_app(make_app, stubs)
        old, new = new_phone(), new_phone()
        async with client_for(application) as http:
            tokens = await sms_login(application, http, old)
            await http.post("/v1/sms/codes", json={"phone": new, "purpose": "bind"})
            plain = await http.post(
                "/v1/me/identities/phone",
                json={"phone": new, "code": await last_sms_code(application, new)},
                headers=bearer(tokens),
            )
            assert plain.json()["code"] == "already_bound"
            await http.post("/v1/sms/codes", json={"phone": new, "purpose": "change_phone"})
            await http.post("/v1/sms/codes", json={"phone": old, "purpose": "change_phone"})
            rebound = await http.post(
                "/v1/me/identities/phone",
                json={
                    "phone": new,
                    "code": await last_sms_code(application, new),
                    "old_code": await last_sms_code(application, old),
                },
                headers=bearer(tokens),
            )
            assert rebound.status_code == 204, rebound.text
            by_new = await sms_login(application, http, new)
        assert by_new["user"]["id"] == tokens["user"]["id"]
        async with db.read_session() as session:
            change = await session.scalar(
                select(ProfileChange).where(ProfileChange.action == "rebind")
            )
        assert change is not None
        assert change.old_value == f"{old[:3]}****{old[-4:]}"
        assert change.new_value == f"{new[:3]}****{new[-4:]}"


class TestOtherProviders:
    async def _state(self, http: httpx.AsyncClient, app_type: str, app_id: str) -> str:
        authorize = await http.get(
            f"/v1/auth/oauth/{app_type}/authorize",
            params={"redirect_uri": f"https://example.test/callback/{app_type}", "app_id": app_id},
        )
        assert authorize.status_code == 200, authorize.text
        state: str = authorize.json()["state"]
        return state

    async def test_qq_weibo_alipay_and_apple_log_in_and_come_back_to_the_same_user(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        who = person()
        async with client_for(application) as http:
            answers = {}
            for _ in range(2):
                qq = await http.post(
                    "/v1/auth/oauth/qq",
                    json={
                        "code": stubs.qq.code_for(QQ_APP_ID, who),
                        "state": await self._state(http, "qq", QQ_APP_ID),
                        "app_id": QQ_APP_ID,
                    },
                )
                weibo = await http.post(
                    "/v1/auth/oauth/weibo",
                    json={
                        "code": stubs.weibo.code_for(WEIBO_APP_ID, who),
                        "state": await self._state(http, "weibo", WEIBO_APP_ID),
                    },
                )
                alipay = await http.post(
                    "/v1/auth/oauth/alipay",
                    json={"code": stubs.alipay.code_for(ALIPAY_APP_ID, who)},
                )
                apple = await http.post(
                    "/v1/auth/oauth/apple",
                    json={
                        "id_token": stubs.apple.mint_id_token(person=who, nonce="n-123"),
                        "nonce": "n-123",
                    },
                )
                for name, response in (
                    ("qq", qq),
                    ("weibo", weibo),
                    ("alipay", alipay),
                    ("apple", apple),
                ):
                    assert response.status_code == 200, (name, response.text)
                    answers.setdefault(name, []).append(response.json()["user"]["id"])
        for name, ids in answers.items():
            assert ids[0] == ids[1], name  # the second login finds the first one's user
        # No unionid ties these providers together: four separate users.
        assert len({ids[0] for ids in answers.values()}) == 4

    async def test_apple_token_with_the_wrong_nonce_is_refused(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        async with client_for(application) as http:
            response = await http.post(
                "/v1/auth/oauth/apple",
                json={"id_token": stubs.apple.mint_id_token(nonce="right"), "nonce": "wrong"},
            )
        assert response.status_code == 400
        assert response.json()["code"] == "provider_code_invalid"

    async def test_rebinding_wechat_needs_a_fresh_login_through_it(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs)
        first, second = person(), person()
        async with client_for(application) as http:
            by_phone = await sms_login(application, http, new_phone())
            await http.post(
                "/v1/me/identities/wechat_app",
                json={"code": stubs.wechat.code_for(WECHAT_APP_ID, first), "app_id": WECHAT_APP_ID},
                headers=bearer(by_phone),
            )
            replace = {
                "code": stubs.wechat.code_for(WECHAT_APP_ID, second),
                "app_id": WECHAT_APP_ID,
            }
            stale = await http.post(
                "/v1/me/identities/wechat_app", json=replace, headers=bearer(by_phone)
            )
            assert stale.status_code == 403
            assert stale.json()["code"] == "fresh_proof_required"
            fresh = (
                await http.post(
                    "/v1/auth/oauth/wechat_app",
                    json={
                        "code": stubs.wechat.code_for(WECHAT_APP_ID, first),
                        "app_id": WECHAT_APP_ID,
                    },
                )
            ).json()
            replace["code"] = stubs.wechat.code_for(WECHAT_APP_ID, second)
            rebound = await http.post(
                "/v1/me/identities/wechat_app", json=replace, headers=bearer(fresh)
            )
            assert rebound.status_code == 204, rebound.text
            via_second = await http.post(
                "/v1/auth/oauth/wechat_app",
                json={
                    "code": stubs.wechat.code_for(WECHAT_APP_ID, second),
                    "app_id": WECHAT_APP_ID,
                },
            )
        assert via_second.json()["user"]["id"] == by_phone["user"]["id"]

    async def test_session_key_never_reaches_logs_or_answers(
        self, make_app: AppFactory, stubs: RunningStubs
    ) -> None:
        application = await linked_app(make_app, stubs, log_level="DEBUG")
        who = person()
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(build_formatter(LogFormat.JSON))
        logging.getLogger().addHandler(handler)
        try:
            async with client_for(application) as http:
                response = await miniapp_login(http, stubs, who)
        finally:
            logging.getLogger().removeHandler(handler)
        openid = stubs.wechat.openid_for(WECHAT_MINIAPP_ID, who)
        session_key = stubs.wechat.session_keys[(WECHAT_MINIAPP_ID, openid)]
        assert response.status_code == 200
        assert session_key not in response.text
        assert stream.getvalue(), "nothing was logged at DEBUG"
        assert session_key not in stream.getvalue()


async def test_a_known_openid_gets_its_unionid_filled_in_when_it_first_comes_back(
    make_app: AppFactory, stubs: RunningStubs
) -> None:
    """An app bound to the open platform only later: the next login records the unionid, and
    from then on the person's other apps land on the same user."""
    application = await linked_app(make_app, stubs)
    who = person()
    app = stubs.wechat.apps[WECHAT_MINIAPP_ID]
    async with client_for(application) as http:
        app.is_bound = False
        try:
            before = (await miniapp_login(http, stubs, who)).json()
        finally:
            app.is_bound = True
        after = (await miniapp_login(http, stubs, who)).json()
        official = await oauth_login(http, stubs, WECHAT_OFFICIAL_ID, who)
    assert after["user"]["id"] == before["user"]["id"]
    assert official.json()["user"]["id"] == before["user"]["id"]
    assert official.json()["is_new_user"] is False
