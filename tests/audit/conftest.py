"""Fixtures for audit tests: the identity tests' apps (each database, in-process cache and
Redis)."""

from __future__ import annotations

from tests.identity.conftest import AppFactory, app, http, make_app

__all__ = ["AppFactory", "app", "http", "make_app"]
