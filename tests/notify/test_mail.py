from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from structlog.testing import capture_logs

from tests.notify.stubs import free_port
from usercenter.notify import ConsoleMailSender, MailUnavailable, SmtpMailSender

SENDER = "账户中心 <noreply@usercenter.test>"
REFUSED = "nobody@usercenter.test"


class Inbox:
    """aiosmtpd handler: keeps every message, refuses one mailbox."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def last_message(self) -> EmailMessage:
        content = self.envelopes[-1].content
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


def _authenticate(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"mailer", b"s3cret")
    # handled=False: aiosmtpd answers 535 itself.
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def smtp_sender(port: int, **kwargs: Any) -> SmtpMailSender:
    options: dict[str, Any] = {"sender": SENDER, "starttls": False, "timeout": 5.0, **kwargs}
    return SmtpMailSender("127.0.0.1", port, **options)


class TestConsoleMailSender:
    async def test_keeps_the_last_message_per_address(self) -> None:
        sender = ConsoleMailSender()
        await sender.send("alice@example.com", "Code", "first")
        await sender.send("alice@example.com", "Code", "second")
        message = sender.last_message("alice@example.com")
        assert message is not None
        assert (message.subject, message.body) == ("Code", "second")
        assert sender.last_message("bob@example.com") is None

    async def test_logs_the_body_and_the_address_masked(self) -> None:
        with capture_logs() as logs:
            await ConsoleMailSender().send("alice@example.com", "验证码", "您的验证码是 246810")
        [entry] = [log for log in logs if log["event"] == "mail_sent"]
        assert entry["log_level"] == "info"
        assert entry["to"] == "a***@example.com"
        assert entry["body"] == "您的验证码是 246810"
        assert "alice" not in repr(logs)


class TestSmtpMailSender:
    async def test_delivers_a_utf8_plain_text_message(self, smtp: tuple[Inbox, int]) -> None:
        inbox, port = smtp
        await smtp_sender(port).send(
            "alice@example.com", "您的验证码", "验证码 246810，10 分钟内有效"
        )
        envelope = inbox.envelopes[-1]
        assert envelope.mail_from == "noreply@usercenter.test"
        assert envelope.rcpt_tos == ["alice@example.com"]
        message = inbox.last_message()
        assert message["Subject"] == "您的验证码"
        assert message["From"] == SENDER
        assert message["To"] == "alice@example.com"
        assert message["Message-ID"].endswith("@usercenter.test>")
        assert message["Date"]
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        assert message.get_content().strip() == "验证码 246810，10 分钟内有效"

    async def test_logs_in_when_given_credentials(self, smtp: tuple[Inbox, int]) -> None:
        inbox, port = smtp
        count = len(inbox.envelopes)
        await smtp_sender(port, username="mailer", password="s3cret").send(
            "alice@example.com", "Hi", "body"
        )
        assert len(inbox.envelopes) == count + 1

    async def test_wrong_password_is_unavailable(self, smtp: tuple[Inbox, int]) -> None:
        inbox, port = smtp
        count = len(inbox.envelopes)
        with pytest.raises(MailUnavailable) as caught:
            await smtp_sender(port, username="mailer", password="wrong").send(
                "alice@example.com", "Hi", "body"
            )
        assert caught.value.vendor_code == "SMTPAuthenticationError 535"
        assert len(inbox.envelopes) == count

    async def test_refused_recipient_is_unavailable_and_logged_masked(
        self, smtp: tuple[Inbox, int]
    ) -> None:
        _, port = smtp
        with capture_logs() as logs, pytest.raises(MailUnavailable):
            await smtp_sender(port).send(REFUSED, "Hi", "body")
        [entry] = [log for log in logs if log["event"] == "mail_send_failed"]
        assert entry["to"] == "n***@usercenter.test"
        assert REFUSED not in repr(logs)

    async def test_required_starttls_is_not_skipped(self, smtp: tuple[Inbox, int]) -> None:
        # The test server offers no STARTTLS: the message must not go out in clear.
        inbox, port = smtp
        count = len(inbox.envelopes)
        with pytest.raises(MailUnavailable):
            await smtp_sender(port, starttls=True).send("alice@example.com", "Hi", "body")
        assert len(inbox.envelopes) == count

    async def test_server_down_is_unavailable(self) -> None:
        with pytest.raises(MailUnavailable) as caught:
            await smtp_sender(free_port()).send("alice@example.com", "Hi", "body")
        assert caught.value.status == 503
        assert caught.value.code == "mail_unavailable"

    def test_refuses_starttls_with_implicit_tls(self) -> None:
        with pytest.raises(ValueError, match="not both"):
            SmtpMailSender("localhost", 465, sender=SENDER, starttls=True, use_tls=True)

    def test_refuses_a_username_without_password(self) -> None:
        with pytest.raises(ValueError, match="username and a password"):
            SmtpMailSender("localhost", 587, sender=SENDER, username="mailer")
