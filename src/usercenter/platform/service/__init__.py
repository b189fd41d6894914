"""The platform's services: client apps (`ClientApps`), dictionaries (`Dictionaries`) and
configuration entries (`SystemConfig`)."""

from usercenter.platform.service.client_apps import ClientApps
from usercenter.platform.service.config import SystemConfig
from usercenter.platform.service.dictionaries import Dictionaries

__all__ = ["ClientApps", "Dictionaries", "SystemConfig"]
