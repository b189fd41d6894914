from __future__ import annotations

import io
import json
import logging
import os
import pty
import subprocess
import sys

import structlog

from tests.conftest import log_lines, log_output
from usercenter.config import LogFormat
from usercenter.kit.log import get_logger
from usercenter.logs import ACCESS_LOGGER, access_log, configure_logging


class TestMasking:
    def test_phone_id_card_and_bank_card_never_reach_the_output(
        self, captured: io.StringIO
    ) -> None:
        get_logger("test").info(
            "bound card for 13812348888",
            id_card="440101199003071234",
            card="6222 0212 3456 1234",
            nested={"contact": ["+86 13912345678"]},
        )
        raw = captured.getvalue()
        for secret in ("13812348888", "440101199003071234", "6222 0212 3456 1234", "13912345678"):
            assert secret not in raw
        record = log_lines(captured)[-1]
        assert record["event"] == "bound card for 138****8888"
        assert record["id_card"] == "440***********1234"
        assert record["card"] == "6222****1234"
        assert record["nested"] == {"contact": ["+86 139****5678"]}

    def test_standard_library_loggers_are_masked_too(self, captured: io.StringIO) -> None:
        logging.getLogger("uvicorn.error").warning("client 13700001111 sent 6217000012345678901")
        record = log_lines(captured)[-1]
        assert record["event"] == "client 137****1111 sent 6217****8901"

    def test_request_id_from_context_is_on_every_line(self, captured: io.StringIO) -> None:
        structlog.contextvars.bind_contextvars(request_id="abc123def456")
        try:
            get_logger("test").info("something")
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        assert log_lines(captured)[-1]["request_id"] == "abc123def456"

    def test_exceptions_are_logged_with_their_traceback(self, captured: io.StringIO) -> None:
        try:
            raise ValueError("bad 13812348888")
        except ValueError:
            get_logger("test").exception("failed")
        record = log_lines(captured)[-1]
        assert "ValueError" in str(record["exception"])
        assert "13812348888" not in str(record["exception"])


_LOG_ONE_LINE = (
    "from usercenter.config import Settings; from usercenter.logs import configure_logging; "
    "from usercenter.kit.log import get_logger; "
    "s = Settings(_env_file=None); configure_logging(s.log_level, s.log_format); "
    "get_logger('usercenter').info('hello', phone='13812345678')"
)


def _log_one_line(*, to_terminal: bool, **env: str) -> str:
    """What the service's logging writes for one event when stderr is (not) a terminal."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("USERCENTER_")}
    if not to_terminal:
        result = subprocess.run(
            [sys.executable, "-c", _LOG_ONE_LINE],
            env={**clean, **env},
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return result.stderr
    leader, follower = pty.openpty()
    try:
        subprocess.run(
            [sys.executable, "-c", _LOG_ONE_LINE],
            env={**clean, **env},
            stderr=follower,
            stdout=subprocess.DEVNULL,
            check=True,
            timeout=30,
        )
        return os.read(leader, 65536).decode()
    finally:
        os.close(leader)
        os.close(follower)


class TestLogFormat:
    def test_console_lines_on_a_terminal(self) -> None:
        output = _log_one_line(to_terminal=True)
        assert "hello" in output
        assert not output.lstrip().startswith("{")
        assert "138****5678" in output
        assert "13812345678" not in output

    def test_json_lines_otherwise(self) -> None:
        [line] = _log_one_line(to_terminal=False).splitlines()
        assert json.loads(line)["event"] == "hello"
        assert json.loads(line)["phone"] == "138****5678"

    def test_the_setting_wins_over_the_terminal(self) -> None:
        output = _log_one_line(to_terminal=True, USERCENTER_LOG_FORMAT="json")
        assert json.loads(output.strip())["event"] == "hello"

    def test_access_lines_follow_the_format(self) -> None:
        lines = []
        for fmt in (LogFormat.CONSOLE, LogFormat.JSON):
            configure_logging("INFO", fmt)  # replaces the handlers: add ours after
            with log_output(ACCESS_LOGGER) as stream:
                access_log(
                    method="GET", route="/v1/me", path="/v1/me", status=200, ms=1.5, request_id="r"
                )
            lines.append(stream.getvalue().strip())
        configure_logging("WARNING", LogFormat.JSON)
        console, as_json = lines
        assert "GET /v1/me 200 1.5ms" in console
        assert not console.startswith("{")
        assert json.loads(as_json)["request_id"] == "r"
