"""The System menu in the permission tree: its node and buttons, held by the super admin only
among the seeded staff roles."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.platform.conftest import AppFactory, client_for, make_staff, staff_token

SYSTEM = {"menu:system", "dict:manage", "config:manage", "client_app:manage", "events:view"}


@pytest.fixture
async def app(make_app: AppFactory) -> FastAPI:
    return await make_app()


class TestSystemMenu:
    async def test_the_tree_has_the_menu_and_its_buttons(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            _, username = await make_staff(app, "super_admin")
            headers = await staff_token(http, username)
            tree = (await http.get("/v1/admin/permissions", headers=headers)).json()
        (menu,) = [node for node in tree if node["code"] == "menu:system"]
        assert (menu["kind"], menu["path"], menu["sort_order"]) == ("menu", "/system", 100)
        assert [(c["code"], c["kind"]) for c in menu["children"]] == [
            ("dict:manage", "button"),
            ("config:manage", "button"),
            ("client_app:manage", "button"),
            ("events:view", "button"),
        ]

    @pytest.mark.parametrize(
        ("role", "holds"),
        [("super_admin", True), ("operator", False), ("finance", False)],
    )
    async def test_only_the_super_admin_holds_it(
        self, app: FastAPI, role: str, holds: bool
    ) -> None:
        async with client_for(app) as http:
            _, username = await make_staff(app, role)
            headers = await staff_token(http, username)
            me = (await http.get("/v1/admin/me", headers=headers)).json()
        assert (set(me["permissions"]) >= SYSTEM) is holds
        assert bool(SYSTEM & set(me["permissions"])) is holds
