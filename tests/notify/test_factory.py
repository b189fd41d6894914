from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.notify.conftest import Running
from tests.notify.stubs import (
    ALIYUN_KEY_ID,
    ALIYUN_KEY_SECRET,
    ALIYUN_SIGN_NAME,
    ALIYUN_TEMPLATE,
    TENCENT_SDK_APP_ID,
    TENCENT_SECRET_ID,
    TENCENT_SECRET_KEY,
    TENCENT_SIGN_NAME,
    TENCENT_TEMPLATE_ID,
    AliyunStub,
    TencentStub,
)
from usercenter.config import Settings
from usercenter.notify import (
    AliyunSmsSender,
    ConsoleMailSender,
    ConsoleSmsSender,
    SmtpMailSender,
    TencentSmsSender,
    make_mail_sender,
    make_sms_sender,
)
from usercenter.notify.factory import warn_of_console_senders

PHONE = "+8613812345678"


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def _clean_environment(workdir: Path) -> None:
    """No USERCENTER_* variables or .env file from outside (the shared `workdir` fixture)."""


class TestMakeSmsSender:
    async def test_console_by_default_shows_codes_at_the_default_level(self) -> None:
        sender = make_sms_sender(settings())
        assert isinstance(sender, ConsoleSmsSender)
        with capture_logs() as logs:
            await sender.send_code(PHONE, "135790", purpose="login")
        assert [(log["log_level"], log["code"]) for log in logs] == [("info", "135790")]
        assert sender.last_code(PHONE) == "135790"

    def test_aliyun_without_credentials_names_the_missing_variables(self) -> None:
        with pytest.raises(ValueError, match="USERCENTER_SMS_PROVIDER=aliyun") as caught:
            make_sms_sender(
                settings(sms_provider="aliyun", aliyun_access_key_id="id", aliyun_sms_sign_name="")
            )
        message = str(caught.value)
        assert "\n" not in message
        assert "USERCENTER_ALIYUN_ACCESS_KEY_SECRET" in message
        assert "USERCENTER_ALIYUN_SMS_SIGN_NAME" in message
        assert "USERCENTER_ALIYUN_SMS_TEMPLATE_CODE" in message
        assert "USERCENTER_ALIYUN_ACCESS_KEY_ID" not in message

    def test_tencent_without_credentials_names_the_missing_variables(self) -> None:
        with pytest.raises(ValueError, match="USERCENTER_TENCENT_SECRET_KEY") as caught:
            make_sms_sender(settings(sms_provider="tencent", tencent_secret_id="id"))
        assert "USERCENTER_TENCENT_SMS_SDK_APP_ID" in str(caught.value)
        assert "USERCENTER_TENCENT_SECRET_ID" not in str(caught.value)

    async def test_aliyun_from_settings_reaches_the_endpoint(
        self, aliyun: Running[AliyunStub]
    ) -> None:
        sender = make_sms_sender(
            settings(
                sms_provider="aliyun",
                aliyun_access_key_id=ALIYUN_KEY_ID,
                aliyun_access_key_secret=ALIYUN_KEY_SECRET,
                aliyun_sms_sign_name=ALIYUN_SIGN_NAME,
                aliyun_sms_template_code=ALIYUN_TEMPLATE,
                aliyun_sms_endpoint=aliyun.url,
            )
        )
        assert isinstance(sender, AliyunSmsSender)
        receipt = await sender.send_code(PHONE, "135790", purpose="login")
        assert receipt.provider == "aliyun"
        assert aliyun.stub.requests[-1]["TemplateParam"] == '{"code":"135790"}'

    async def test_tencent_from_settings_reaches_the_endpoint(
        self, tencent: Running[TencentStub]
    ) -> None:
        sender = make_sms_sender(
            settings(
                sms_provider="tencent",
                tencent_secret_id=TENCENT_SECRET_ID,
                tencent_secret_key=TENCENT_SECRET_KEY,
                tencent_sms_sdk_app_id=TENCENT_SDK_APP_ID,
                tencent_sms_sign_name=TENCENT_SIGN_NAME,
                tencent_sms_template_id=TENCENT_TEMPLATE_ID,
                tencent_sms_endpoint=tencent.url,
            )
        )
        assert isinstance(sender, TencentSmsSender)
        receipt = await sender.send_code(PHONE, "135790", purpose="login")
        assert receipt.provider == "tencent"
        assert tencent.stub.requests[-1]["TemplateParamSet"] == ["135790"]


class TestDevelopmentSenderWarning:
    def test_console_senders_are_announced_as_not_delivering(self) -> None:
        with capture_logs() as logs:
            warn_of_console_senders(settings())
        assert [(log["event"], log["log_level"]) for log in logs] == [
            ("development_sms_sender", "warning"),
            ("development_mail_sender", "warning"),
        ]
        assert all("NOT delivered" in log["detail"] for log in logs)

    def test_real_senders_are_not(self) -> None:
        with capture_logs() as logs:
            warn_of_console_senders(
                settings(sms_provider="aliyun", mail_provider="smtp", smtp_host="mail.example.com")
            )
        assert logs == []


class TestMakeMailSender:
    async def test_console_by_default(self) -> None:
        sender = make_mail_sender(settings())
        assert isinstance(sender, ConsoleMailSender)
        await sender.send("alice@example.com", "Hi", "body")
        assert sender.last_message("alice@example.com") is not None

    def test_smtp_from_settings(self) -> None:
        sender = make_mail_sender(
            settings(
                mail_provider="smtp", smtp_host="mail.example.com", smtp_port=465, smtp_use_tls=True
            )
        )
        assert isinstance(sender, SmtpMailSender)

    def test_smtp_username_without_password_names_the_variable(self) -> None:
        with pytest.raises(ValueError, match="USERCENTER_SMTP_PASSWORD"):
            make_mail_sender(settings(mail_provider="smtp", smtp_username="mailer"))

    def test_smtp_password_without_username_names_the_variable(self) -> None:
        with pytest.raises(ValueError, match="USERCENTER_SMTP_USERNAME"):
            make_mail_sender(settings(mail_provider="smtp", smtp_password="s3cret"))
