"""What the OAuth adapters with JSON answers (QQ, Weibo, WeChat) share: a call to the vendor's
API, its answer read as JSON, the vendor's error found in it and mapped to ours, the failure
logged (`VendorHttp.fail`), and the login and profile steps every code exchange takes.

Each adapter keeps only what is its own: its API base, how its answers are read (QQ's JSONP),
where its error stands in an answer (`fault`), which error numbers mean a bad code
(`code_invalid`) or a refusal (`rejected`) — every other number is ProviderUnavailable — and
which answers are busy and worth another try (WeChat's -1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, NoReturn

import httpx

from usercenter.providers.base import AppCredentials, ExternalIdentity, LoginProof
from usercenter.providers.errors import (
    ProviderCodeInvalid,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from usercenter.providers.vendor_http import VendorHttp, json_object

UNREADABLE = -1  # the error number of a vendor error that is not a number

# Our error for a vendor error number.
ErrorMapping = Callable[[int], type[ProviderError]]


@dataclass(frozen=True, slots=True)
class VendorFault:
    """A vendor's error in an answer: its number (what it maps by), what the logs call it, and
    the vendor's message."""

    number: int
    vendor_code: str
    message: object = None


def vendor_number(value: Any, unreadable: int = UNREADABLE) -> int:
    """An error number as the vendor sent it (an int or a string of one), else `unreadable`."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return unreadable


def optional_text(value: object) -> str | None:
    """A non-empty string the vendor sent, or None."""
    return value if isinstance(value, str) and value else None


class JsonVendorApi:
    """Calls to one vendor's JSON API for one adapter; `app.extra["api_base"]` points an app at
    another host (a local stub)."""

    provider: ClassVar[str]
    code_invalid: ClassVar[frozenset[int]] = frozenset()
    rejected: ClassVar[frozenset[int]] = frozenset()

    def __init__(
        self,
        http: httpx.AsyncClient | None,
        api_base: str,
        *,
        timeout: float,
        retries: int,
        backoff: float,
    ) -> None:
        self.http = VendorHttp(
            self.provider, http, timeout=timeout, retries=retries, backoff=backoff
        )
        self.api_base = api_base

    # --- what each vendor says ----------------------------------------------------------------

    def read(self, response: httpx.Response) -> dict[str, Any] | None:
        """The answer as a dict, or None when it is not one."""
        return json_object(response)

    def is_busy(self, response: httpx.Response) -> str | None:
        """The vendor code of a busy answer (tried again), None for a final one."""
        return None

    def fault(self, data: dict[str, Any]) -> VendorFault | None:
        """The vendor's error in an answer, None when it carries none."""
        raise NotImplementedError

    def error_for(self, number: int) -> type[ProviderError]:
        """Our error for a vendor error number (ProviderUnavailable for every one not listed)."""
        if number in self.code_invalid:
            return ProviderCodeInvalid
        if number in self.rejected:
            return ProviderRejected
        return ProviderUnavailable

    # --- the calls ----------------------------------------------------------------------------

    def base(self, app: AppCredentials) -> str:
        return str(app.extra.get("api_base") or self.api_base).rstrip("/")

    async def call(
        self,
        app: AppCredentials,
        method: str,
        path: str,
        *,
        operation: str,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        json_body: Any = None,
        check: bool = True,
        mapping: ErrorMapping | None = None,
    ) -> dict[str, Any]:
        """The answer as a dict (busy answers retried), ProviderUnavailable when it is not
        JSON; an error answer raises our error (see `check`), or is returned as it is when
        `check` is false."""
        response = await self.http.request(
            method,
            self.base(app) + path,
            app_id=app.app_id,
            operation=operation,
            params=params,
            data=data,
            json_body=json_body,
            is_busy=self.is_busy,
        )
        answer = self.read(response)
        if answer is None:
            self.unavailable(
                app,
                operation=operation,
                vendor_code=f"HTTP {response.status_code} without JSON",
            )
        if check:
            self.check(app, answer, operation=operation, mapping=mapping)
        return answer

    def check(
        self,
        app: AppCredentials,
        data: dict[str, Any],
        *,
        operation: str,
        mapping: ErrorMapping | None = None,
    ) -> None:
        """Raise our error (by `mapping`, else `error_for`) when the answer is an error."""
        fault = self.fault(data)
        if fault is None:
            return
        raise self.http.failure(
            (mapping or self.error_for)(fault.number),
            app_id=app.app_id,
            operation=operation,
            vendor_code=fault.vendor_code,
            message=fault.message,
        )

    def text(self, app: AppCredentials, data: dict[str, Any], key: str, *, operation: str) -> str:
        """The non-empty string `data[key]`; ProviderUnavailable when the answer lacks it."""
        value = data.get(key)
        if not isinstance(value, str) or not value:
            self.unavailable(app, operation=operation, vendor_code=f"answer without {key}")
        return value

    def unavailable(
        self, app: AppCredentials, *, operation: str, vendor_code: str, loud: bool = False
    ) -> NoReturn:
        """Log and raise ProviderUnavailable (`loud`: an error, for a forged answer)."""
        raise self.http.failure(
            ProviderUnavailable,
            app_id=app.app_id,
            operation=operation,
            vendor_code=vendor_code,
            loud=loud,
        )


# --- the steps of a code exchange -------------------------------------------------------------


def code_and_redirect_uri(provider: str, app: AppCredentials, proof: LoginProof) -> tuple[str, str]:
    """The code and the redirect URI it was issued for (the proof's, else the app's);
    ProviderCodeInvalid when either is missing."""
    if not proof.code:
        raise ProviderCodeInvalid(provider=provider, vendor_code="missing code")
    redirect_uri = proof.redirect_uri or app.extra.get("redirect_uri")
    if not redirect_uri:
        raise ProviderCodeInvalid(
            provider=provider, vendor_code="missing redirect_uri", field="redirect_uri"
        )
    return proof.code, str(redirect_uri)


def wants_profile(app: AppCredentials) -> bool:
    """Whether to fetch the profile after login (`extra["fetch_profile"]`, true unless false)."""
    return app.extra.get("fetch_profile", True) is not False


def with_profile(
    identity: ExternalIdentity, *, nickname: object, avatar: object, union_id: object = None
) -> ExternalIdentity:
    """`identity` with what the profile said (a unionid there wins over the token's)."""
    return replace(
        identity,
        union_id=optional_text(union_id) or identity.union_id,
        nickname=optional_text(nickname),
        avatar_url=optional_text(avatar),
    )


@dataclass(frozen=True, slots=True)
class ProfileCall:
    """The GET that fetches a person's profile; `check`: whether its errors are the vendor's
    usual ones (else `_read_profile` judges the answer)."""

    path: str
    operation: str
    params: dict[str, str]
    check: bool = True


class JsonOAuthProvider:
    """The adapter half: built with the vendor's API (`api_class`) on a shared HTTP client (or
    a short-lived one per call), bounded by `timeout`, busy answers and timeouts tried again
    `retries` times with `backoff` seconds' growing pause."""

    api_class: ClassVar[type[JsonVendorApi]]
    default_api_base: ClassVar[str]

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        api_base: str | None = None,
        timeout: float = 5.0,
        retries: int = 1,
        backoff: float = 0.2,
    ) -> None:
        self._api = self.api_class(
            http,
            api_base or self.default_api_base,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
        )

    def _profile_call(
        self, app: AppCredentials, identity: ExternalIdentity, access_token: str
    ) -> ProfileCall:
        """Where the vendor's profile of the person is (adapters whose profile is a nicety)."""
        raise NotImplementedError

    def _read_profile(
        self, app: AppCredentials, identity: ExternalIdentity, info: dict[str, Any]
    ) -> ExternalIdentity:
        """`identity` with what the profile answer `info` says."""
        raise NotImplementedError

    async def _profiled(
        self, app: AppCredentials, identity: ExternalIdentity, access_token: str
    ) -> ExternalIdentity:
        """`identity` with its profile, where the profile is a nicety: unless the app says
        `fetch_profile: false`, and without it (no nickname) when fetching it fails."""
        if not wants_profile(app):
            return identity
        call = self._profile_call(app, identity, access_token)
        try:
            info = await self._api.call(
                app,
                "GET",
                call.path,
                operation=call.operation,
                params=call.params,
                check=call.check,
            )
        except ProviderError:
            return identity
        return self._read_profile(app, identity, info)
