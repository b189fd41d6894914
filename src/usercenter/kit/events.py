"""What a module needs to emit events, without depending on the events module (which depends on
the modules for its staff routes): the `Event` base — one Pydantic model per type, registered
by its `event_type` when defined — and `EventSink`, what a service writes them to (the
events module's `Outbox`, wired by `app.build_services`).

A module declares the events it emits in its own `events.py`:

    class UserDisabled(Event):
        event_type: ClassVar[str] = "usercenter.user.disabled"
        subject_kind: ClassVar[str] = "users"
        summary: ClassVar[str] = "A user was disabled by staff; their sessions are ended"

        user_id: int
        reason: str | None = None

The subject is `<subject_kind>/<the value of subject_field>` (`users/42`). `data` is the model
dumped as JSON: ids, uids and masked values only — never a plaintext phone, e-mail, ID-card or
bank number; a consumer that needs one asks the API with the right permission.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
DATA_CONTENT_TYPE = "application/json"

_REGISTRY: dict[str, type[Event]] = {}


class Event(BaseModel):
    """The `data` of one event type. Subclasses set the class variables below."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    subject_kind: ClassVar[str]
    subject_field: ClassVar[str] = "user_id"
    summary: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.__dict__.get("event_type")
        if name is None:
            return  # an abstract base of several types
        known = _REGISTRY.get(name)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"event type {name} is declared twice: {known} and {cls}")
        _REGISTRY[name] = cls

    @property
    def subject(self) -> str:
        return f"{self.subject_kind}/{getattr(self, self.subject_field)}"

    def data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def event_types() -> dict[str, type[Event]]:
    """Every registered type by name, sorted."""
    return dict(sorted(_REGISTRY.items()))


class EventSink(Protocol):
    """Where a change writes its events, in its own transaction."""

    async def add(self, session: AsyncSession, *events: Event) -> None:
        """In a unit of work: the events commit with it, or not at all."""
        ...

    async def append(self, connection: AsyncConnection, events: Sequence[Event]) -> None:
        """In a transaction on a bare connection (a ledger batch): its owner calls `notify`
        once it has committed."""
        ...

    def notify(self) -> None:
        """Some events have committed: the relay may look now."""
        ...
