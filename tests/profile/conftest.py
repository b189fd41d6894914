"""Fixtures for profile tests: the identity tests' apps (each database, the in-process cache
and Redis) and their clients."""

from __future__ import annotations

from tests.identity.conftest import app, http, make_app

__all__ = ["app", "http", "make_app"]
