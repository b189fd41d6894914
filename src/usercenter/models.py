"""Every table of every module, gathered for Alembic."""

from usercenter.access import models as access_models
from usercenter.audit import models as audit_models
from usercenter.events import models as events_models
from usercenter.identity import models as identity_models
from usercenter.ids import models as ids_models
from usercenter.kit.models import Base
from usercenter.platform import models as platform_models
from usercenter.profile import models as profile_models
from usercenter.stats import models as stats_models
from usercenter.tokens import models as tokens_models
from usercenter.wallet import models as wallet_models

metadata = Base.metadata

__all__ = [
    "access_models",
    "audit_models",
    "events_models",
    "identity_models",
    "ids_models",
    "metadata",
    "platform_models",
    "profile_models",
    "stats_models",
    "tokens_models",
    "wallet_models",
]
