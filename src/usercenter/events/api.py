"""Routes of the events module: the pull feed for services, the AsyncAPI document, and the
staff's relay status and event browser (`events:view`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import ServiceCaller, provided
from usercenter.events.asyncapi import asyncapi_document
from usercenter.events.schemas import (
    EventRowOut,
    EventRowPage,
    EventTypeOut,
    FeedPageOut,
    RelayStatusOut,
)
from usercenter.events.service import Feed
from usercenter.kit.events import event_types
from usercenter.kit.pagination import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from usercenter.kit.schemas import MAX_INT64

FeedService = Annotated[Feed, Depends(provided(Feed))]
EventViewer = Annotated[StaffActor, StaffWith("events:view")]

MAX_FEED_PAGE = 1000
MAX_WAIT_SECONDS = 30.0

router = APIRouter(tags=["events"])


@router.get(
    "/v1/events",
    summary="The event feed: every event in publishing order, with a long poll",
    description="For services that take events over HTTP instead of from RabbitMQ. Start "
    "with `after=0` (the oldest kept event) and pass `next_cursor` as `after` each time; "
    "`wait` holds the request up to that many seconds until an event comes. A cursor older "
    "than the retention gets 410 `event_cursor_expired`.",
)
async def feed(
    _: ServiceCaller,
    events: FeedService,
    after: Annotated[int, Query(ge=0, le=MAX_INT64, description="The last position seen")] = 0,
    types: Annotated[
        str | None, Query(max_length=2000, description="Only these types, comma-separated")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = 100,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS, description="Seconds")] = 0,
) -> FeedPageOut:
    wanted = [name.strip() for name in (types or "").split(",") if name.strip()]
    page = await events.read(after=after, types=wanted, limit=limit, wait=wait)
    return FeedPageOut.model_validate(
        {"items": page.items, "next_cursor": str(page.next_cursor), "has_more": page.has_more}
    )


@router.get(
    "/asyncapi.json",
    summary="The AsyncAPI 3.0 document of every event type",
    include_in_schema=False,
)
async def asyncapi(request: Request) -> JSONResponse:
    return JSONResponse(asyncapi_document(request.app.state.services.settings))


@router.get("/v1/admin/events/types", summary="Every event type, for the console's filters")
async def list_types(_: EventViewer) -> list[EventTypeOut]:
    return [
        EventTypeOut(type=name, subject_kind=model.subject_kind, summary=model.summary)
        for name, model in event_types().items()
    ]


@router.get("/v1/admin/events/relay", summary="The relay: holder, backlog, last errors")
async def relay_status(_: EventViewer, events: FeedService) -> RelayStatusOut:
    return RelayStatusOut.model_validate(await events.status())


@router.get("/v1/admin/events", summary="Events newest first, by type and subject")
async def browse(
    _: EventViewer,
    events: FeedService,
    type: Annotated[str | None, Query(max_length=80)] = None,
    subject: Annotated[str | None, Query(max_length=80, description="users/42 …")] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> EventRowPage:
    rows, published_through = await events.browse(
        type_=type, subject=subject, before_id=decode_cursor(cursor), limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return EventRowPage(
        items=[EventRowOut.of(row, published_through) for row in rows],
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )
