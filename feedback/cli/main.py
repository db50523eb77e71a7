"""The ``feedback`` command: every subcommand reads the same settings and calls one service."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from feedback.core.settings import Settings, SettingsError

T = TypeVar("T")


def load_settings() -> Settings:
    try:
        return Settings.from_env(os.environ)
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(factory())  # type: ignore[arg-type]


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Uppföljning – follow-up and user-feedback platform."""
    from feedback.core.logs import configure_logging

    settings = load_settings()
    configure_logging(
        settings.log_level,
        json_lines=settings.log_json,
        secrets=(
            settings.secret_key,
            settings.twilio_auth_token,
            settings.index_key,
            settings.oidc_client_secret,
            *settings.data_keys,
        ),
    )
    ctx.obj = settings


@main.command()
@click.pass_obj
def migrate(settings: Settings) -> None:
    """Upgrade the database schema to the newest revision."""
    from feedback.core import migrate as migrations

    migrations.upgrade(settings.database_url)
    click.echo("database is up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--with-worker", is_flag=True, help="Run the background worker inside the web process (development)."
)
@click.pass_obj
def serve(settings: Settings, host: str, port: int, with_worker: bool) -> None:
    """Serve the web app with uvicorn."""
    import uvicorn

    from feedback.web.app import create_app

    if with_worker:
        settings = settings.with_overrides(start_worker_in_app=True)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        # X-Forwarded-For only from FEEDBACK_TRUSTED_PROXIES (the login throttle counts per client).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies) or None,
        server_header=False,  # no "server: uvicorn" banner
    )


@main.command()
@click.pass_obj
def worker(settings: Settings) -> None:
    """Run the background worker until SIGTERM/SIGINT (finishes the current batch first)."""
    from feedback.worker import run_worker

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(_main())


@main.command("seed-demo")
@click.pass_obj
def seed_demo(settings: Settings) -> None:
    """Create demo units, users and content (idempotent) and print the logins."""
    from feedback.cli.progress import ProgressPrinter
    from feedback.demo.accounts import seed_demo as seed

    printer = ProgressPrinter()
    try:
        lines = run_async(lambda: seed(settings, printer))
    finally:
        printer.close()
    for line in lines:
        click.echo(line)


@main.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option(
    "--role", required=True, type=click.Choice(["admin", "manager", "caseworker", "panel_member", "auditor"])
)
@click.option("--unit", "units", multiple=True, help="Unit code (repeat for several units).")
@click.option("--name", default="", help="Display name.")
@click.option("--password", default=None, help="Password; prompted when omitted.")
@click.pass_obj
def users_create(
    settings: Settings, email: str, role: str, units: tuple[str, ...], name: str, password: str | None
) -> None:
    """Create a user (for example the first admin)."""
    from feedback.cli.users import create_user_command
    from feedback.core.errors import DomainError

    if password is None:
        password = click.prompt("Lösenord", hide_input=True, confirmation_prompt=True)
    try:
        run_async(
            lambda: create_user_command(
                settings, email=email, role=role, unit_codes=list(units), name=name, password=password
            )
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"created {role} {email}")


@users.command("invite")
@click.option("--email", required=True)
@click.option(
    "--role", required=True, type=click.Choice(["admin", "manager", "caseworker", "panel_member", "auditor"])
)
@click.option("--unit", "unit", default=None, help="Unit code (required except for admins).")
@click.option("--hours", default=None, type=int, help="How long the link works (default from settings).")
@click.pass_obj
def users_invite(settings: Settings, email: str, role: str, unit: str | None, hours: int | None) -> None:
    """Create a single-use invitation link and print it (there is no e-mail sending)."""
    from feedback.cli.users import invite_command
    from feedback.core.errors import DomainError

    try:
        url = run_async(
            lambda: invite_command(
                settings, email=email, role=role, unit_code=unit, hours=hours or settings.invitation_ttl_hours
            )
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"invitation for {email} ({role}); give this link to the person, it works once:")
    click.echo(url)


def _register_lifecycle(group: click.Group) -> None:
    from feedback.cli.lifecycle import register

    register(group)


_register_lifecycle(users)


def _register_optional_groups(group: click.Group) -> None:
    """Subcommand groups contributed by other packages (themes, closures, purge …)."""
    from feedback.cli.groups import GROUPS

    for command in GROUPS():
        group.add_command(command)


_register_optional_groups(main)


def entrypoint(argv: list[str] | None = None) -> Any:
    return main.main(args=argv, prog_name="feedback")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entrypoint())
