"""The `usercenter` command: serve, migrate, check, version, admin create, openapi,
stats rollup.

Configuration and connection problems end the command with one clear line on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from usercenter import __version__, schema
from usercenter.config import Backend, Settings
from usercenter.db import Database
from usercenter.kit.errors import UserCenterError
from usercenter.logs import configure_logging

if TYPE_CHECKING:
    from usercenter.app import Services

T = TypeVar("T")

EXIT_DIFFERENCES = 1
EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3
EXIT_SCHEMA = 4

cli = typer.Typer(
    name="usercenter",
    help="The user center: identities, sessions, access, profiles and a wallet ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"usercenter: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    """The settings, with logging set up by them; one line and exit 2 when they are wrong."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"USERCENTER_{'_'.join(str(p) for p in error['loc']).upper()}: "
            f"{error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        _fail(f"configuration error: {problems}", EXIT_CONFIG)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc) or type(exc).__name__
    return " ".join(text.split())[:300]


async def _with_database(
    settings: Settings, work: Callable[[Database], Awaitable[T]], database: Database | None
) -> T:
    if database is not None:  # the caller's (its services close it)
        return await work(database)
    database = Database.from_settings(settings)
    try:
        return await work(database)
    finally:
        await database.dispose()


def _run_on_database(
    settings: Settings,
    work: Callable[[Database], Awaitable[T]],
    database: Database | None = None,
) -> T:
    """Run `work` on the configured database (or the given one), failing in one line with the
    exit code of what went wrong."""
    try:
        return asyncio.run(_with_database(settings, work, database))
    except schema.SchemaBehind as exc:
        _fail(str(exc), EXIT_SCHEMA)
    except (OSError, TimeoutError) as exc:
        _fail(f"cannot reach the database: {_one_line(exc)}", EXIT_UNREACHABLE)
    except Exception as exc:
        if type(exc).__module__.startswith(("sqlalchemy", "asyncpg", "asyncmy", "sqlite3")):
            _fail(f"cannot use the database: {_one_line(exc)}", EXIT_UNREACHABLE)
        raise


def _run_with_services(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    """Run `work` with the services a serving process has (`build_services`), on a database
    whose schema is at head, and close them after; fails in one line as `_run_on_database`."""
    from usercenter.app import build_services

    try:
        services = build_services(settings)
    except ValueError as exc:
        _fail(f"configuration error: {exc}", EXIT_CONFIG)

    async def run(database: Database) -> T:
        try:
            status = await schema.schema_status(database)
            if not status.is_at_head:
                raise schema.SchemaBehind(status)
            return await work(services)
        finally:
            await services.close()

    return _run_on_database(settings, run, services.database)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Processes; >1 needs Redis")] = 1,
) -> None:
    """Run the HTTP service (migrates an embedded SQLite database by itself)."""
    import uvicorn

    from usercenter.app import describe_backends
    from usercenter.kit.log import get_logger
    from usercenter.security.keys import require_configured_keys

    settings = _settings()
    try:
        require_configured_keys(settings)
    except ValueError as exc:
        _fail(f"configuration error: {exc}", EXIT_CONFIG)
    if workers > 1 and not settings.redis_url:
        _fail(
            f"--workers {workers} needs USERCENTER_REDIS_URL: the in-process cache cannot be "
            "shared between processes",
            EXIT_CONFIG,
        )
    get_logger("usercenter").info(
        "usercenter_starting",
        version=__version__,
        host=host,
        port=port,
        workers=workers,
        trusted_proxies=[str(network) for network in settings.trusted_proxies],
        **describe_backends(settings),
    )
    _run_on_database(settings, schema.prepare_schema)
    if settings.password_hash_concurrency is None:
        # Worker processes share the cores: each hashes at most its share at once.
        share = max(1, (os.cpu_count() or 1) // workers)
        os.environ["USERCENTER_PASSWORD_HASH_CONCURRENCY"] = str(share)
    uvicorn.run(
        "usercenter.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        # X-Forwarded-For is read by the app, and only from USERCENTER_TRUSTED_PROXIES
        # (deps._client_info); uvicorn's own reading would believe any local peer.
        proxy_headers=False,
    )


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Upgrade the database schema (to head unless told otherwise)."""
    settings = _settings()

    async def work(database: Database) -> schema.SchemaStatus:
        await schema.upgrade(database, revision)
        return await schema.schema_status(database)

    status = _run_on_database(settings, work)
    typer.echo(f"{settings.backend.value}: {status.describe()}")


@cli.command()
def reconcile(
    as_json: Annotated[bool, typer.Option("--json", help="The report as one JSON object")] = False,
) -> None:
    """Recompute every wallet balance from its entries and check the ledger's invariants;
    exit 1 on any difference."""
    from usercenter.wallet.service import Report
    from usercenter.wallet.service import reconcile as reconcile_ledger

    settings = _settings()

    async def work(database: Database) -> Report:
        status = await schema.schema_status(database)
        if not status.is_at_head:
            raise schema.SchemaBehind(status)
        return await reconcile_ledger(database)

    report = _run_on_database(settings, work)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "clean": report.is_clean,
                    "accounts": report.accounts,
                    "transfers": report.transfers,
                    "entries": report.entries,
                    "differences": [
                        {k: str(v) for k, v in asdict(d).items()} for d in report.differences
                    ],
                }
            )
        )
    else:
        for d in report.differences:
            typer.echo(f"DIFF {d.check}: {d.subject}: expected {d.expected}, found {d.found}")
        verdict = "clean" if report.is_clean else f"{len(report.differences)} difference(s)"
        typer.echo(
            f"checked {report.accounts} accounts, {report.transfers} transfers, "
            f"{report.entries} entries: {verdict}"
        )
    if not report.is_clean:
        raise typer.Exit(EXIT_DIFFERENCES)


keys_cli = typer.Typer(help="Token signing keys and field-encryption keys.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")


@keys_cli.command("rotate")
def rotate_signing_key() -> None:
    """Make a new access-token signing key; the old ones keep verifying until expiry."""
    settings = _settings()

    async def work(services: Services) -> str:
        return await services.signing_keys.rotate()

    kid = _run_with_services(settings, work)
    typer.echo(
        f"new signing key {kid} ({settings.token_algorithm.value}); servers pick it up "
        "within a minute, older keys stay published until their tokens expire"
    )


@keys_cli.command("generate")
def generate_field_keys() -> None:
    """Print a new field-encryption key and blind-index key as environment lines."""
    from usercenter.security.keys import generate_key_material

    for line in generate_key_material().env_lines():
        typer.echo(line)


admin_cli = typer.Typer(help="Staff accounts of the back office.", no_args_is_help=True)
cli.add_typer(admin_cli, name="admin")


@admin_cli.command("create")
def create_admin(
    username: Annotated[str, typer.Option(help="The staff member's login name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    role: Annotated[str, typer.Option(help="Role code held everywhere")] = "super_admin",
) -> None:
    """Create a staff account (a super admin by default): the first one bootstraps the back
    office; it sets up its authenticator at first login."""
    settings = _settings()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(services: Services) -> int:
        async with services.database.unit_of_work() as session:
            # The operator of the machine: no ceiling (this is how the first one is made).
            staff = await services.staff.create_staff(
                session, username=username, password=password, roles=[role], ceiling=None
            )
            return staff.id

    try:
        staff_id = _run_with_services(settings, work)
    except UserCenterError as exc:
        _fail(f"{exc.code}: {exc.detail('en')}", 1)
    typer.echo(f"staff account {username} (id {staff_id}) created with role {role}")
    if settings.staff_totp_required:
        typer.echo(
            "at its first login it sets up an authenticator (POST /v1/admin/me/totp, then "
            "/v1/admin/me/totp/confirm) and logs in again with a code"
        )


stats_cli = typer.Typer(help="The dashboard's daily statistics.", no_args_is_help=True)
cli.add_typer(stats_cli, name="stats")


@stats_cli.command("rollup")
def stats_rollup() -> None:
    """Count the days since the last final one up to today (China calendar days) into the
    daily statistics; what `serve` does every USERCENTER_STATS_ROLLUP_SECONDS."""
    settings = _settings()

    async def work(services: Services) -> tuple[list[str], int]:
        done = await services.database.run_in_transaction(services.stats.rollup)
        return [day.isoformat() for day in done.counted], done.finalized

    counted, finalized = _run_with_services(settings, work)
    span = f"{counted[0]} to {counted[-1]}" if counted else "nothing"
    typer.echo(f"rolled up {len(counted)} day(s) ({span}), {finalized} made final")


@cli.command()
def relay() -> None:
    """Run the events relay alone (for a deployment whose `serve` processes run with
    USERCENTER_EVENTS_RELAY=false); one relay is active at a time, the others stand by."""
    settings = _settings()

    async def work(services: Services) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        services.relay.start()
        typer.echo(f"relay {services.relay.holder} running; Ctrl-C stops it")
        await stop.wait()

    _run_with_services(settings, work)


@cli.command()
def stubs(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    base_port: Annotated[
        int | None, typer.Option(help="First port (WeChat); the others follow; default: free ones")
    ] = None,
) -> None:
    """Serve local stand-ins for WeChat, QQ, Weibo, Alipay and Apple (demos and tests)."""
    from usercenter.providers import stubs as provider_stubs

    argv = ["--host", host] + (["--base-port", str(base_port)] if base_port else [])
    provider_stubs.main(argv)


@cli.command("asyncapi")
def asyncapi_document(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The README's table of event types instead")
    ] = False,
) -> None:
    """Print the AsyncAPI 3.0 document of the events (what GET /asyncapi.json serves); needs no
    database."""
    from usercenter.app import EVENT_MODULES  # noqa: F401  (imports every event type)
    from usercenter.events.asyncapi import asyncapi_document as document
    from usercenter.events.asyncapi import catalogue_table

    if markdown:
        typer.echo(catalogue_table(), nl=False)
        return
    typer.echo(json.dumps(document(_settings()), ensure_ascii=False, indent=2))


@cli.command("openapi")
def openapi_document() -> None:
    """Print the OpenAPI document of the HTTP routes as JSON (what GET /openapi.json serves);
    needs no database and writes nothing. clients/typescript/openapi.json is this output."""
    import tempfile

    from usercenter.app import create_app
    from usercenter.security.keys import generate_key_material

    with tempfile.TemporaryDirectory(prefix="usercenter-openapi-") as scratch:
        # The document of the code, not of this machine: defaults only (no environment, no
        # .env), a database that is never opened and keys that are never stored, in a scratch
        # directory, so nothing lands in the working directory.
        keys = generate_key_material("openapi")
        settings = _DefaultsOnly(
            database_url=f"sqlite:///{scratch}/openapi.db",
            keys_dir=Path(scratch) / "keys",
            secret_keys=keys.secret_keys_item,
            blind_index_key=keys.blind_index_key_b64,
            log_level="ERROR",
        )
        app = create_app(settings)
        document = app.openapi()
        asyncio.run(app.state.services.close())
    # UTF-8 whatever the locale says (the file it goes to is UTF-8), with "\n" line ends.
    sys.stdout.flush()
    sys.stdout.buffer.write((json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())
    sys.stdout.buffer.flush()


class _DefaultsOnly(Settings):
    """Settings from the arguments and the defaults, never from the environment or `.env`."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@cli.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@cli.command()
def check() -> None:
    """Reach every configured backend (database, Redis, broker) and print its version; exit 3
    if one cannot be reached, 4 if the schema of a server database is behind."""
    from usercenter.kit.broker import BrokerLink
    from usercenter.kit.cache import RedisCache

    settings = _settings()
    failures = 0
    schema_behind = False

    def report(name: str, ok: bool, detail: str) -> None:
        nonlocal failures
        failures += 0 if ok else 1
        typer.echo(f"{name:9} {'ok  ' if ok else 'FAIL'} {detail}", err=not ok)

    async def probe(
        name: str, call: Callable[[], Awaitable[str]], failure: str = "cannot reach it: "
    ) -> None:
        try:
            report(name, True, await asyncio.wait_for(call(), 5))
        except Exception as exc:
            report(name, False, failure + _one_line(exc))

    async def run() -> None:
        nonlocal schema_behind
        database = Database.from_settings(settings)
        try:
            await probe("database", database.ping)
            if failures == 0:
                try:
                    report("schema", True, await asyncio.wait_for(_schema_line(database), 5))
                except schema.SchemaBehind as exc:
                    schema_behind = True
                    report("schema", False, str(exc))
                except Exception as exc:
                    report("schema", False, _one_line(exc))
        finally:
            await database.dispose()
        if settings.redis_url:
            cache = RedisCache(settings.redis_url)
            await probe("redis", cache.ping)
            await cache.close()
        else:
            report("cache", True, "in-process (USERCENTER_REDIS_URL not set)")
        if settings.broker_url:
            broker = BrokerLink(settings.broker_url)
            await probe("broker", broker.ping)
            await broker.close()
        else:
            report("broker", True, "none (USERCENTER_BROKER_URL not set)")

    asyncio.run(run())
    if failures:
        # Something unreachable says more than a schema behind; the schema alone is exit 4.
        raise typer.Exit(EXIT_SCHEMA if schema_behind and failures == 1 else EXIT_UNREACHABLE)


async def _schema_line(database: Database) -> str:
    status = await schema.schema_status(database)
    if status.is_at_head:
        return status.describe()
    if database.backend is Backend.SQLITE:
        return f"{status.describe()} (serve migrates SQLite itself)"
    raise schema.SchemaBehind(status)


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
