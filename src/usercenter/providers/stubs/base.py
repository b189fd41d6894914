"""What every provider stub shares: serving a Starlette app in a thread, the codes a stub hands
out and redeems, magic codes, and the base class that keeps a stub's apps and counters."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from usercenter.providers.base import AppCredentials

SLOW_SECONDS = 3.0
CODE_TTL_SECONDS = 300.0
DEFAULT_PERSON = "alice"
DEFAULT_PHONE = "+8613812345678"


# --- serving ----------------------------------------------------------------------------------


@contextmanager
def serve(app: Starlette, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run `app` under uvicorn in a thread (on a free port unless `port` is given); yields its
    base URL, without a trailing slash."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,  # leave the service's logging alone
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            sock.close()
            raise RuntimeError("stub server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_port() -> int:
    """A port nothing listens on (for 'provider down' tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- codes ------------------------------------------------------------------------------------


@dataclass
class StubGrant:
    """One code handed out by a stub: whose, for which app, and how the stub should treat it."""

    app_id: str
    person: str
    expires_at: float
    scope: str = ""
    phone: str | None = None
    redirect_uri: str | None = None
    busy_times: int = 0
    profile_error: int | None = None
    is_snapshot_user: bool = False
    is_used: bool = False

    @property
    def is_expired(self) -> bool:
        return time.monotonic() > self.expires_at


# Why a code was not redeemed: unknown, expired or of another app; used before; for another
# redirect URI; or the stub plays busy this time.
Refusal = Literal["invalid", "used", "redirect_mismatch", "busy"]


class Grants:
    """The codes one stub has handed out, single-use and valid CODE_TTL_SECONDS."""

    def __init__(self) -> None:
        self._grants: dict[str, StubGrant] = {}

    def issue(self, app_id: str, person: str, **details: Any) -> str:
        """A new code for `person` in `app_id` (`details`: the other StubGrant fields)."""
        code = secrets.token_urlsafe(18)
        expires_at = time.monotonic() + CODE_TTL_SECONDS
        self._grants[code] = StubGrant(app_id, person, expires_at, **details)
        return code

    def get(self, code: str) -> StubGrant | None:
        return self._grants.get(code)

    def redeem(
        self, code: str, app_id: str, *, redirect_uri: str | None = None
    ) -> StubGrant | Refusal:
        """The grant behind `code`, now used; or why not, checked in the vendors' order."""
        grant = self._grants.get(code)
        if grant is None or grant.app_id != app_id or grant.is_expired:
            return "invalid"
        if grant.is_used:
            return "used"
        if grant.redirect_uri is not None and grant.redirect_uri != redirect_uri:
            return "redirect_mismatch"
        if grant.busy_times > 0:
            grant.busy_times -= 1
            return "busy"
        grant.is_used = True
        return grant


@dataclass
class PersonToken:
    """An access token a stub handed out: whose, and the profile error it was asked to give."""

    app_id: str
    person: str
    profile_error: int | None


# --- answers ----------------------------------------------------------------------------------


def digest(*parts: str) -> bytes:
    return hashlib.sha256("|".join(parts).encode()).digest()


def b64id(*parts: str, length: int) -> str:
    return base64.urlsafe_b64encode(digest(*parts)).decode().rstrip("=")[:length]


def redirect_back(redirect_uri: str, **params: str) -> RedirectResponse:
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)


def magic_code(
    code: str, prefix: str, words: str = "slow|busy|tampered|unsigned"
) -> tuple[str, int | None] | None:
    """(`slow` | `busy` | … | `http` | `error`, number) for a magic code of this stub (a word
    of `words`, `http-<status>` or a number), else None."""
    match = re.fullmatch(
        rf"{prefix}-(?:(?P<word>{words})|http-(?P<status>\d{{3}})|(?P<number>-?\d+))", code
    )
    if match is None:
        return None
    if match["word"]:
        return match["word"], None
    if match["status"]:
        return "http", int(match["status"])
    return "error", int(match["number"])


def http_failure(status: int) -> Response:
    return PlainTextResponse(f"<html>{status}</html>", status_code=status)


AppT = TypeVar("AppT")


class VendorStub(Generic[AppT]):
    """The state every stub keeps: its apps, the codes it handed out, how many requests carried
    each code (`calls[code]`), and how long a `slow` magic code takes."""

    magic_prefix = ""  # `wx`, `qq`, …: the stub's magic codes start with it
    magic_words = "slow"  # the words of its magic codes (`<prefix>-slow`, …)

    def __init__(self, *, slow_seconds: float = SLOW_SECONDS) -> None:
        self.slow_seconds = slow_seconds
        self.apps: dict[str, AppT] = {}
        self.calls: Counter[str] = Counter()
        self._codes = Grants()

    def _register(self, app_id: str, app: AppT) -> AppT:
        self.apps[app_id] = app
        return app

    def credentials(self, app_id: str, base_url: str, **extra: Any) -> AppCredentials:
        """What the service should be configured with to log in through this stub's app
        `app_id` served at `base_url` (`extra` added to the app's `extra`)."""
        configured = self._credentials(self.apps[app_id], base_url)
        return replace(configured, extra={**configured.extra, **extra})

    def _credentials(self, app: AppT, base_url: str) -> AppCredentials:
        raise NotImplementedError

    def code_for(self, app_id: str, person: str = DEFAULT_PERSON) -> str:
        """A login code for `person` in `app_id` (KeyError for an app the stub does not know)."""
        if app_id not in self.apps:
            raise KeyError(app_id)
        return self._codes.issue(app_id, person)

    async def magic_failure(
        self, code: str, render: Callable[[int], Response], default: int
    ) -> Response | None:
        """The answer to a magic code: after `slow_seconds` for `slow`, an HTTP failure for
        `http-<status>`, `render(number)` for a number and `render(default)` for the rest."""
        magic = magic_code(code, self.magic_prefix, self.magic_words)
        if magic is None:
            return None
        kind, number = magic
        if kind == "slow":
            await asyncio.sleep(self.slow_seconds)
        elif kind == "http" and number is not None:
            return http_failure(number)
        return render(number if kind == "error" and number is not None else default)

    async def _stub_code(self, request: Request) -> Response:
        """`GET /_stub/code?app_id=&person=`: a code over HTTP, for demos across processes."""
        query = request.query_params
        if query.get("app_id", "") not in self.apps:
            return JSONResponse({"error": "unknown app_id"}, status_code=404)
        return JSONResponse({"code": self.code_for(query["app_id"], query.get("person", "alice"))})


class OAuthVendorStub(VendorStub[AppT]):
    """A stub whose authorize page takes `client_id` and `redirect_uri` (QQ, Weibo), and whose
    codes may be bound to that redirect URI."""

    def code_for(
        self,
        app_id: str,
        person: str = DEFAULT_PERSON,
        *,
        redirect_uri: str | None = None,
        profile_error: int | None = None,
    ) -> str:
        """An authorization code; checked against `redirect_uri` when given."""
        if app_id not in self.apps:
            raise KeyError(app_id)
        return self._codes.issue(
            app_id, person, redirect_uri=redirect_uri, profile_error=profile_error
        )

    async def _authorize(self, request: Request) -> Response:
        """The consent page, consented at once for `person` (alice unless the URL says)."""
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id", "") not in self.apps or not redirect_uri:
            return PlainTextResponse("invalid client_id or redirect_uri", status_code=400)
        code = self.code_for(
            query["client_id"], query.get("person", DEFAULT_PERSON), redirect_uri=redirect_uri
        )
        return redirect_back(redirect_uri, code=code, state=query.get("state", ""))
