"""The platform's services: client apps (`ClientApps`), dictionaries (`Dictionaries`),
configuration entries (`SystemConfig`) and the GB/T 2260 regions (`Regions`)."""

from usercenter.kit.regions import ResolvedRegion
from usercenter.platform.service.client_apps import ClientApps
from usercenter.platform.service.config import SystemConfig
from usercenter.platform.service.dictionaries import Dictionaries
from usercenter.platform.service.regions import Regions

__all__ = ["ClientApps", "Dictionaries", "Regions", "ResolvedRegion", "SystemConfig"]
