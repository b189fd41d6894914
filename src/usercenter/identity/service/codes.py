"""Sending one-time codes by SMS and e-mail: the limits, the stored code, and the message
handed to the courier after the answer, so the answer is alike whether or not a message goes
out (the code store itself is `identity.codes`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.identity.codes import LimitReached, VerificationCodes
from usercenter.identity.errors import CodeRateLimited
from usercenter.identity.models import IdentityType
from usercenter.identity.service.context import EmailPurpose, IdentityContext, SmsPurpose
from usercenter.identity.service.normalize import normalize_email, normalize_phone
from usercenter.identity.views import CodeSent
from usercenter.kit.client import ClientInfo
from usercenter.notify.courier import Courier
from usercenter.notify.mail import MailSender
from usercenter.notify.sms import SmsSender
from usercenter.security.captcha import CaptchaService


class CodeService:
    def __init__(
        self,
        context: IdentityContext,
        *,
        courier: Courier,
        sms: SmsSender,
        mail: MailSender,
        captcha: CaptchaService,
    ) -> None:
        self.context = context
        self.courier = courier
        self.sms = sms
        self.mail = mail
        self.captcha = captcha

    async def _send_code(
        self,
        codes: VerificationCodes,
        target: str,
        purpose: str,
        client: ClientInfo,
        captcha: tuple[str | None, str | None],
        *,
        deliver: bool,
        send: Callable[[str, str, str], Awaitable[object]],
    ) -> CodeSent:
        """Check the limits, store a new code and hand it to the courier when `deliver`:
        the same work, and the same answer, whether or not a message goes out."""
        if await codes.captcha_needed(client.ip):
            await self.captcha.verify_or_raise(*captcha)
        try:
            permit = await codes.take_send_permit(target, client.ip)
        except LimitReached as limit:
            raise CodeRateLimited(retry_after=limit.retry_after or 60) from None
        code = codes.new_code()
        await codes.store(target, purpose, code)
        if deliver:

            async def give_back() -> None:
                await codes.give_back(permit)

            self.courier.submit(
                codes.channel, purpose, lambda: send(target, code, purpose), on_failure=give_back
            )
        return CodeSent(
            expires_in=codes.ttl_seconds, resend_after=codes.limits.resend_interval_seconds
        )

    async def send_sms_code(
        self,
        session: AsyncSession,
        *,
        phone: str,
        purpose: str,
        client: ClientInfo,
        captcha_id: str | None = None,
        captcha_answer: str | None = None,
    ) -> CodeSent:
        """Send a login/bind/reset code. Answers alike, in the same time, whether or not the
        phone is registered: the message goes out after the answer (a reset code for an
        unknown phone, or a login code for one when registration is closed, not at all)."""
        number = normalize_phone(phone)
        known = await self.context.find(session, IdentityType.PHONE, number.e164) is not None
        deliver = {
            SmsPurpose.LOGIN: known or self.context.settings.registration_open,
            SmsPurpose.RESET_PASSWORD: known,
            SmsPurpose.PAYMENT_PASSWORD: known,
        }.get(purpose, True)

        async def send(target: str, code: str, why: str) -> None:
            await self.sms.send_code(target, code, purpose=why)

        return await self._send_code(
            self.context.sms_codes,
            number.e164,
            purpose,
            client,
            (captcha_id, captcha_answer),
            deliver=deliver,
            send=send,
        )

    async def send_email_code(
        self,
        session: AsyncSession,
        *,
        email: str,
        purpose: str,
        client: ClientInfo,
        captcha_id: str | None = None,
        captcha_answer: str | None = None,
    ) -> CodeSent:
        """Send a register/bind/reset code by e-mail; answers alike, in the same time, whether
        or not the address is registered (a register code goes only to an unknown address,
        a reset code only to a known one, both after the answer)."""
        address = normalize_email(email)
        known = await self.context.find(session, IdentityType.EMAIL, address) is not None
        deliver = {
            EmailPurpose.REGISTER: not known,
            EmailPurpose.RESET_PASSWORD: known,
        }.get(purpose, True)
        minutes = self.context.email_codes.ttl_seconds // 60

        async def send(target: str, code: str, why: str) -> None:
            subject = "usercenter 验证码 / verification code"
            body = (
                f"您的验证码是 {code}，{minutes} 分钟内有效。\n"
                f"Your code is {code}; it is valid for {minutes} minutes.\n"
            )
            await self.mail.send(target, subject, body)

        return await self._send_code(
            self.context.email_codes,
            address,
            purpose,
            client,
            (captcha_id, captcha_answer),
            deliver=deliver,
            send=send,
        )
