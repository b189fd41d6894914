"""Delivering codes to a person: by text message (console, Aliyun, Tencent Cloud) or e-mail."""

from usercenter.notify.errors import (
    MailUnavailable,
    NotifyError,
    PhoneInvalid,
    SmsRateLimited,
    SmsUnavailable,
)
from usercenter.notify.factory import make_mail_sender, make_sms_sender
from usercenter.notify.mail import ConsoleMailSender, MailSender, SentMail, SmtpMailSender
from usercenter.notify.sms import (
    AliyunSmsSender,
    ConsoleSmsSender,
    SmsReceipt,
    SmsSender,
    TencentSmsSender,
)

__all__ = [
    "AliyunSmsSender",
    "ConsoleMailSender",
    "ConsoleSmsSender",
    "MailSender",
    "MailUnavailable",
    "NotifyError",
    "PhoneInvalid",
    "SentMail",
    "SmsRateLimited",
    "SmsReceipt",
    "SmsSender",
    "SmsUnavailable",
    "SmtpMailSender",
    "TencentSmsSender",
    "make_mail_sender",
    "make_sms_sender",
]
