"""Routes of the extension fields: the user's own values (`PATCH /v1/me/extends`), the keys
staff declare and the values staff set (`/v1/admin/…`, `user:extends:manage`). The values are
kept by identity (GET /v1/me's cached view shows them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, status

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import Client, ReadSession, WriteSession, provided
from usercenter.identity.service.extends import ExtendKeyDraft, ExtendService
from usercenter.kit.schemas import Id, optional_body
from usercenter.profile.schemas.extends import (
    ExtendKeyIn,
    ExtendKeyList,
    ExtendKeyName,
    ExtendKeyOut,
    ExtendKeyUpdate,
    ExtendsOut,
    ExtendValueIn,
)
from usercenter.tokens.auth import CurrentClaims

MAX_KEYS_PER_CALL = 100
Extends = Annotated[ExtendService, Depends(provided(ExtendService))]
Manager = Annotated[StaffActor, StaffWith("user:extends:manage")]
Viewer = Annotated[StaffActor, StaffWith("user:view")]
Values = Annotated[
    dict[ExtendKeyName, ExtendValueIn],
    Body(
        max_length=MAX_KEYS_PER_CALL,
        description='`{"key": value, …}`; null removes a value; at most 100 keys a call',
        examples=[{"level": 3, "school": "北京大学", "vip_until": None}],
    ),
]
KeyPath = Annotated[str, Path(max_length=64)]

router = APIRouter(tags=["profile"])


@router.patch("/v1/me/extends", summary="Change the current user's extension fields")
async def update_my_extends(
    values: Values,
    claims: CurrentClaims,
    extends: Extends,
    session: WriteSession,
    client: Client,
) -> ExtendsOut:
    return ExtendsOut(extends=await extends.update_mine(session, claims.user_id, values, client))


@router.get(
    "/v1/me/extend-keys",
    summary="The extension fields a user may have: label, type, options, whether editable",
)
async def my_extend_keys(
    claims: CurrentClaims, extends: Extends, session: ReadSession
) -> ExtendKeyList:
    return ExtendKeyList(items=[ExtendKeyOut.of(k) for k in await extends.active_keys(session)])


@router.get("/v1/admin/profile/extend-keys", summary="The declared extension keys")
async def list_extend_keys(staff: Viewer, extends: Extends, session: WriteSession) -> ExtendKeyList:
    return ExtendKeyList(items=[ExtendKeyOut.of(k) for k in await extends.list_keys(session)])


@router.post(
    "/v1/admin/profile/extend-keys",
    status_code=status.HTTP_201_CREATED,
    summary="Declare an extension key",
)
async def create_extend_key(
    body: ExtendKeyIn, staff: Manager, extends: Extends, session: WriteSession
) -> ExtendKeyOut:
    staff.audit.target("extend_key", body.key)
    draft = ExtendKeyDraft(**body.model_dump())
    return ExtendKeyOut.of(await extends.create_key(session, draft))


@router.patch(
    "/v1/admin/profile/extend-keys/{key}",
    summary="Change an extension key (label, options, length, editability, status)",
)
async def update_extend_key(
    key: KeyPath,
    body: Annotated[ExtendKeyUpdate, optional_body(ExtendKeyUpdate)],
    staff: Manager,
    extends: Extends,
    session: WriteSession,
) -> ExtendKeyOut:
    staff.audit.target("extend_key", key)
    changes = body.model_dump(exclude_unset=True)
    return ExtendKeyOut.of(await extends.update_key(session, key, changes))


@router.get("/v1/admin/users/{user_id}/extends", summary="A user's extension fields")
async def user_extends(
    user_id: Id, staff: Viewer, extends: Extends, session: WriteSession
) -> ExtendsOut:
    return ExtendsOut(extends=await extends.values_of(session, user_id))


@router.put(
    "/v1/admin/users/{user_id}/extends",
    summary="Set a user's extension fields (the keys sent; null removes; logged)",
)
async def set_user_extends(
    user_id: Id, values: Values, staff: Manager, extends: Extends, session: WriteSession
) -> ExtendsOut:
    staff.audit.target("user", user_id)
    return ExtendsOut(
        extends=await extends.update_for_staff(
            session, user_id, values, staff.client, staff_id=staff.id
        )
    )
