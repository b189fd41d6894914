"""Error codes of the tokens module."""

from __future__ import annotations

from typing import Any

from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text


class TokenError(UserCenterError):
    status = 401
    code = "token_invalid"
    title = Text("登录凭证无效", "The token is not valid")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}, **kwargs)


class TokenMissing(TokenError):
    code = "token_missing"
    title = Text("需要登录", "Authentication required")

    def __init__(self, **kwargs: Any) -> None:
        UserCenterError.__init__(self, headers={"WWW-Authenticate": "Bearer"}, **kwargs)


class TokenInvalid(TokenError):
    code = "token_invalid"


class TokenExpired(TokenError):
    code = "token_expired"
    title = Text("登录凭证已过期", "The token has expired")


class SessionRevoked(TokenError):
    code = "session_revoked"
    title = Text("登录已失效，请重新登录", "This session has ended; log in again")


class RefreshTokenInvalid(TokenError):
    code = "refresh_token_invalid"
    title = Text("刷新凭证无效或已过期", "The refresh token is not valid or has expired")


class RefreshTokenReused(TokenError):
    """A refresh token was presented again after it had been rotated: the session is ended."""

    code = "refresh_token_reused"
    title = Text(
        "刷新凭证被重复使用，该登录已被注销",
        "The refresh token was used twice; the session is ended",
    )
    keeps_changes = True


class SessionNotFound(UserCenterError):
    code = "session_not_found"
    status = 404
    title = Text("会话不存在", "No such session")


class IntrospectionUnauthorized(UserCenterError):
    code = "client_unauthorized"
    status = 401
    title = Text("调用方认证失败", "The calling service could not be authenticated")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(headers={"WWW-Authenticate": 'Basic realm="introspection"'}, **kwargs)
