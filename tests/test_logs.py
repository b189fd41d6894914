from __future__ import annotations

import io
import logging

import structlog

from tests.conftest import log_lines
from usercenter.logs import get_logger


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
