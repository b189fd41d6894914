"""One call to a provider's API: bounded in time, retried when retrying can help, and logged
without the secrets that vendors put in query strings.

A timeout, a network error, an HTTP 5xx and an answer the adapter calls busy (WeChat's `-1`)
are tried again `retries` times, with a short pause growing by `backoff` seconds; what is
still failing after that is ProviderUnavailable. Anything else is returned to the adapter,
which knows what the vendor's error codes mean.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from usercenter.kit.log import get_logger
from usercenter.providers.errors import ProviderError, ProviderUnavailable

_log = get_logger("usercenter.providers")

# A busy check: the vendor code to retry on, or None when the answer is final.
BusyCheck = Callable[[httpx.Response], str | None]


class _HideQueryStrings(logging.Filter):
    """httpx logs every request URL at INFO; WeChat and QQ put the app secret, the login code
    and access tokens in the query string, so the query never reaches a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(arg, httpx.URL) for arg in record.args
        ):
            record.args = tuple(
                _without_query(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


def _without_query(url: httpx.URL) -> str:
    return f"{url.copy_with(query=None)}?…" if url.query else str(url)


def _install_query_filter() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(item, _HideQueryStrings) for item in logger.filters):
        logger.addFilter(_HideQueryStrings())


_install_query_filter()


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object (whatever the content type says), or None."""
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class VendorHttp:
    """The HTTP side of one provider adapter. Without a client of its own, each call uses a
    short-lived one."""

    def __init__(
        self,
        provider: str,
        client: httpx.AsyncClient | None,
        *,
        timeout: float,
        retries: int,
        backoff: float,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must not be negative")
        self.provider = provider
        self._client = client
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff

    async def _send_once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async with asyncio.timeout(self._timeout):
            if self._client is not None:
                return await self._client.request(method, url, timeout=self._timeout, **kwargs)
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                return await client.request(method, url, **kwargs)

    async def request(
        self,
        method: str,
        url: str,
        *,
        app_id: str,
        operation: str,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        is_busy: BusyCheck | None = None,
    ) -> httpx.Response:
        """Send the request, retrying as the module says; ProviderUnavailable when every try
        failed. A 4xx answer is returned: vendors send their error codes with it."""
        kwargs: dict[str, Any] = {"params": params, "headers": headers}
        if data is not None:
            kwargs["data"] = data
        if json_body is not None:
            kwargs["json"] = json_body
        attempts = self._retries + 1
        reason = "no attempt"
        for attempt in range(1, attempts + 1):
            try:
                response = await self._send_once(method, url, **kwargs)
            except (httpx.HTTPError, TimeoutError) as exc:
                reason = type(exc).__name__
            else:
                if response.status_code >= 500:
                    reason = f"HTTP {response.status_code}"
                else:
                    busy = is_busy(response) if is_busy is not None else None
                    if busy is None:
                        return response
                    reason = busy
            if attempt < attempts:
                _log.info(
                    "provider_call_retried",
                    provider=self.provider,
                    app_id=app_id,
                    operation=operation,
                    vendor_code=reason,
                    attempt=attempt,
                )
                await asyncio.sleep(self._backoff * attempt)
        raise self.failure(
            ProviderUnavailable,
            app_id=app_id,
            operation=operation,
            vendor_code=reason,
            attempts=attempts,
        )

    def failure(
        self,
        error_class: type[ProviderError],
        *,
        app_id: str,
        operation: str,
        vendor_code: str,
        message: object = None,
        attempts: int | None = None,
        loud: bool = False,
    ) -> ProviderError:
        """Log what the vendor said (never the secrets of the call) and return the error.

        ProviderUnavailable is a warning (ours or the vendor's problem, worth a look), the
        person's own failures are info; `loud` makes it an error (a forged answer)."""
        error = error_class(provider=self.provider, vendor_code=vendor_code)
        if loud:
            log = _log.error
        elif isinstance(error, ProviderUnavailable):
            log = _log.warning
        else:
            log = _log.info
        log(
            "provider_call_failed",
            provider=self.provider,
            app_id=app_id,
            operation=operation,
            vendor_code=vendor_code,
            vendor_message=None if message is None else str(message)[:200],
            attempts=attempts,
            error=error.code,
        )
        return error
