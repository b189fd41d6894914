"""The admin console at `/admin/`: the Vue build committed in `dist/` (sources in `console/`).

`/admin/` and any client route under it answer `index.html` (the console routes in the browser),
never cached, with a strict Content-Security-Policy; `/admin/assets/<name>` answers the
content-hashed file with a year-long immutable cache, and a missing one is a 404 (not the page).
Without a build (a checkout where `dist/` was removed) the console answers a 503 problem.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from usercenter.errors import NotFound
from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text

DIST = Path(__file__).parent / "dist"
PREFIX = "/admin"

router = APIRouter(include_in_schema=False)

# Vite's build needs no inline script and no eval; Element Plus sets inline styles, the QR code
# and ECharts' exports are data: images.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# Asset names carry a content hash: a new build is a new name.
ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable"}
_ASSET_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
}


class ConsoleNotBuilt(UserCenterError):
    code = "console_not_built"
    status = 503
    title = Text("管理后台尚未构建", "The admin console is not built")
    detail_text = Text(
        "在 console/ 目录执行 npm ci && npm run build 生成 src/usercenter/admin_ui/dist",
        "Run npm ci && npm run build in console/ to produce src/usercenter/admin_ui/dist",
    )


def _index(dist: Path) -> FileResponse:
    index = dist / "index.html"
    if not index.is_file():
        raise ConsoleNotBuilt()
    return FileResponse(index, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@router.api_route(PREFIX, methods=["GET", "HEAD"])
async def console_root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/", status_code=308)


@router.api_route(PREFIX + "/assets/{name}", methods=["GET", "HEAD"])
async def console_asset(name: str) -> FileResponse:
    if not _ASSET_NAME.match(name):
        raise NotFound()
    path = DIST / "assets" / name
    if not path.is_file():
        if not (DIST / "index.html").is_file():
            raise ConsoleNotBuilt()
        raise NotFound()
    media_type = _MEDIA_TYPES.get(path.suffix)
    return FileResponse(path, media_type=media_type, headers=ASSET_HEADERS)


@router.api_route(PREFIX + "/{route:path}", methods=["GET", "HEAD"])
async def console_page(route: str) -> FileResponse:
    # Any client route (/admin/users/42, /admin/login…) is the page; the browser routes it.
    # A path under assets/ was matched above; one with a file extension is a missing file.
    if route.startswith("assets/") or re.search(r"\.[A-Za-z0-9]{1,8}$", route):
        raise NotFound()
    return _index(DIST)
