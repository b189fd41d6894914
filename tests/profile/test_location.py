"""The last known location (seed 001 user_location): precise coordinates only under the
user's location consent, stored encrypted, erased when the consent is withdrawn."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.conftest import sqlite_files
from tests.identity.conftest import bearer, new_username, register
from usercenter.audit.models import ProfileChange
from usercenter.db import Database
from usercenter.profile.models import UserLocation

HERE = {"latitude": "23.1291631", "longitude": "113.2644352", "region_code": "440104"}


async def set_location_consent(
    http: httpx.AsyncClient, tokens: dict[str, Any], granted: bool
) -> None:
    response = await http.post(
        "/v1/me/consents",
        json={"kind": "location", "granted": granted},
        headers=bearer(tokens),
    )
    assert response.status_code == 200, response.text


async def stored(db: Database, user_id: int) -> UserLocation | None:
    async with db.read_session() as session:
        return await session.get(UserLocation, user_id)


class TestConsent:
    async def test_coordinates_without_the_consent_are_refused_and_nothing_is_written(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        tokens = await register(http, new_username())
        refused = await http.put("/v1/me/location", json=HERE, headers=bearer(tokens))
        await set_location_consent(http, tokens, True)
        await set_location_consent(http, tokens, False)
        withdrawn = await http.put("/v1/me/location", json=HERE, headers=bearer(tokens))
        for answer in (refused, withdrawn):
            assert answer.status_code == 403
            assert answer.json()["code"] == "consent_required"
            assert answer.json()["errors"][0]["field"] == "latitude"
        assert await stored(db, int(tokens["user"]["id"])) is None

    async def test_a_region_alone_needs_no_consent(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        tokens = await register(http, new_username())
        put = await http.put(
            "/v1/me/location",
            json={"region_code": "440104", "source": "ip"},
            headers=bearer(tokens),
        )
        assert put.status_code == 200, put.text
        assert put.json()["location"] == {
            **put.json()["location"],
            "latitude": None,
            "region_code": "440104",
            "source": "ip",
        }

    async def test_with_the_consent_it_is_kept_encrypted_and_erased_on_withdrawal(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database, database_url: str
    ) -> None:
        tokens = await register(http, new_username())
        user_id = int(tokens["user"]["id"])
        await set_location_consent(http, tokens, True)
        put = await http.put("/v1/me/location", json=HERE, headers=bearer(tokens))
        got = await http.get("/v1/me/location", headers=bearer(tokens))
        assert put.status_code == 200, put.text
        location = got.json()["location"]
        assert location["latitude"] == "23.1291631"
        assert location["longitude"] == "113.2644352"
        assert location["source"] == "gps"
        row = await stored(db, user_id)
        assert row is not None
        assert row.coordinates_encrypted
        assert "23.129" not in row.coordinates_encrypted
        if make_url(database_url).get_backend_name() == "sqlite":
            content = sqlite_files(database_url)
            assert b"23.1291631" not in content
            assert b"113.2644352" not in content
        await set_location_consent(http, tokens, False)
        after = await http.get("/v1/me/location", headers=bearer(tokens))
        assert after.json()["location"]["latitude"] is None
        assert after.json()["location"]["region_code"] == "440104"
        row = await stored(db, user_id)
        assert row is not None
        assert row.coordinates_encrypted is None
        async with db.read_session() as session:
            erased = await session.scalar(
                select(ProfileChange).where(
                    ProfileChange.user_id == user_id,
                    ProfileChange.attribute == "location.coordinates",
                    ProfileChange.action == "erase",
                )
            )
        assert erased is not None


class TestInput:
    async def test_bad_coordinates_and_regions_are_refused_by_field(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        tokens = await register(http, new_username())
        await set_location_consent(http, tokens, True)
        cases = [
            ({"latitude": "91", "longitude": "0"}, "latitude"),
            ({"latitude": "0", "longitude": "-180.5"}, "longitude"),
            ({"latitude": "23.12345678", "longitude": "113"}, "latitude"),
            ({"latitude": "23.1"}, "longitude"),
            ({"region_code": "44010x"}, "region_code"),
            ({}, "latitude"),
        ]
        for body, field in cases:
            answer = await http.put("/v1/me/location", json=body, headers=bearer(tokens))
            assert answer.status_code == 422, (body, answer.text)
            assert answer.json()["errors"][0]["field"].endswith(field), (body, answer.json())
        assert await stored(db, int(tokens["user"]["id"])) is None
