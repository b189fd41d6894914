"""The fastapi-users peer of bench/auth.py: GET /users/me with fastapi-users' JWT strategy.

Set up the way fastapi-users' documentation sets it up: a bearer transport, `JWTStrategy`, a
user manager with UUID ids, the auth, register and users routers, and a SQLAlchemy session
opened per request from an asyncpg pool (10 connections and 10 overflow per process, the
service's defaults). GET /users/me decodes the token, then loads the user row by its id from
the database on every request, as fastapi-users always does.

The user table and its adapter are written here instead of being taken from
fastapi-users-db-sqlalchemy, because that package pins SQLAlchemy below 2.1 and this project
runs 2.1. The adapter's `get` issues the same statement as that package's: one
`SELECT ... FROM "user" WHERE id = :id`, read with `unique().scalar_one_or_none()`.

    BENCH_FAU_DATABASE_URL    postgresql+asyncpg://... of its own database (required)
    BENCH_FAU_JWT_ALGORITHM   HS256 (fastapi-users' default) or ES256
    BENCH_FAU_SECRET          the HS256 secret, or the path of a PEM EC private key for ES256

    python bench/auth_peers/fastapi_users_app.py init    # drop and create the user table
    uvicorn --app-dir bench/auth_peers fastapi_users_app:app --workers 2
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.db import BaseUserDatabase
from sqlalchemy import Boolean, String, Uuid, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import Select

DATABASE_URL = os.environ["BENCH_FAU_DATABASE_URL"]
JWT_ALGORITHM = os.environ.get("BENCH_FAU_JWT_ALGORITHM", "HS256")
SECRET = os.environ.get("BENCH_FAU_SECRET", "bench-fastapi-users-secret-0123456789abcdef")
TOKEN_LIFETIME_SECONDS = 3600


class Base(DeclarativeBase):
    pass


class User(Base):
    """The columns of fastapi-users-db-sqlalchemy's SQLAlchemyBaseUserTableUUID."""

    __tablename__ = "user"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True, nullable=False)
    hashed_password: Mapped[str] = mapped_column(String(1024), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class UserDatabase(BaseUserDatabase[User, uuid.UUID]):
    """A SQLAlchemy user adapter doing what fastapi-users-db-sqlalchemy's does."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, id: uuid.UUID) -> User | None:
        return await self._one(select(User).where(User.id == id))

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(select(User).where(func.lower(User.email) == func.lower(email)))

    async def create(self, create_dict: dict[str, Any]) -> User:
        user = User(**create_dict)
        self.session.add(user)
        await self.session.commit()
        await self.session.refresh(user)
        return user

    async def update(self, user: User, update_dict: dict[str, Any]) -> User:
        for name, value in update_dict.items():
            setattr(user, name, value)
        self.session.add(user)
        await self.session.commit()
        await self.session.refresh(user)
        return user

    async def delete(self, user: User) -> None:
        await self.session.delete(user)
        await self.session.commit()

    async def _one(self, statement: Select[tuple[User]]) -> User | None:
        result = await self.session.execute(statement)
        return result.unique().scalar_one_or_none()


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = "bench-reset-secret"
    verification_token_secret = "bench-verification-secret"


def signing_keys() -> tuple[str, str | None]:
    """(key that signs, key that verifies) for the configured algorithm."""
    if JWT_ALGORITHM == "HS256":
        return SECRET, None
    pem = Path(SECRET).read_bytes()
    private_key = serialization.load_pem_private_key(pem, password=None)
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode(), public_pem.decode()


engine = create_async_engine(DATABASE_URL, pool_size=10, max_overflow=10)
session_maker = async_sessionmaker(engine, expire_on_commit=False)
ENCODE_KEY, DECODE_KEY = signing_keys()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with session_maker() as session:
        yield session


async def get_user_db(session: AsyncSession = Depends(get_session)) -> AsyncIterator[UserDatabase]:
    yield UserDatabase(session)


async def get_user_manager(
    user_db: UserDatabase = Depends(get_user_db),
) -> AsyncIterator[UserManager]:
    yield UserManager(user_db)


def get_jwt_strategy() -> JWTStrategy[User, uuid.UUID]:
    return JWTStrategy(
        secret=ENCODE_KEY,
        lifetime_seconds=TOKEN_LIFETIME_SECONDS,
        algorithm=JWT_ALGORITHM,
        public_key=DECODE_KEY,
    )


auth_backend = AuthenticationBackend(
    name="jwt",
    transport=BearerTransport(tokenUrl="auth/jwt/login"),
    get_strategy=get_jwt_strategy,
)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])

app = FastAPI(title="fastapi-users peer", openapi_url=None, docs_url=None, redoc_url=None)
app.include_router(fastapi_users.get_auth_router(auth_backend), prefix="/auth/jwt")
app.include_router(fastapi_users.get_register_router(UserRead, UserCreate), prefix="/auth")
app.include_router(fastapi_users.get_users_router(UserRead, UserUpdate), prefix="/users")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def recreate_tables() -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()


if __name__ == "__main__":
    if sys.argv[1:] != ["init"]:
        sys.exit(f"usage: {sys.argv[0]} init")
    asyncio.run(recreate_tables())
