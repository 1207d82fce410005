"""The `candor` command: serve, shell, migrate.

Anything an operator can fix (a setting, the database file, the token) stops it with one line on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from bot.config import ConfigError, Settings, variables_for
from bot.logs import setup_logging
from bot.platform import CredentialsRejected
from bot.store import SchemaTooNewError, StoreError, lock_database, open_store
from handlers.catalog import CatalogError

log = logging.getLogger("candor")


def _serve(settings: Settings) -> int:
    from bot.edge import serve
    from bot.server import build_app
    from handlers.catalog import load_catalog

    settings.check_for_serve()
    lock = lock_database(settings.db_path)  # held until this process ends
    try:
        # Up front, so a bad database or data file stops start-up with one clear line.
        open_store(settings.db_path).close()
        load_catalog(settings.data_dir)
        try:
            serve(build_app(settings), host=settings.host, port=settings.port)
        except OSError as exc:  # binding: an address in use or one this machine does not have
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ConfigError(
                f"cannot listen on {settings.host}:{settings.port} (HOST, PORT): {reason}"
            ) from None
    finally:
        lock.release()
    return 0


def _migrate(settings: Settings) -> int:
    store = open_store(settings.db_path)
    store.close()
    print(f"database at {settings.db_path} is up to date")
    return 0


def _shell(settings: Settings) -> int:
    from bot.shell import main as shell_main

    return shell_main(settings)


@dataclass(frozen=True)
class Subcommand:
    run: Callable[[Settings], int]
    needs_slack: bool
    summary: str
    description: str


COMMANDS = {
    "serve": Subcommand(
        _serve,
        True,
        "run the HTTP server for Slack and/or Teams (needs SLACK_* or MICROSOFT_* variables)",
        "Run the HTTP server Slack and Teams talk to (POST /slack/events, POST /api/messages, GET "
        "/healthz) with the outbox and the scheduler, after applying migrations. A bad setting, a "
        "database that cannot be written or that another `candor serve` is using, or a token "
        "Slack rejects stops it with one line and exit code 2.",
    ),
    "shell": Subcommand(
        _shell,
        False,
        "try Candor in this terminal, no workspace needed",
        "Try Candor in this terminal with no workspace: type slash commands as in Slack (/help "
        "lists them); what the bot would post is printed.",
    ),
    "migrate": Subcommand(
        _migrate,
        False,
        "create or upgrade the database schema, then exit",
        "Create or upgrade the database schema at CANDOR_DB, then exit. A database written by a "
        "newer Candor is refused untouched.",
    ),
}


def _version() -> str:
    try:
        return version("candor")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="candor",
        description="Candor: a chat bot for teams that are psychologically safe and accountable.",
    )
    parser.add_argument("--version", action="version", version=f"candor {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub.add_parser(
            name,
            help=command.summary,
            description=textwrap.fill(command.description, 78),  # the epilog keeps its layout
            epilog="environment variables it reads:\n" + variables_for(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = COMMANDS[args.command]
    try:
        settings = Settings.from_env(need_slack=command.needs_slack)
        setup_logging(settings.log_level)
        return command.run(settings)
    except (ConfigError, SchemaTooNewError, CatalogError, StoreError, CredentialsRejected) as exc:
        print(f"candor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
