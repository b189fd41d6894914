"""API shapes of the events module: the feed, the staff's event browser and relay status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from usercenter.kit.schemas import Schema


class CloudEventOut(Schema):
    """A CloudEvents 1.0 envelope, as published to the broker."""

    specversion: str = Field(description="Always 1.0")
    id: str = Field(description="The event id; also the AMQP message_id. Dedupe on it.")
    source: str
    type: str = Field(description="usercenter.user.registered …; also the AMQP routing key")
    subject: str = Field(description="What changed: users/42, accounts/7 …")
    time: str = Field(description="When the change committed (UTC, ISO 8601)")
    datacontenttype: str
    subjectseq: int = Field(description="The subject's sequence number, one more each event")
    position: int = Field(description="Place in the feed; pass the last one as `after`")
    data: dict[str, Any]


class FeedPageOut(Schema):
    items: list[CloudEventOut]
    next_cursor: str = Field(description="Pass as `after` for the next page")
    has_more: bool = Field(description="More events follow right away")


class EventRowOut(Schema):
    """An event as the console shows it: whether it went out yet."""

    row_id: int
    id: str
    type: str
    subject: str
    subjectseq: int
    time: datetime
    position: int | None = Field(description="None until the relay gives it one")
    published: bool
    data: dict[str, Any]

    @classmethod
    def of(cls, row: Any, published_through: int) -> EventRowOut:
        return cls(
            row_id=row.id,
            id=row.event_id,
            type=row.type,
            subject=row.subject,
            subjectseq=row.subject_seq,
            time=row.occurred_at,
            position=row.position,
            published=row.position is not None and row.position <= published_through,
            data=row.data,
        )


class EventRowPage(Schema):
    items: list[EventRowOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class EventTypeOut(Schema):
    type: str
    subject_kind: str
    summary: str


class RelayErrorOut(Schema):
    at: str
    message: str


class RelayStatusOut(Schema):
    holder: str | None = Field(description="The process holding the lease; None: no relay")
    lease_until: datetime | None
    heartbeat_at: datetime | None
    epoch: int = Field(description="Grows by one at every take-over")
    broker: bool = Field(description="Whether a broker is configured (else: the feed only)")
    sequenced_through: int
    published_through: int
    trimmed_through: int
    backlog: int = Field(description="Events not yet published")
    oldest_unpublished_age_seconds: float | None
    errors: list[RelayErrorOut] = Field(description="The last failures, newest first")
