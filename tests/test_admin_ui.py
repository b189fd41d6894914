"""The admin console at /admin/: the committed build is served as a browser needs it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from usercenter import admin_ui


def referenced(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/admin/[^"]+)"', page)


async def test_the_console_page_is_served_uncached_with_a_strict_policy(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/admin/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    # The policy allows no inline script, so the build must not need one.
    scripts = re.findall(r"<script\b[^>]*>", response.text)
    assert scripts
    assert all(" src=" in tag for tag in scripts)
    assert 'type="password"' not in response.text  # rendered by the script, not the page


async def test_every_asset_of_the_page_loads_and_is_cached_for_good(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/admin/")).text
    assets = referenced(page)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        if asset.endswith(".js"):
            assert response.headers["content-type"].startswith("text/javascript")
        if asset.endswith(".css"):
            assert response.headers["content-type"].startswith("text/css")


async def test_a_client_route_answers_the_page_so_a_reload_works(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/admin/")).text
    for route in ("/admin/login", "/admin/users/42", "/admin/wallet/adjustments?status=x"):
        response = await client.get(route)
        assert response.status_code == 200, route
        assert response.text == page
    bare = await client.get("/admin")
    assert bare.status_code == 308
    assert bare.headers["location"] == "/admin/"


async def test_a_missing_asset_is_a_404_problem_not_the_page(client: httpx.AsyncClient) -> None:
    for path in ("/admin/assets/index-missing.js", "/admin/assets/..%2Fadmin_ui.py", "/admin/x.js"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "not_found"


async def test_without_a_build_the_console_says_so(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_ui, "DIST", tmp_path / "dist")
    response = await client.get("/admin/users", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "console_not_built"
    assert "npm run build" in body["detail"]
    assert (await client.get("/admin/assets/index.js")).status_code == 503
    # The API is unaffected.
    assert (await client.get("/healthz")).status_code == 200


def test_the_build_is_inside_the_python_package() -> None:
    dist = Path(admin_ui.__file__).parent / "dist"
    assert (dist / "index.html").is_file()
    assert any((dist / "assets").glob("*.js"))
