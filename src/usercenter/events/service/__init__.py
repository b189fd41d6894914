"""The events module's services: the outbox that changes write to, the relay, the feed."""

from usercenter.events.service.feed import Feed
from usercenter.events.service.outbox import Outbox
from usercenter.events.service.relay import Relay

__all__ = ["Feed", "Outbox", "Relay"]
