"""The SMS and mail senders the settings ask for."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from usercenter.config import MailProvider, Settings, SmsProvider
from usercenter.kit.log import get_logger
from usercenter.notify.mail import ConsoleMailSender, MailSender, SmtpMailSender
from usercenter.notify.sms import (
    AliyunSmsSender,
    ConsoleSmsSender,
    SmsSender,
    TencentSmsSender,
)


def _required(settings: Settings, chosen: str, *fields: str) -> dict[str, str]:
    """The named settings as plain strings; ValueError naming every USERCENTER_* one missing."""
    values: dict[str, str] = {}
    missing: list[str] = []
    for field in fields:
        value = getattr(settings, field)
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text:
            values[field] = str(text)
        else:
            missing.append(f"USERCENTER_{field.upper()}")
    if missing:
        raise ValueError(f"{chosen} needs {', '.join(missing)} to be set")
    return values


_log = get_logger("usercenter.notify")


def warn_of_console_senders(settings: Settings) -> None:
    """At start: say loudly that the development senders deliver nothing."""
    if settings.sms_provider is SmsProvider.CONSOLE:
        _log.warning(
            "development_sms_sender",
            detail="SMS codes are NOT delivered - development sender: each code is written to "
            "this log (event sms_code_sent). Set USERCENTER_SMS_PROVIDER to aliyun or tencent "
            "in production.",
        )
    if settings.mail_provider is MailProvider.CONSOLE:
        _log.warning(
            "development_mail_sender",
            detail="E-mail is NOT delivered - development sender: each message is written to "
            "this log (event mail_sent). Set USERCENTER_MAIL_PROVIDER=smtp in production.",
        )


def make_sms_sender(settings: Settings, *, client: httpx.AsyncClient | None = None) -> SmsSender:
    """The sender for `settings.sms_provider`; ValueError if its credentials are missing.

    `client` is an HTTP client the caller owns and closes; without one, each send opens its own.
    """
    chosen = f"USERCENTER_SMS_PROVIDER={settings.sms_provider.value}"
    if settings.sms_provider is SmsProvider.ALIYUN:
        aliyun = _required(
            settings,
            chosen,
            "aliyun_access_key_id",
            "aliyun_access_key_secret",
            "aliyun_sms_sign_name",
            "aliyun_sms_template_code",
        )
        return AliyunSmsSender(
            aliyun["aliyun_access_key_id"],
            aliyun["aliyun_access_key_secret"],
            aliyun["aliyun_sms_sign_name"],
            aliyun["aliyun_sms_template_code"],
            endpoint=settings.aliyun_sms_endpoint,
            timeout=settings.sms_timeout_seconds,
            client=client,
        )
    if settings.sms_provider is SmsProvider.TENCENT:
        tencent = _required(
            settings,
            chosen,
            "tencent_secret_id",
            "tencent_secret_key",
            "tencent_sms_sdk_app_id",
            "tencent_sms_sign_name",
            "tencent_sms_template_id",
        )
        return TencentSmsSender(
            tencent["tencent_secret_id"],
            tencent["tencent_secret_key"],
            tencent["tencent_sms_sdk_app_id"],
            tencent["tencent_sms_sign_name"],
            tencent["tencent_sms_template_id"],
            region=settings.tencent_sms_region,
            endpoint=settings.tencent_sms_endpoint,
            timeout=settings.sms_timeout_seconds,
            client=client,
        )
    return ConsoleSmsSender()


def make_mail_sender(settings: Settings) -> MailSender:
    """The sender for `settings.mail_provider`; ValueError if the SMTP login is half set.

    Implicit TLS (USERCENTER_SMTP_USE_TLS) wins over STARTTLS, which is on by default.
    """
    if settings.mail_provider is MailProvider.SMTP:
        username = settings.smtp_username or None
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        password = password or None
        if username is not None or password is not None:
            login = _required(settings, "SMTP login", "smtp_username", "smtp_password")
            username, password = login["smtp_username"], login["smtp_password"]
        return SmtpMailSender(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.mail_from,
            username=username,
            password=password,
            starttls=settings.smtp_starttls and not settings.smtp_use_tls,
            use_tls=settings.smtp_use_tls,
            timeout=settings.mail_timeout_seconds,
        )
    return ConsoleMailSender()
