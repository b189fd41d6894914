"""Every table of every module, gathered for Alembic."""

from usercenter.ids import models as ids_models
from usercenter.kit.models import Base
from usercenter.platform import models as platform_models

metadata = Base.metadata

__all__ = ["ids_models", "metadata", "platform_models"]
