"""What the payment password tests share: a user logged in by SMS who knows their phone, and
setting a payment password the way a client does (an SMS code of purpose payment_password)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from tests.identity.conftest import bearer, client_for, last_sms_code, new_phone, sms_login

PAYMENT_PASSWORD = "729401"
OTHER_PASSWORD = "318562"
WRONG_PASSWORD = "604917"


@dataclass(frozen=True)
class Payer:
    id: int
    phone: str
    headers: dict[str, str]


async def log_in_payer(application: FastAPI) -> Payer:
    phone = new_phone()
    async with client_for(application) as client:
        tokens = await sms_login(application, client, phone)
    return Payer(int(tokens["user"]["id"]), phone, bearer(tokens))


async def payment_code(application: FastAPI, http: httpx.AsyncClient, payer: Payer) -> str:
    body = {"phone": payer.phone, "purpose": "payment_password"}
    sent = await http.post("/v1/sms/codes", json=body)
    assert sent.status_code == 202, sent.text
    return await last_sms_code(application, payer.phone)


async def set_payment_password(
    application: FastAPI, http: httpx.AsyncClient, payer: Payer, password: str = PAYMENT_PASSWORD
) -> None:
    code = await payment_code(application, http, payer)
    response = await http.put(
        "/v1/me/payment-password",
        json={"password": password, "sms_code": code},
        headers=payer.headers,
    )
    assert response.status_code == 204, response.text


async def ticket_for(
    http: httpx.AsyncClient,
    payer: Payer,
    action: str,
    amount: str | int | None = None,
    password: str = PAYMENT_PASSWORD,
) -> str:
    body: dict[str, Any] = {"password": password, "action": action}
    if amount is not None:
        body["amount"] = amount
    response = await http.post("/v1/me/payment-password/verify", json=body, headers=payer.headers)
    assert response.status_code == 200, response.text
    ticket: str = response.json()["ticket"]
    return ticket
