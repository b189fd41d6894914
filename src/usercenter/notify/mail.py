"""E-mail carrying a code or a notice: a console sender for local use, and SMTP.

A sender either hands the message over or raises `MailUnavailable`. Messages are plain text in
UTF-8; addresses are masked in logs (`a***@example.com`), bodies are not logged unless asked.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from usercenter.kit import clock
from usercenter.kit.log import get_logger
from usercenter.notify.errors import MailUnavailable
from usercenter.security.masking import mask_email

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SentMail:
    to: str
    subject: str
    body: str


class MailSender(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None:
        """Deliver a plain-text message to `to`; raises MailUnavailable."""
        ...


class ConsoleMailSender:
    """Writes the message to the log instead of sending it (local runs, demos and tests).

    A development sender: the body (which usually holds a code) is logged at INFO, masked like
    every log line; the address is masked. The last message to each address is kept in memory,
    at most `capacity` addresses, for `last_message`.
    """

    name = "console"

    def __init__(self, *, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._messages: dict[str, SentMail] = {}

    async def send(self, to: str, subject: str, body: str) -> None:
        self._messages.pop(to, None)
        self._messages[to] = SentMail(to, subject, body)
        if len(self._messages) > self._capacity:
            del self._messages[next(iter(self._messages))]
        _log.info(
            "mail_sent",
            provider=self.name,
            to=mask_email(to),
            subject=subject,
            body=body,
            note="not delivered: development sender",
        )

    def last_message(self, to: str) -> SentMail | None:
        """The last message sent to `to`, if any."""
        return self._messages.get(to)


class SmtpMailSender:
    """Sends through an SMTP server with aiosmtplib.

    `starttls` demands STARTTLS (the message is not sent in clear if the server does not offer
    it); `use_tls` connects with TLS from the start (port 465). A refused connection, a timeout,
    a failed login or any SMTP error reply is MailUnavailable.
    """

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        use_tls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        if starttls and use_tls:
            raise ValueError("use either STARTTLS or implicit TLS, not both")
        if (username is None) != (password is None):
            raise ValueError("SMTP login needs both a username and a password")
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._use_tls = use_tls
        self._timeout = timeout

    def _message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = email.utils.format_datetime(clock.now())
        domain = self._sender.rpartition("@")[2] or None
        message["Message-ID"] = email.utils.make_msgid(domain=domain)
        message.set_content(body, charset="utf-8")
        return message

    async def send(self, to: str, subject: str, body: str) -> None:
        message = self._message(to, subject, body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._use_tls,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            reply = getattr(exc, "code", None)
            vendor_code = f"{type(exc).__name__} {reply}" if reply else type(exc).__name__
            _log.warning(
                "mail_send_failed",
                provider=self.name,
                to=mask_email(to),
                vendor_code=vendor_code,
                vendor_message=str(exc).replace(to, mask_email(to)),
            )
            raise MailUnavailable(provider=self.name, vendor_code=vendor_code) from exc
        _log.info(
            "mail_sent",
            provider=self.name,
            to=mask_email(to),
            subject=subject,
            message_id=message["Message-ID"],
        )
