"""Stand-ins for the login providers: real HTTP servers on 127.0.0.1 that speak WeChat's, QQ
Connect's, Weibo's, Alipay's and Apple's protocols, for tests and for local demos
(`serve_stubs`, `main`). One module per vendor, on `base` (serving, codes, magic codes, the
state every stub keeps); `running` serves them all.

Each stub knows its apps and hands out codes for a named person (`code_for`), single-use and
valid five minutes, like the real ones. The same person gets the same unionid in every bound
app of the stub's WeChat Open Platform account (and of its QQ developer account), and a
different openid per app. Magic codes make a stub answer with one of its vendor's errors:

- WeChat: `wx-<errcode>` (`wx-40029`, `wx-40163`, `wx-45011`, `wx-40226`, `wx-48001`,
  `wx-45009`, `wx-99999`, ...), `wx-busy` (-1 every time), `wx-slow` (answers after
  `slow_seconds`), `wx-http-<status>`; `code_for(..., busy_times=1)` is busy once, then fine.
- QQ: `qq-<error>`, `qq-slow`, `qq-http-<status>`. Weibo: `wb-<error_code>`, `wb-slow`,
  `wb-http-<status>`.
- Alipay: `ali-tampered` (a response signature that does not match), `ali-unsigned`,
  `ali-busy` (20000 isp.unknow-error), `ali-40006` (missing permissions), `ali-slow`,
  `ali-http-<status>`.

FaceID's stub (`faceid`) answers the ID two-factor check of real-name verification, its
signature checked; magic names make it fail (see its module).

Apple's stub serves a JWKS and mints id_tokens (`mint_id_token`), expired or for another
audience on request. The checks here are written from the vendors' documentation, apart from
the adapters' code, so an adapter that signs or asks wrongly is refused here as it would be
there.

For demos across processes every stub also answers `GET /_stub/code?app_id=&person=` (and
WeChat `/_stub/phone-code?app_id=&phone=`, Apple `/_stub/id-token?aud=&person=&nonce=`).
"""

from usercenter.providers.stubs.alipay import (
    ALIPAY_APP_ID,
    ALIPAY_CHINA_TIME,
    ALIPAY_RESPONSE_KEY,
    AlipayStub,
    AlipayStubApp,
    alipay_string_to_sign,
)
from usercenter.providers.stubs.apple import (
    APPLE_BUNDLE_ID,
    APPLE_ISSUER,
    APPLE_SERVICE_ID,
    AppleStub,
)
from usercenter.providers.stubs.base import (
    CODE_TTL_SECONDS,
    DEFAULT_PERSON,
    DEFAULT_PHONE,
    SLOW_SECONDS,
    StubGrant,
    free_port,
    serve,
)
from usercenter.providers.stubs.faceid import FACEID_SECRET_ID, FACEID_SECRET_KEY, FaceIdStub
from usercenter.providers.stubs.qq import (
    QQ_APP_ID,
    QQ_MESSAGES,
    QQ_UNBOUND_APP_ID,
    QQStub,
    QQStubApp,
)
from usercenter.providers.stubs.running import RunningStubs, main, serve_stubs, usage
from usercenter.providers.stubs.wechat import (
    WECHAT_APP_ID,
    WECHAT_MINIAPP_ID,
    WECHAT_OFFICIAL_ID,
    WECHAT_UNBOUND_MINIAPP_ID,
    WECHAT_WEB_ID,
    WeChatStub,
)
from usercenter.providers.stubs.wechat_phone import (
    WECHAT_ACCESS_TOKEN_SECONDS,
    WECHAT_MESSAGES,
    WeChatStubApp,
    legacy_encrypt,
)
from usercenter.providers.stubs.weibo import WEIBO_APP_ID, WEIBO_ERRORS, WeiboStub, WeiboStubApp

__all__ = [
    "ALIPAY_APP_ID",
    "ALIPAY_CHINA_TIME",
    "ALIPAY_RESPONSE_KEY",
    "APPLE_BUNDLE_ID",
    "APPLE_ISSUER",
    "APPLE_SERVICE_ID",
    "CODE_TTL_SECONDS",
    "DEFAULT_PERSON",
    "DEFAULT_PHONE",
    "FACEID_SECRET_ID",
    "FACEID_SECRET_KEY",
    "QQ_APP_ID",
    "QQ_MESSAGES",
    "QQ_UNBOUND_APP_ID",
    "SLOW_SECONDS",
    "WECHAT_ACCESS_TOKEN_SECONDS",
    "WECHAT_APP_ID",
    "WECHAT_MESSAGES",
    "WECHAT_MINIAPP_ID",
    "WECHAT_OFFICIAL_ID",
    "WECHAT_UNBOUND_MINIAPP_ID",
    "WECHAT_WEB_ID",
    "WEIBO_APP_ID",
    "WEIBO_ERRORS",
    "AlipayStub",
    "AlipayStubApp",
    "AppleStub",
    "FaceIdStub",
    "QQStub",
    "QQStubApp",
    "RunningStubs",
    "StubGrant",
    "WeChatStub",
    "WeChatStubApp",
    "WeiboStub",
    "WeiboStubApp",
    "alipay_string_to_sign",
    "free_port",
    "legacy_encrypt",
    "main",
    "serve",
    "serve_stubs",
    "usage",
]
