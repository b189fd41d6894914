"""`get_logger`: every module's structured logger. How records are rendered and masked is set
once at start-up by `usercenter.logs.configure_logging`."""

from __future__ import annotations

import structlog


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
