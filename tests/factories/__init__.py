"""Factories: plain async functions, one module per module of the service, that make what a
test needs — users, staff with roles and an authenticator, grants, funded accounts, client
apps — through the services (the way the command line or another module would), or over HTTP
where a test needs what a client gets (`register`, `sms_login`, `staff_token`).

Each takes the started app (or its `Services`) first: `await make_user(app, phone=...)`,
`await make_staff(app, "finance")`.
"""

from __future__ import annotations

from fastapi import FastAPI

from usercenter.app import Services


def services_of(owner: FastAPI | Services) -> Services:
    """The services of a started app (or the services themselves)."""
    if isinstance(owner, Services):
        return owner
    services: Services = owner.state.services
    return services
