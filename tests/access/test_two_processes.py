"""Revocation across processes: two `usercenter serve` on one database and one Redis; a grant
revoked through one is refused by the other within one second."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.access.conftest import PASSWORD, SERVICE
from tests.conftest import TEST_KEYS, service_url

REDIS_DB_FOR_THIS_TEST = 10  # its own Redis database, flushed first
ADMIN_CREATE = [sys.executable, "-m", "usercenter", "admin", "create"]


def _redis_url() -> str:
    base = service_url("redis").rsplit("/", 1)[0]
    return f"{base}/{REDIS_DB_FOR_THIS_TEST}"


def _env(workdir: Path, redis_url: str) -> dict[str, str]:
    return {
        "USERCENTER_DATABASE_URL": f"sqlite:///{workdir / 'shared.db'}",
        "USERCENTER_REDIS_URL": redis_url,
        "USERCENTER_SECRET_KEYS": TEST_KEYS.secret_keys_item,
        "USERCENTER_BLIND_INDEX_KEY": TEST_KEYS.blind_index_key_b64,
        "USERCENTER_SERVICE_CLIENTS": "orders:orders-secret",
        "USERCENTER_PASSWORD_MEMORY_KIB": "8192",
        "USERCENTER_PASSWORD_TIME_COST": "1",
        "USERCENTER_LOG_LEVEL": "WARNING",
        # The longest a process may trust the version it polled: the published change, not
        # the poll, must bring the revocation within a second.
        "USERCENTER_ACCESS_MEMO_SECONDS": "1",
    }


def create_admin(workdir: Path, env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("USERCENTER_")}
    result = subprocess.run(
        [*ADMIN_CREATE, "--username", "boss", "--password-stdin"],
        input=PASSWORD + "\n",
        cwd=workdir,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def log_in_enrolling(url: str, username: str) -> dict[str, str]:
    """Log a new staff account in as the console does: the password-only session sets up the
    authenticator (pyotp here), then the password and a code open a full session."""
    first = httpx.post(
        f"{url}/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert first.status_code == 200, first.text
    assert first.json()["totp_enrolment_required"] is True
    enrolling = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert httpx.get(f"{url}/v1/admin/staff", headers=enrolling).status_code == 403
    begun = httpx.post(f"{url}/v1/admin/me/totp", headers=enrolling)
    assert begun.status_code == 200, begun.text
    totp = pyotp.TOTP(begun.json()["secret"])
    step = totp.timecode(datetime.now(UTC))
    confirmed = httpx.post(
        f"{url}/v1/admin/me/totp/confirm",
        json={"code": totp.generate_otp(step - 1)},
        headers=enrolling,
    )
    assert confirmed.status_code == 200, confirmed.text
    login = httpx.post(
        f"{url}/v1/admin/auth/login",
        json={"username": username, "password": PASSWORD, "totp_code": totp.generate_otp(step)},
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def _allowed(url: str, check: dict[str, Any]) -> bool:
    response = httpx.post(
        f"{url}/v1/authz/check", json={"checks": [check]}, headers=SERVICE, timeout=5
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["results"][0]["allowed"])


class TestRevocationAcrossProcesses:
    def test_second_process_refuses_within_one_second(self, workdir: Path, serve: Any) -> None:
        import redis

        redis_url = _redis_url()
        redis.Redis.from_url(redis_url).flushdb()
        env = _env(workdir, redis_url)
        url_a, _ = serve(**env)  # migrates the shared SQLite file
        url_b, _ = serve(**env)
        create_admin(workdir, env)
        admin = log_in_enrolling(url_a, "boss")
        # Roles go to existing accounts only: a staff account to hold one.
        holder = httpx.post(
            f"{url_a}/v1/admin/staff",
            json={"username": "agent", "password": PASSWORD},
            headers=admin,
        )
        assert holder.status_code == 201, holder.text
        subject = f"staff:{holder.json()['id']}"
        check = {
            "subject": subject,
            "permission": "merchant:order:refund",
            "scope_type": "merchant",
            "scope_id": 3,
        }
        assert not _allowed(url_b, check)
        granted = httpx.post(
            f"{url_a}/v1/admin/grants",
            json={
                "subject": subject,
                "role": "customer_service",
                "scope_type": "merchant",
                "scope_id": 3,
            },
            headers=admin,
        )
        assert granted.status_code == 201, granted.text
        started = time.monotonic()
        while not _allowed(url_b, check) and time.monotonic() - started < 2.0:
            time.sleep(0.02)
        assert time.monotonic() - started < 1.0, "the grant was not seen within one second"
        # B has the subject in its memory now; the revocation must still reach it.
        assert _allowed(url_b, check)

        started = time.monotonic()
        revoked = httpx.delete(
            f"{url_a}/v1/admin/grants/{granted.json()['id']}", headers=admin, timeout=5
        )
        assert revoked.status_code == 204, revoked.text
        while _allowed(url_b, check) and time.monotonic() - started < 2.0:
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, f"process B allowed the revoked grant for {elapsed:.2f} s"
        assert not _allowed(url_a, check)
        log = httpx.get(
            f"{url_a}/v1/admin/audit-log", params={"action": "role.revoke_grant"}, headers=admin
        )
        assert log.status_code == 200
        assert [item["result"] for item in log.json()["items"]] == ["ok"]


@pytest.fixture(autouse=True)
def _needs_redis() -> None:
    service_url("redis")
