"""The first super admin, as a deployment makes it: `usercenter admin create`, then the
console's first login sets up the authenticator, and the account works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.access.test_two_processes import create_admin, log_in_enrolling
from tests.conftest import TEST_KEYS


class TestFirstSuperAdmin:
    def test_created_on_the_command_line_enrols_then_works(self, workdir: Path, serve: Any) -> None:
        env = {
            "USERCENTER_DATABASE_URL": f"sqlite:///{workdir / 'first.db'}",
            "USERCENTER_SECRET_KEYS": TEST_KEYS.secret_keys_item,
            "USERCENTER_BLIND_INDEX_KEY": TEST_KEYS.blind_index_key_b64,
            "USERCENTER_PASSWORD_MEMORY_KIB": "8192",
            "USERCENTER_PASSWORD_TIME_COST": "1",
            "USERCENTER_LOG_LEVEL": "WARNING",
        }
        url, _ = serve(**env)  # migrates the database
        create_admin(workdir, env)
        headers = log_in_enrolling(url, "boss")
        staff = httpx.get(f"{url}/v1/admin/staff", headers=headers)
        assert staff.status_code == 200, staff.text
        assert [s["username"] for s in staff.json()["items"]] == ["boss"]
        assert staff.json()["items"][0]["totp_enabled"] is True
