"""GB/T 2260 regions: the shipped tree, the validator, `GET /v1/regions` (cacheable, 304 on a
matching ETag), and the region of a user's profile (validated, shown with names, the cached
view dropped on change, an event and a change-log row)."""

from __future__ import annotations

import gzip
import json
from importlib import resources

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.identity.conftest import AppFactory, bearer, client_for, new_phone, sms_login
from usercenter.audit.models import ProfileChange
from usercenter.events.models import OutboxEvent
from usercenter.platform.errors import RegionInvalid, RegionNotFound
from usercenter.platform.service.regions import Regions


@pytest.fixture(scope="module")
def regions() -> Regions:
    return Regions()


class TestTree:
    def test_the_data_ships_inside_the_package_with_its_source(self) -> None:
        data = resources.files("usercenter.platform").joinpath("data", "regions.json.gz")
        document = json.loads(gzip.decompress(data.read_bytes()))
        assert "modood/Administrative-divisions-of-China" in document["source"]
        assert document["version"]

    def test_provinces_cities_districts(self, regions: Regions) -> None:
        provinces = {r.code: r.name for r in regions.children()}
        assert len(provinces) >= 31
        assert provinces["440000"] == "广东省"
        assert provinces["110000"] == "北京市"
        assert {r.code: r.name for r in regions.children("440000")}["440100"] == "广州市"
        assert {r.code: r.name for r in regions.children("440100")}["440106"] == "天河区"
        assert regions.children("440106") == []

    def test_unknown_parent_is_not_found(self, regions: Regions) -> None:
        with pytest.raises(RegionNotFound):
            regions.children("999999")


class TestResolve:
    def test_a_district_with_its_city_and_province(self, regions: Regions) -> None:
        found = regions.resolve("440106")
        assert found.as_dict() == {
            "province": {"code": "440000", "name": "广东省"},
            "city": {"code": "440100", "name": "广州市"},
            "district": {"code": "440106", "name": "天河区"},
        }

    def test_a_municipality_is_its_own_city(self, regions: Regions) -> None:
        found = regions.resolve("110105")
        assert (found.province.name, found.city.code, found.city.name) == (
            "北京市",
            "110100",
            "北京市",
        )
        assert found.district.name == "朝阳区"
        chongqing = {r.code: r.name for r in regions.children("500000")}
        assert chongqing["500100"] == "重庆市"

    def test_a_province_administered_county(self, regions: Regions) -> None:
        found = regions.resolve("419001")
        assert (found.province.code, found.city.code, found.district.name) == (
            "410000",
            "419000",
            "济源市",
        )
        assert regions.resolve("429004").district.name == "仙桃市"

    def test_a_city_without_counties_is_its_own_district(self, regions: Regions) -> None:
        found = regions.resolve("441900")
        assert (found.city.name, found.district.code) == ("东莞市", "441900")

    @pytest.mark.parametrize("code", ["440000", "440100", "999999", "440199", "abc", ""])
    def test_refuses_what_is_not_a_district_naming_the_field(
        self, regions: Regions, code: str
    ) -> None:
        with pytest.raises(RegionInvalid) as raised:
            regions.resolve(code, field="region_code")
        assert raised.value.field == "region_code"
        assert raised.value.status == 422


class TestRegionsRoute:
    async def test_tree_over_http_cacheable(self, profile_app: FastAPI) -> None:
        async with client_for(profile_app) as http:
            top = await http.get("/v1/regions")
            assert top.status_code == 200
            codes = {r["code"] for r in top.json()["items"]}
            assert "440000" in codes
            assert len(codes) >= 31
            assert "max-age" in top.headers["cache-control"]
            etag = top.headers["etag"]
            again = await http.get("/v1/regions", headers={"If-None-Match": etag})
            assert again.status_code == 304
            assert again.content == b""
            cities = await http.get("/v1/regions", params={"parent": "440000"})
            assert {"code": "440100", "name": "广州市"} in cities.json()["items"]
            districts = await http.get("/v1/regions", params={"parent": "440100"})
            assert {"code": "440106", "name": "天河区"} in districts.json()["items"]
            cached = await http.get(
                "/v1/regions", params={"parent": "440100"}, headers={"If-None-Match": etag}
            )
            assert cached.status_code == 304
            stale = await http.get("/v1/regions", headers={"If-None-Match": '"other"'})
            assert stale.status_code == 200

    async def test_unknown_or_malformed_parent(self, profile_app: FastAPI) -> None:
        async with client_for(profile_app) as http:
            unknown = await http.get("/v1/regions", params={"parent": "999999"})
            assert unknown.status_code == 404
            assert unknown.json()["code"] == "region_not_found"
            malformed = await http.get("/v1/regions", params={"parent": "44"})
            assert malformed.status_code == 422


class TestProfileRegion:
    @pytest.mark.parametrize("redis", [False, True], ids=["memory", "redis"])
    async def test_set_shown_cached_and_logged(
        self, make_profile_app: AppFactory, redis: bool
    ) -> None:
        app = await make_profile_app(redis=redis)
        async with client_for(app) as http:
            tokens = await sms_login(app, http, new_phone())
            headers = bearer(tokens)
            before = await http.get("/v1/me", headers=headers)
            assert before.json()["region"] is None  # cached now
            changed = await http.patch("/v1/me", json={"region_code": "440106"}, headers=headers)
            assert changed.status_code == 200, changed.text
            assert changed.json()["region"]["district"] == {"code": "440106", "name": "天河区"}
            shown = (await http.get("/v1/me", headers=headers)).json()["region"]
            assert shown == {
                "province": {"code": "440000", "name": "广东省"},
                "city": {"code": "440100", "name": "广州市"},
                "district": {"code": "440106", "name": "天河区"},
            }
            bad = await http.patch("/v1/me", json={"region_code": "440100"}, headers=headers)
            assert bad.status_code == 422
            assert bad.json()["code"] == "region_invalid"
            assert bad.json()["errors"][0]["field"] == "region_code"
            cleared = await http.patch("/v1/me", json={"region_code": None}, headers=headers)
            assert cleared.json()["region"] is None
            assert (await http.get("/v1/me", headers=headers)).json()["region"] is None
        user_id = int(tokens["user"]["id"])
        async with app.state.services.database.read_session() as session:
            changes = list(
                await session.scalars(
                    select(ProfileChange).where(
                        ProfileChange.user_id == user_id, ProfileChange.attribute == "region"
                    )
                )
            )
            events = list(
                await session.scalars(
                    select(OutboxEvent).where(
                        OutboxEvent.type == "usercenter.user.profile_changed",
                        OutboxEvent.subject == f"users/{user_id}",
                    )
                )
            )
        assert [c.new_value for c in changes][:1] == ["440106 广东省/广州市/天河区"]
        assert len(changes) == 2  # set, cleared (the refused change wrote nothing)
        assert all("region" in e.data["fields"] for e in events)
        assert len(events) == 2
