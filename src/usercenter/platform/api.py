"""Routes of the platform module: the GB/T 2260 regions for everyone (`/v1/regions`); for staff
(`/v1/admin/…`) dictionaries (`dict:manage`), configuration entries (`config:manage`) and client
apps (`client_app:manage`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import WriteSession, provided
from usercenter.kit.pagination import MAX_PAGE_SIZE
from usercenter.kit.schemas import Id, optional_body
from usercenter.platform.schemas import (
    DICT_TYPE_PATTERN,
    ClientAppCreateIn,
    ClientAppOut,
    ClientAppUpdateIn,
    ConfigOut,
    ConfigPutIn,
    DictCreateIn,
    DictOut,
    DictPage,
    DictTypeOut,
    DictUpdateIn,
    RegionOut,
    RegionPage,
)
from usercenter.platform.service import ClientApps, Dictionaries, Regions, SystemConfig

router = APIRouter(tags=["system"])

Apps = Annotated[ClientApps, Depends(provided(ClientApps))]
Dicts = Annotated[Dictionaries, Depends(provided(Dictionaries))]
Config = Annotated[SystemConfig, Depends(provided(SystemConfig))]
RegionTree = Annotated[Regions, Depends(provided(Regions))]

DictManager = Annotated[StaffActor, StaffWith("dict:manage")]
ConfigManager = Annotated[StaffActor, StaffWith("config:manage")]
AppManager = Annotated[StaffActor, StaffWith("client_app:manage")]

Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


# --- regions ------------------------------------------------------------------------------

# The data changes only with a release: a day in any cache, revalidated by the ETag after.
REGIONS_CACHE_CONTROL = "public, max-age=86400"


@router.get(
    "/v1/regions",
    tags=["regions"],
    response_model=RegionPage,
    summary="GB/T 2260 regions: the provinces, or the children of one (cacheable)",
)
async def list_regions(
    regions: RegionTree,
    parent: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{6}$", description="A province or city code; none: the provinces"),
    ] = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    headers = {"Cache-Control": REGIONS_CACHE_CONTROL, "ETag": regions.etag}
    children = regions.children(parent)
    if if_none_match and regions.etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    page = RegionPage(items=[RegionOut(code=r.code, name=r.name) for r in children])
    return Response(page.model_dump_json(), media_type="application/json", headers=headers)


# --- dictionaries ---------------------------------------------------------------------------


@router.get("/v1/admin/dictionaries", summary="Dictionary entries (of one type), newest first")
async def list_dictionaries(
    staff: DictManager,
    dicts: Dicts,
    session: WriteSession,
    dict_type: Annotated[str | None, Query(pattern=DICT_TYPE_PATTERN)] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> DictPage:
    page = await dicts.list_entries(session, dict_type=dict_type, cursor=cursor, limit=limit)
    return DictPage(items=[DictOut.of(row) for row in page.items], next_cursor=page.next_cursor)


@router.get("/v1/admin/dictionaries/types", summary="Dictionary types and their entry counts")
async def list_dictionary_types(
    staff: DictManager, dicts: Dicts, session: WriteSession
) -> list[DictTypeOut]:
    return [DictTypeOut.model_validate(t) for t in await dicts.list_types(session)]


@router.post("/v1/admin/dictionaries", status_code=201, summary="Add a dictionary entry")
async def create_dictionary(
    body: DictCreateIn, staff: DictManager, dicts: Dicts, session: WriteSession
) -> DictOut:
    return DictOut.of(await dicts.create_entry(session, body.model_dump(), staff.audit))


@router.patch("/v1/admin/dictionaries/{dict_id}", summary="Change a dictionary entry")
async def update_dictionary(
    dict_id: Id,
    body: Annotated[DictUpdateIn, optional_body(DictUpdateIn)],
    staff: DictManager,
    dicts: Dicts,
    session: WriteSession,
) -> DictOut:
    row = await dicts.update_entry(session, dict_id, body.model_dump(exclude_unset=True))
    return DictOut.of(row)


@router.delete(
    "/v1/admin/dictionaries/{dict_id}", status_code=204, summary="Delete a dictionary entry"
)
async def delete_dictionary(
    dict_id: Id, staff: DictManager, dicts: Dicts, session: WriteSession
) -> None:
    await dicts.delete_entry(session, dict_id)


# --- configuration --------------------------------------------------------------------------


@router.get("/v1/admin/config", summary="Every configuration entry, by group and key")
async def list_config(
    staff: ConfigManager, config: Config, session: WriteSession
) -> list[ConfigOut]:
    return [ConfigOut.of(entry) for entry in await config.list_entries(session)]


@router.put("/v1/admin/config/{key}", summary="Set a configuration entry's value")
async def set_config(
    key: Annotated[str, Path(max_length=100)],
    body: ConfigPutIn,
    staff: ConfigManager,
    config: Config,
    session: WriteSession,
) -> ConfigOut:
    entry = await config.set_value(session, key, body.value, staff_id=staff.id, audit=staff.audit)
    return ConfigOut.of(entry)


# --- client apps ----------------------------------------------------------------------------


@router.get("/v1/admin/client-apps", summary="Client apps at login providers (no secrets)")
async def list_client_apps(
    staff: AppManager, apps: Apps, session: WriteSession
) -> list[ClientAppOut]:
    return [ClientAppOut.of(view) for view in await apps.list_apps(session)]


@router.post("/v1/admin/client-apps", status_code=201, summary="Add a client app")
async def create_client_app(
    body: ClientAppCreateIn, staff: AppManager, apps: Apps, session: WriteSession
) -> ClientAppOut:
    view = await apps.create_app(
        session,
        app_type=body.app_type,
        app_id=body.app_id,
        name=body.name,
        secret=body.secret,
        extra=body.extra,
        is_active=body.is_active,
        audit=staff.audit,
    )
    return ClientAppOut.of(view)


@router.patch(
    "/v1/admin/client-apps/{client_app_id}",
    summary="Rename, switch on or off, set a new secret or change settings of a client app",
)
async def update_client_app(
    client_app_id: Id,
    body: Annotated[ClientAppUpdateIn, optional_body(ClientAppUpdateIn)],
    staff: AppManager,
    apps: Apps,
    session: WriteSession,
) -> ClientAppOut:
    view = await apps.update_app(
        session, client_app_id, body.model_dump(exclude_unset=True), staff.audit
    )
    return ClientAppOut.of(view)
