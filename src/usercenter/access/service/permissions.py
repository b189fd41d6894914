"""Effective permissions: what a subject (a user or a staff account) holds, by code and scope,
cached, and the privilege ceiling a staff member acts under.

Cached permissions are keyed by `access_version`, a row every change moves in its own
transaction. A process trusts the version it last read for `access_memo_seconds` (0.5 s), so
a change committed anywhere is seen everywhere within that; with Redis, the change is also
published once committed and every process forgets the version at once (the poll stays as the
fallback for a lost message). A subject's permissions computed for a version are kept in the
shared cache (Redis when configured) and in process memory.
A stale value can never be stored under a newer version: the version is read before the
permissions, and the change and its version move commit together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access import repository
from usercenter.access.errors import PrivilegeExceeded
from usercenter.access.models import Status, SubjectType
from usercenter.config import Settings
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.kit.broadcast import Broadcast
from usercenter.kit.cache import Cache
from usercenter.kit.schemas import MAX_INT64

EVERYWHERE = "*"
PERMISSIONS_CACHE_TTL_SECONDS = 300
CHANGES_CHANNEL = "usercenter:access:changed"
_LOCAL_ENTRIES_MAX = 50_000


@dataclass(frozen=True, slots=True)
class Scope:
    type: str
    id: int

    def key(self) -> str:
        return f"{self.type}:{self.id}"


@dataclass(frozen=True, slots=True)
class Subject:
    type: str
    id: int

    def key(self) -> str:
        return f"{self.type}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Subject | None:
        """`staff:5`, `user:123` or a bare user id `123`."""
        kind, sep, rest = text.partition(":")
        if not sep:
            kind, rest = SubjectType.USER, text
        if kind not in (SubjectType.USER, SubjectType.STAFF) or not rest.isdigit():
            return None
        subject_id = int(rest)
        return cls(kind, subject_id) if 1 <= subject_id <= MAX_INT64 else None


@dataclass(frozen=True, slots=True)
class Effective:
    """What a subject may do: permission code -> the scopes it holds it in (`*`: all)."""

    held: Mapping[str, frozenset[str]]

    def allows(self, code: str, scope: Scope | None = None) -> bool:
        scopes = self.held.get(code)
        if not scopes:
            return False
        return EVERYWHERE in scopes or (scope is not None and scope.key() in scopes)

    def lacks(self, other: Effective) -> list[str]:
        """The codes `other` holds somewhere this does not hold (everywhere, or in each of
        those scopes): what a holder of this may not hand out nor manage."""
        missing = []
        for code, scopes in other.held.items():
            mine = self.held.get(code, frozenset())
            if EVERYWHERE not in mine and not scopes <= mine:
                missing.append(code)
        return sorted(missing)

    def to_json(self) -> str:
        return json.dumps({code: sorted(scopes) for code, scopes in self.held.items()})

    @classmethod
    def from_json(cls, text: str) -> Effective:
        return cls({code: frozenset(scopes) for code, scopes in json.loads(text).items()})


NOTHING = Effective({})


def within(ceiling: Effective | None, wanted: Effective) -> None:
    """Raise PrivilegeExceeded unless `ceiling` (the acting staff member's permissions; None:
    a trusted caller such as the command line) holds all of `wanted`."""
    if ceiling is None:
        return
    missing = ceiling.lacks(wanted)
    if missing:
        more = f" (+{len(missing) - 10})" if len(missing) > 10 else ""
        raise PrivilegeExceeded(missing=", ".join(missing[:10]) + more)


def codes_in(codes: Sequence[str], scope: Scope | None = None) -> Effective:
    """`codes` held in `scope` (everywhere when None)."""
    where = frozenset({scope.key() if scope else EVERYWHERE})
    return Effective(dict.fromkeys(codes, where))


class _VersionMemo:
    """The access version this process last read, trusted for `ttl` seconds of `now()` (the
    service's monotonic clock by default, so tests advance time instead of sleeping; a reading
    costs a small fraction of a check, where a wall-clock datetime cost as much as the check).
    A clock that went backwards ends the trust at once."""

    def __init__(self, ttl: float, now: Callable[[], float] = clock.monotonic) -> None:
        self.ttl = ttl
        self.now = now
        self.value: int | None = None
        self.read_at = 0.0

    def get(self) -> int | None:
        if self.value is None:
            return None
        elapsed = self.now() - self.read_at
        if elapsed < 0 or elapsed >= self.ttl:
            return None
        return self.value

    def put(self, value: int, read_at: float) -> None:
        self.value, self.read_at = value, read_at

    def drop(self) -> None:
        self.value = None


class PermissionService:
    """Permission checks (`effective`, `is_allowed`) and the change signal every write to
    roles, permissions, grants or staff status sends (`changed`)."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        cache: Cache,
        broadcast: Broadcast | None = None,
        now: Callable[[], float] = clock.monotonic,
    ) -> None:
        self.database = database
        self.cache = cache
        self.broadcast = broadcast
        self._now = now
        self._version = _VersionMemo(settings.access_memo_seconds, now)
        self._local: dict[tuple[int, str], Effective] = {}

    async def _current_version(self) -> int:
        version = self._version.get()
        if version is not None:
            return version
        read_at = self._now()
        async with self.database.read_session() as session:
            version = await repository.access_version(session)
        if version != self._version.value:
            self._local.clear()
        self._version.put(version, read_at)
        return version

    async def effective(self, subject: Subject) -> Effective:
        """The subject's permissions, from process memory, the cache or the database."""
        found = self._local.get((await self._current_version(), subject.key()))
        if found is not None:
            return found
        return (await self.effective_many([subject]))[subject.key()]

    async def effective_many(self, subjects: Sequence[Subject]) -> dict[str, Effective]:
        """Several subjects' permissions, by subject key: process memory first, then one cache
        round trip for the rest, then one database session for what neither had."""
        version = await self._current_version()
        found: dict[str, Effective] = {}
        missing: dict[str, Subject] = {}
        for subject in subjects:
            key = subject.key()
            hit = self._local.get((version, key))
            if hit is not None:
                found[key] = hit
            else:
                missing[key] = subject
        if not missing:
            return found
        keys = list(missing)
        cached = await self.cache.get_many(*(f"access:perm:{version}:{key}" for key in keys))
        to_compute = [key for key, text in zip(keys, cached, strict=True) if text is None]
        for key, text in zip(keys, cached, strict=True):
            if text is not None:
                found[key] = Effective.from_json(text)
        if to_compute:
            async with self.database.read_session() as session:
                for key in to_compute:
                    found[key] = await self._compute(session, missing[key])
            for key in to_compute:
                await self.cache.set(
                    f"access:perm:{version}:{key}",
                    found[key].to_json(),
                    ttl=PERMISSIONS_CACHE_TTL_SECONDS,
                )
        if len(self._local) + len(missing) > _LOCAL_ENTRIES_MAX:
            self._local.clear()
        for key in missing:
            self._local[(version, key)] = found[key]
        return found

    async def _compute(self, session: AsyncSession, subject: Subject) -> Effective:
        if subject.type == SubjectType.STAFF:
            status = await repository.staff_status(session, subject.id)
            if status != Status.ACTIVE:
                return NOTHING
        return await self.held(session, subject)

    async def held(self, session: AsyncSession, subject: Subject) -> Effective:
        """What the subject's grants give, whatever the account's status (a disabled staff
        member's power is what enabling them gives back)."""
        held: dict[str, set[str]] = {}
        for code, scope_type, scope_id in await repository.held_permissions(
            session, subject.type, subject.id
        ):
            held.setdefault(code, set()).add(
                f"{scope_type}:{scope_id}" if scope_type else EVERYWHERE
            )
        return Effective({code: frozenset(scopes) for code, scopes in held.items()})

    async def is_allowed(self, subject: Subject, code: str, scope: Scope | None = None) -> bool:
        return (await self.effective(subject)).allows(code, scope)

    async def staff_within(
        self, session: AsyncSession, staff_id: int, ceiling: Effective | None
    ) -> None:
        """PrivilegeExceeded unless `ceiling` holds all the staff member's grants give: who
        manages an account must hold at least what it holds."""
        if ceiling is not None:
            within(ceiling, await self.held(session, Subject(SubjectType.STAFF, staff_id)))

    # --- change signal ------------------------------------------------------------------------

    async def changed(self, session: AsyncSession) -> None:
        """Every change calls this in its transaction: cached permissions go stale with it,
        here at once and, once it commits, in every other process too."""
        await repository.bump_access_version(session)
        self._version.drop()
        if not session.info.get("access_changed"):
            session.info["access_changed"] = True
            event.listen(session.sync_session, "after_commit", self._committed, once=True)

    def _committed(self, session: Any) -> None:
        # Dropped again: a request of this process may have read the old version meanwhile.
        session.info.pop("access_changed", None)
        self._version.drop()
        if self.broadcast is not None:
            self.broadcast.publish_soon("changed")

    def _heard(self, message: str | None) -> None:
        """A change published by a process (or a new subscription: some may have been
        missed): read the version again on the next check."""
        self._version.drop()

    def start(self) -> None:
        """Listen for changes other processes publish (with Redis); in the running loop."""
        if self.broadcast is not None:
            self.broadcast.listen(self._heard)

    async def close(self) -> None:
        if self.broadcast is not None:
            await self.broadcast.close()
