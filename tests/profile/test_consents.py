"""Consents (PIPL): grants and withdrawals recorded with time and client, the current state per
kind, and the policy versions every login answer still asks for."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories.access import make_role, make_staff, staff_token
from tests.identity.conftest import AppFactory, bearer, client_for, new_username, register
from usercenter.audit.models import ProfileChange
from usercenter.db import Database
from usercenter.events.models import OutboxEvent
from usercenter.profile.models import ConsentRecord, ConsentState

BOTH_V1 = [{"kind": "privacy_policy", "version": "1"}, {"kind": "terms", "version": "1"}]
CLIENT = {"X-Client-Name": "shop-miniapp", "X-Client-Version": "3.2.1"}


async def consent(http: httpx.AsyncClient, tokens: dict[str, Any], **body: Any) -> httpx.Response:
    return await http.post("/v1/me/consents", json=body, headers={**bearer(tokens), **CLIENT})


async def password_login(http: httpx.AsyncClient, username: str) -> dict[str, Any]:
    response = await http.post(
        "/v1/auth/password-login",
        json={"login": username, "password": "correct horse 42", "platform": "APP"},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


class TestConsentHistory:
    async def test_grants_and_withdrawals_are_each_recorded_with_their_client(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        tokens = await register(http, new_username())
        user_id = int(tokens["user"]["id"])
        assert (await consent(http, tokens, kind="marketing", granted=True)).status_code == 200
        withdrawn = await consent(http, tokens, kind="marketing", granted=False)
        again = await consent(http, tokens, kind="marketing", granted=False)
        policy = await consent(http, tokens, kind="privacy_policy", version="1", granted=True)
        listed = await http.get("/v1/me/consents", headers=bearer(tokens))
        history = await http.get("/v1/me/consents/history", headers=bearer(tokens))
        assert withdrawn.json()["granted"] is False
        assert again.status_code == 200  # nothing changes: no second record
        assert policy.json() == {**policy.json(), "kind": "privacy_policy", "version": "1"}
        items = {item["kind"]: item for item in listed.json()["items"]}
        assert items["marketing"]["granted"] is False
        assert items["privacy_policy"]["granted"] is True
        assert listed.json()["required"] == [{"kind": "terms", "version": "1"}]
        entries = history.json()["items"]
        assert [(e["kind"], e["granted"]) for e in entries] == [
            ("privacy_policy", True),
            ("marketing", False),
            ("marketing", True),
        ]
        assert entries[0]["client_name"] == "shop-miniapp"
        assert entries[0]["client_version"] == "3.2.1"
        assert entries[0]["platform"] == "WEB"
        assert entries[0]["ip_masked"].endswith(".*.*")
        async with db.read_session() as session:
            changes = list(
                await session.scalars(
                    select(ProfileChange)
                    .where(ProfileChange.user_id == user_id)
                    .order_by(ProfileChange.id)
                )
            )
            events = list(
                await session.scalars(
                    select(OutboxEvent.type)
                    .where(OutboxEvent.type.like("usercenter.consent.%"))
                    .order_by(OutboxEvent.id)
                )
            )
        assert [(c.action, c.attribute) for c in changes] == [
            ("grant", "consent.marketing"),
            ("withdraw", "consent.marketing"),
            ("grant", "consent.privacy_policy"),
        ]
        assert events == [
            "usercenter.consent.granted",
            "usercenter.consent.withdrawn",
            "usercenter.consent.granted",
        ]

    async def test_a_policy_is_granted_only_in_the_version_in_force(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        tokens = await register(http, new_username())
        old = await consent(http, tokens, kind="terms", version="0", granted=True)
        missing = await consent(http, tokens, kind="terms", granted=True)
        unknown = await consent(http, tokens, kind="cookies", granted=True)
        # A yes or no is a JSON boolean: 0, 1, "yes" or "false" say nothing for sure.
        for vague in (0, 1, "true", "no"):
            refused = await consent(http, tokens, kind="marketing", granted=vague)
            assert refused.status_code == 422, (vague, refused.text)
            assert refused.json()["errors"][0]["field"] == "granted"
        assert old.status_code == missing.status_code == 422
        assert old.json()["code"] == "consent_version_invalid"
        assert old.json()["errors"][0]["field"] == "version"
        assert unknown.status_code == 422
        async with db.read_session() as session:
            assert list(await session.scalars(select(ConsentRecord))) == []

    async def test_withdrawing_a_policy_is_recorded_and_asked_for_again(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        username = new_username()
        tokens = await register(http, username)
        for kind in ("privacy_policy", "terms"):
            await consent(http, tokens, kind=kind, version="1", granted=True)
        withdrawn = await consent(http, tokens, kind="terms", granted=False)
        answer = await password_login(http, username)
        assert withdrawn.status_code == 200
        assert withdrawn.json()["version"] == "1"
        assert answer["consents_required"] == [{"kind": "terms", "version": "1"}]

    async def test_the_first_answers_of_one_kind_at_once_leave_one_state(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        tokens = await register(http, new_username())
        answers = await asyncio.gather(
            *(consent(http, tokens, kind="marketing", granted=i % 2 == 0) for i in range(6))
        )
        assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
        async with db.read_session() as session:
            states = list(await session.scalars(select(ConsentState)))
            records = list(await session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))
        assert len(states) == 1
        assert states[0].granted == records[-1].granted


class TestLoginAnswers:
    async def test_logins_list_the_policies_until_accepted_and_again_after_a_new_version(
        self, make_app: AppFactory
    ) -> None:
        application = await make_app()
        username = new_username()
        async with client_for(application) as http:
            registered = await register(http, username)
            before = await password_login(http, username)
            for kind in ("privacy_policy", "terms"):
                accepted = await consent(http, registered, kind=kind, version="1", granted=True)
                assert accepted.status_code == 200, accepted.text
            after = await password_login(http, username)
        bumped = await make_app(profile_privacy_policy_version="2026-12")
        async with client_for(bumped) as http:
            later = await password_login(http, username)
            listed = await http.get("/v1/me/consents", headers=bearer(later))
            stale = await consent(http, later, kind="privacy_policy", version="1", granted=True)
            current = await consent(
                http, later, kind="privacy_policy", version="2026-12", granted=True
            )
            last = await password_login(http, username)
        assert registered["consents_required"] == BOTH_V1
        assert before["consents_required"] == BOTH_V1
        assert after["consents_required"] == []
        assert later["consents_required"] == [{"kind": "privacy_policy", "version": "2026-12"}]
        assert listed.json()["required"] == later["consents_required"]
        assert stale.status_code == 422
        assert current.status_code == 200
        assert last["consents_required"] == []


class TestStaffView:
    async def test_staff_read_a_users_consents_and_their_history(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        tokens = await register(http, new_username())
        await consent(http, tokens, kind="location", granted=True)
        await consent(http, tokens, kind="location", granted=False)
        _, username = await make_staff(app, await make_role(app, "user:view"))
        headers = await staff_token(http, username)
        path = f"/v1/admin/users/{tokens['user']['id']}/consents"
        seen = await http.get(path, headers=headers)
        refused = await http.get(path, headers=bearer(tokens))
        assert seen.status_code == 200, seen.text
        assert seen.json()["items"][0] == {**seen.json()["items"][0], "kind": "location"}
        assert seen.json()["required"] == BOTH_V1
        assert [e["granted"] for e in seen.json()["history"]] == [False, True]
        assert refused.status_code in (401, 403)
