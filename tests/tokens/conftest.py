from tests.identity.conftest import app, http, make_app

__all__ = ["app", "http", "make_app"]
