"""`usercenter openapi` and the TypeScript client generated from its output.

clients/typescript/openapi.json is the command's output, committed; the client's types
(src/schema.ts) are generated from it. A route changed without regenerating both fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "clients" / "typescript" / "openapi.json"
REGENERATE = (
    "regenerate it: `usercenter openapi > clients/typescript/openapi.json && "
    "npm run generate -w clients/typescript` (then commit both files)"
)


def openapi_command(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("USERCENTER_")}
    return subprocess.run(
        [sys.executable, "-m", "usercenter", "openapi"],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_the_committed_document_is_the_commands_output(tmp_path: Path) -> None:
    done = openapi_command(tmp_path)

    assert done.returncode == 0, done.stderr
    assert COMMITTED.read_text(encoding="utf-8") == done.stdout, (
        f"{COMMITTED.relative_to(ROOT)} is stale: the routes changed since it was written; "
        + REGENERATE
    )


def test_the_command_needs_no_database_and_writes_nothing(tmp_path: Path) -> None:
    # Settings of this machine do not leak into the document, and nothing is opened: a server
    # database that is not there, a .env naming another one.
    (tmp_path / ".env").write_text("USERCENTER_DATABASE_URL=mysql://root@127.0.0.1:1/absent\n")

    done = openapi_command(
        tmp_path,
        USERCENTER_DATABASE_URL="postgresql://nobody@127.0.0.1:1/absent",
        USERCENTER_TOKEN_ALGORITHM="RS256",
        PYTHONIOENCODING="ascii",  # a terminal that cannot show "…": still UTF-8 out
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]  # no keys/, no usercenter.db
    assert done.stdout == COMMITTED.read_text(encoding="utf-8"), (
        "the settings of the machine changed the document (or it is stale: see the test above)"
    )
    document = json.loads(done.stdout)
    assert document["openapi"].startswith("3.")
    assert "/v1/auth/refresh" in document["paths"]
    assert "Problem" in document["components"]["schemas"]
    # Not ASCII-escaped: the texts read as written ("…" in descriptions).
    assert "\\u" not in done.stdout
    assert "…" in done.stdout


async def test_the_document_is_what_the_service_serves(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()

    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == served, (
        f"{COMMITTED.relative_to(ROOT)} differs from GET /openapi.json; " + REGENERATE
    )
