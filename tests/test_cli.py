"""The `usercenter` command, run as a person runs it: in a subprocess."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import TEST_KEYS
from usercenter import __version__, schema
from usercenter.config import normalize_database_url

from .conftest import service_url


def run_cli(
    *args: str, cwd: Path, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("USERCENTER_")}
    return subprocess.run(
        [sys.executable, "-m", "usercenter", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, lines
    return lines[0]


class TestVersionAndConfiguration:
    def test_version(self, workdir: Path) -> None:
        result = run_cli("version", cwd=workdir)
        assert result.returncode == 0
        assert result.stdout.strip() == __version__

    @pytest.mark.parametrize("command", ["check", "migrate", "serve"])
    def test_unknown_database_scheme_is_one_clear_line(self, workdir: Path, command: str) -> None:
        result = run_cli(command, cwd=workdir, USERCENTER_DATABASE_URL="nosuchdb://x")
        assert result.returncode == 2
        line = one_clear_line(result)
        assert "USERCENTER_DATABASE_URL" in line
        assert "nosuchdb" in line

    def test_malformed_setting_is_one_clear_line(self, workdir: Path) -> None:
        result = run_cli("check", cwd=workdir, USERCENTER_UID_WIDTH="wide")
        assert result.returncode == 2
        assert "USERCENTER_UID_WIDTH" in one_clear_line(result)

    def test_unreachable_database_is_one_clear_line(self, workdir: Path) -> None:
        result = run_cli(
            "migrate", cwd=workdir, USERCENTER_DATABASE_URL="postgresql://u@127.0.0.1:1/x"
        )
        assert result.returncode == 3
        assert "cannot reach the database" in one_clear_line(result)

    def test_several_workers_without_redis_are_refused(self, workdir: Path) -> None:
        result = run_cli("serve", "--workers", "2", cwd=workdir)
        assert result.returncode == 2
        line = one_clear_line(result)
        assert "USERCENTER_REDIS_URL" in line
        assert "in-process cache" in line

    @pytest.mark.parametrize(
        "url", ["postgresql://postgres@127.0.0.1:9/none", "mysql://root@127.0.0.1:9/none"]
    )
    def test_server_database_without_field_keys_is_refused(self, workdir: Path, url: str) -> None:
        # Checked before anything is reached or written: no key file appears on this disk.
        result = run_cli("serve", cwd=workdir, USERCENTER_DATABASE_URL=url)
        assert result.returncode == 2
        line = one_clear_line(result)
        assert "USERCENTER_SECRET_KEYS" in line
        assert "USERCENTER_BLIND_INDEX_KEY" in line
        assert "usercenter keys generate" in line
        assert not (workdir / "keys").exists()

    def test_server_database_with_a_blind_index_key_alone_names_the_other(
        self, workdir: Path
    ) -> None:
        result = run_cli(
            "serve",
            cwd=workdir,
            USERCENTER_DATABASE_URL="postgresql://postgres@127.0.0.1:9/none",
            USERCENTER_BLIND_INDEX_KEY=TEST_KEYS.blind_index_key_b64,
        )
        assert result.returncode == 2
        line = one_clear_line(result)
        assert "USERCENTER_SECRET_KEYS" in line
        assert "USERCENTER_BLIND_INDEX_KEY" not in line


class TestCheck:
    def test_embedded_default_reports_each_backend(self, workdir: Path) -> None:
        result = run_cli("check", cwd=workdir)
        assert result.returncode == 0, result.stderr
        assert "SQLite" in result.stdout
        assert "in-process" in result.stdout

    def test_unreachable_redis_fails(self, workdir: Path) -> None:
        result = run_cli("check", cwd=workdir, USERCENTER_REDIS_URL="redis://127.0.0.1:1/0")
        assert result.returncode == 3
        assert "redis" in result.stderr
        assert "FAIL" in result.stderr

    def test_reaches_redis_and_broker(self, workdir: Path) -> None:
        result = run_cli(
            "check",
            cwd=workdir,
            USERCENTER_REDIS_URL=service_url("redis"),
            USERCENTER_BROKER_URL=service_url("broker"),
        )
        assert result.returncode == 0, result.stderr
        assert "Redis" in result.stdout
        assert "RabbitMQ" in result.stdout


@pytest.fixture
async def empty_server_database(database_url: str, backend_name: str) -> AsyncIterator[str]:
    """A new, empty database on the same server as the test database."""
    if backend_name == "sqlite":
        pytest.skip("server databases only")
    url = normalize_database_url(database_url)
    name = f"{url.database}_empty"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    quoted = f"`{name}`" if backend_name == "mysql" else f'"{name}"'
    async with admin.connect() as connection:
        await connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
        await connection.execute(text(f"CREATE DATABASE {quoted}"))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    async with admin.connect() as connection:
        await connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
    await admin.dispose()


class TestMigrateAndServe:
    def test_serve_on_a_server_database_refuses_an_old_schema_until_migrated(
        self, workdir: Path, empty_server_database: str
    ) -> None:
        env = {
            "USERCENTER_DATABASE_URL": empty_server_database,
            # A server database needs configured field keys before serve looks at the schema.
            "USERCENTER_SECRET_KEYS": TEST_KEYS.secret_keys_item,
            "USERCENTER_BLIND_INDEX_KEY": TEST_KEYS.blind_index_key_b64,
        }
        refused = run_cli("serve", cwd=workdir, **env)
        assert refused.returncode == 4
        assert "usercenter migrate" in refused.stderr
        assert "Traceback" not in refused.stderr

        behind = run_cli("check", cwd=workdir, **env)
        assert behind.returncode == 4, behind.stdout + behind.stderr
        assert "usercenter migrate" in behind.stderr

        migrated = run_cli("migrate", cwd=workdir, **env)
        assert migrated.returncode == 0, migrated.stderr
        assert f"schema at {schema.head_revisions()[0]}" in migrated.stdout

        checked = run_cli("check", cwd=workdir, **env)
        assert checked.returncode == 0, checked.stderr

    def test_serve_on_the_embedded_default(self, workdir: Path, serve: object) -> None:
        url, process = serve()  # type: ignore[operator]
        assert httpx.get(f"{url}/readyz").status_code == 200
        assert (workdir / "usercenter.db").exists()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert process.returncode in (0, -signal.SIGTERM)
        events = [json.loads(line)["event"] for line in output.splitlines()]
        assert "usercenter_stopped" in events
        first = json.loads(output.splitlines()[0])
        assert first["event"] == "usercenter_starting"
        assert first["database"].startswith("sqlite")
        assert first["cache"] == "in-process"

    def test_development_sms_sender_shows_codes_at_the_default_level(
        self, workdir: Path, serve: object
    ) -> None:
        url, process = serve()  # type: ignore[operator]
        phone = "13912341234"
        sent = httpx.post(f"{url}/v1/sms/codes", json={"phone": phone, "purpose": "login"})
        assert sent.status_code == 202, sent.text
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
        lines = [json.loads(line) for line in output.splitlines()]
        [warning] = [line for line in lines if line["event"] == "development_sms_sender"]
        assert warning["level"] == "warning"
        assert "NOT delivered" in warning["detail"]
        [sent_line] = [line for line in lines if line["event"] == "sms_code_sent"]
        assert sent_line["phone"] == "139****1234"
        assert re.fullmatch(r"[0-9]{6}", sent_line["code"])
        assert phone not in output

    def test_serve_believes_x_forwarded_for_only_from_trusted_proxies(
        self, workdir: Path, serve: object
    ) -> None:
        url, _ = serve()  # type: ignore[operator]
        body = {"username": "proxy_test", "password": "correct horse 42", "platform": "WEB"}
        # From 127.0.0.1, which uvicorn believes by default: the header must not be.
        login = httpx.post(
            f"{url}/v1/auth/register",
            json=body,
            headers={"X-Forwarded-For": "<img src=x onerror=alert(1)>"},
        )
        assert login.status_code == 201, login.text
        token = login.json()["access_token"]
        listed = httpx.get(f"{url}/v1/me/sessions", headers={"Authorization": f"Bearer {token}"})
        assert [item["ip"] for item in listed.json()] == ["127.0.0.1"]

    def test_serve_with_two_workers_on_redis(self, workdir: Path, serve: object) -> None:
        token = "ops-token-0123456789"
        url, _ = serve(  # type: ignore[operator]
            "--workers",
            "2",
            USERCENTER_REDIS_URL=service_url("redis"),
            USERCENTER_METRICS_TOKEN=token,
        )
        response = httpx.get(f"{url}/readyz", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.json()["checks"]["cache"]["ok"] is True


PROJECT = Path(__file__).resolve().parents[1]


def readme_blocks(heading: str) -> list[str]:
    """The shell blocks of one README section, as a reader would paste them."""
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = re.split(r"\n#{2,6} ", text.split(f"\n{heading}\n", 1)[1], maxsplit=1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free ports."""
    for _ in range(50):
        base = random.randint(20_000, 60_000)
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise AssertionError("no run of free ports")


class TestReadmeDemo:
    def test_the_mini_program_demo_works_when_pasted_and_leaves_nothing_for_git(
        self, workdir: Path
    ) -> None:
        demo, stop = readme_blocks("### The mini-program login on a laptop")
        stubs_port, serve_port = free_port_run(6), free_port_run(1)
        script = (demo + stop).replace("18700", str(stubs_port)).replace(
            "8000", str(serve_port)
        ) + "wait\n"
        # The project's root as the demo sees it: its .gitignore and .venv/bin/usercenter.
        shutil.copy(PROJECT / ".gitignore", workdir / ".gitignore")
        (workdir / ".venv" / "bin").mkdir(parents=True)
        (workdir / ".venv" / "bin" / "usercenter").symlink_to(
            Path(sys.executable).parent / "usercenter"
        )
        git, bash = shutil.which("git"), shutil.which("bash")
        assert git is not None
        assert bash is not None
        subprocess.run([git, "init", "-q", str(workdir)], check=True)
        clean = {k: v for k, v in os.environ.items() if not k.startswith("USERCENTER_")}
        process = subprocess.Popen(
            [bash, "-c", script],
            cwd=workdir,
            env=clean,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        assert process.returncode == 0, output
        answer = json.loads(output.strip().splitlines()[-1])
        assert answer["access_token"]
        assert answer["is_new_user"] is True
        assert (workdir / "usercenter.db").exists()
        untracked = subprocess.run(
            [git, "status", "--porcelain", "--untracked-files=all"],
            cwd=workdir,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert untracked == ["?? .gitignore"]
