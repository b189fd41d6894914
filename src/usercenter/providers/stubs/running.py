"""Every stub at once: served on free ports (or from a base port) with the demo apps, the
usage `usercenter stubs` prints, and `main`."""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette

from usercenter.providers.base import AppCredentials
from usercenter.providers.stubs.alipay import AlipayStub
from usercenter.providers.stubs.apple import APPLE_SERVICE_ID, AppleStub
from usercenter.providers.stubs.base import serve
from usercenter.providers.stubs.faceid import FACEID_SECRET_ID, FACEID_SECRET_KEY, FaceIdStub
from usercenter.providers.stubs.qq import QQStub
from usercenter.providers.stubs.wechat import WECHAT_MINIAPP_ID, WeChatStub
from usercenter.providers.stubs.weibo import WeiboStub


@dataclass
class RunningStubs:
    """The stubs being served, their base URLs, and apps configured to use them."""

    wechat: WeChatStub
    qq: QQStub
    weibo: WeiboStub
    alipay: AlipayStub
    apple: AppleStub
    faceid: FaceIdStub = field(default_factory=FaceIdStub)
    urls: dict[str, str] = field(default_factory=dict)

    def apps(self) -> list[AppCredentials]:
        """One AppCredentials per demo app, pointing at the stubs."""
        return [
            *(self.wechat.credentials(app_id, self.urls["wechat"]) for app_id in self.wechat.apps),
            *(self.qq.credentials(app_id, self.urls["qq"]) for app_id in self.qq.apps),
            *(self.weibo.credentials(app_id, self.urls["weibo"]) for app_id in self.weibo.apps),
            *(self.alipay.credentials(app_id, self.urls["alipay"]) for app_id in self.alipay.apps),
            self.apple.credentials(self.urls["apple"]),
        ]

    def app(self, app_id: str) -> AppCredentials:
        """The demo app `app_id`."""
        for app in self.apps():
            if app.app_id == app_id:
                return app
        raise KeyError(app_id)


@contextmanager
def serve_stubs(
    *,
    host: str = "127.0.0.1",
    base_port: int | None = None,
    wechat: WeChatStub | None = None,
    qq: QQStub | None = None,
    weibo: WeiboStub | None = None,
    alipay: AlipayStub | None = None,
    apple: AppleStub | None = None,
    faceid: FaceIdStub | None = None,
) -> Iterator[RunningStubs]:
    """Serve every stub (new ones with the demo apps unless given) on free ports, or on
    `base_port` to `base_port + 5`, until the block ends."""
    running = RunningStubs(
        wechat=wechat or WeChatStub(),
        qq=qq or QQStub(),
        weibo=weibo or WeiboStub(),
        alipay=alipay or AlipayStub(),
        apple=apple or AppleStub(),
        faceid=faceid or FaceIdStub(),
    )
    stubs: dict[str, Starlette] = {
        "wechat": running.wechat.app(),
        "qq": running.qq.app(),
        "weibo": running.weibo.app(),
        "alipay": running.alipay.app(),
        "apple": running.apple.app(),
        "faceid": running.faceid.app(),
    }
    with ExitStack() as stack:
        for offset, (name, app) in enumerate(stubs.items()):
            port = 0 if base_port is None else base_port + offset
            running.urls[name] = stack.enter_context(serve(app, host=host, port=port))
        yield running


def _client_app_setting(app: AppCredentials) -> dict[str, Any]:
    return {
        "app_type": app.app_type.value,
        "app_id": app.app_id,
        "secret": app.secret,
        "name": f"stub {app.app_type.value}",
        "extra": app.extra,
    }


def usage(running: RunningStubs) -> str:
    """What `main` prints: the URLs, the demo apps as USERCENTER_CLIENT_APPS, how to get codes."""
    wechat, apple = running.urls["wechat"], running.urls["apple"]
    apps = json.dumps([_client_app_setting(app) for app in running.apps()], ensure_ascii=False)
    lines = [
        *(f"{name:7} {url}" for name, url in running.urls.items()),
        "",
        f"USERCENTER_CLIENT_APPS={apps}",
        "",
        "A login code:  GET <stub>/_stub/code?app_id=<app id>&person=alice",
        f"  e.g.         GET {wechat}/_stub/code?app_id={WECHAT_MINIAPP_ID}&person=alice",
        f"A phone code:  GET {wechat}/_stub/phone-code?app_id={WECHAT_MINIAPP_ID}"
        "&phone=%2B8613812345678",
        f"Apple token:   GET {apple}/_stub/id-token?aud={APPLE_SERVICE_ID}&person=alice&nonce=n",
        "Magic codes:   wx-40029 wx-40163 wx-45011 wx-40226 wx-48001 wx-45009 wx-busy wx-slow",
        "               wx-http-502, qq-100019 qq-slow, wb-21325 wb-slow,",
        "               ali-tampered ali-unsigned ali-busy ali-40006 ali-slow",
        "",
        "The ID check (Tencent Cloud FaceID IdCardVerification), for real-name verification:",
        f"USERCENTER_FACEID_ENDPOINT={running.urls['faceid']}/ "
        f"USERCENTER_TENCENT_SECRET_ID={FACEID_SECRET_ID} "
        f"USERCENTER_TENCENT_SECRET_KEY={FACEID_SECRET_KEY} "
        "USERCENTER_PROFILE_VERIFICATION_MODE=vendor_then_staff",
        "Magic names:   查无此人 证件库异常 系统升级 次数超限 内部错误 响应超时",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Serve every stub until interrupted, after printing `usage`."""
    parser = argparse.ArgumentParser(description="Serve the login provider stubs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--base-port", type=int, default=None)
    args = parser.parse_args(argv)
    with serve_stubs(host=args.host, base_port=args.base_port) as running:
        print(usage(running), flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
