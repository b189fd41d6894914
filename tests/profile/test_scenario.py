"""One user tells the business everything the profile holds, the way a mini program would: the
change log has an entry for every kind of change, and the personal data in it (the real name,
the ID number, a receiver's phone, an address's detail, the payment password) is nowhere in
plaintext — not in the database file, the log, any event or the change log itself."""

from __future__ import annotations

import io

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from tests.conftest import sqlite_files
from tests.factories import services_of
from tests.identity.conftest import bearer, client_for, new_phone, new_username, sms_login
from tests.identity.test_bind_email_username import bind_email
from tests.profile.payment_helpers import PAYMENT_PASSWORD, Payer, set_payment_password
from tests.profile.verification_helpers import id_number, submission
from usercenter.events.models import OutboxEvent
from usercenter.identity.models import ExtendType
from usercenter.identity.service.extends import ExtendKeyDraft

REAL_NAME = "司马长风"
DETAIL = "珠江新城花城大道68号"


async def changes(http: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, str]]:
    """Every entry of the user's change log, following the cursor."""
    found: list[dict[str, str]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "50", **({"cursor": cursor} if cursor else {})}
        page = await http.get("/v1/me/changes", params=params, headers=headers)
        assert page.status_code == 200, page.text
        found += page.json()["items"]
        cursor = page.json().get("next_cursor")
        if not cursor:
            return found


async def test_every_kind_of_change_is_logged_and_nothing_personal_is_in_plaintext(
    profile_app: FastAPI, database_url: str, captured: io.StringIO
) -> None:
    services = services_of(profile_app)
    async with services.database.unit_of_work() as session:
        await services.extends.create_key(
            session,
            ExtendKeyDraft(
                key="school", label="学校", type=ExtendType.STRING, is_user_editable=True
            ),
        )
    phone = new_phone()
    receiver_phone = new_phone()
    number = id_number("19880808", sequence="246")
    async with client_for(profile_app) as http:
        tokens = await sms_login(profile_app, http, phone)
        headers = bearer(tokens)
        user_id = int(tokens["user"]["id"])
        steps = [
            await http.patch(
                "/v1/me", json={"nickname": "长风", "region_code": "440106"}, headers=headers
            ),
            await http.patch("/v1/me/extends", json={"school": "中山大学"}, headers=headers),
            await http.post(
                "/v1/me/addresses",
                json={
                    "receiver_name": REAL_NAME,
                    "receiver_phone": receiver_phone,
                    "region_code": "440106",
                    "detail": DETAIL,
                },
                headers=headers,
            ),
            await http.post(
                "/v1/me/verification", json=submission(number, name=REAL_NAME), headers=headers
            ),
            await bind_email(profile_app, http, tokens, f"{new_username()}@example.org"),
            await http.post(
                "/v1/me/consents", json={"kind": "location", "granted": True}, headers=headers
            ),
        ]
        for response in steps:
            assert response.status_code < 300, response.text
        await set_payment_password(profile_app, http, Payer(user_id, phone, headers))
        logged = await changes(http, headers)

    attributes = {entry["attribute"] for entry in logged}
    for expected in ("nickname", "region", "extends.school", "email"):
        assert expected in attributes, (expected, sorted(attributes))
    for prefix in ("address", "verification", "payment_password", "consent"):
        assert any(a.startswith(prefix) for a in attributes), (prefix, sorted(attributes))

    secrets = [REAL_NAME, number, receiver_phone, DETAIL, PAYMENT_PASSWORD]
    assert not [s for s in secrets if s in str(logged)]
    async with services.database.read_session() as session:
        data = (
            await session.scalars(
                select(OutboxEvent.data).where(OutboxEvent.subject == f"users/{user_id}")
            )
        ).all()
    assert len(data) >= 8
    assert not [s for s in secrets if s in str(data)]
    assert captured.getvalue()
    assert not [s for s in secrets if s in captured.getvalue()]
    if database_url.startswith("sqlite"):
        blob = sqlite_files(database_url)
        assert not [s for s in secrets if s.encode() in blob]
