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
from datetime import UTC, date, datetime, time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bot.config import ConfigError, Settings, variables_for
from bot.logs import setup_logging
from bot.platform import CredentialsRejected
from bot.store import SchemaTooNewError, StoreError, open_store, shown_database
from handlers.catalog import CatalogError

log = logging.getLogger("candor")


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.edge import serve
    from bot.server import build_app
    from handlers.catalog import load_catalog

    settings.check_for_serve()
    # Up front, so a bad database or data file stops start-up with one clear line. Several serve
    # processes may share the database (a SQLite file or PostgreSQL): whatever could be done twice
    # is claimed through a row.
    open_store(settings.database).close()
    load_catalog(settings.data_dir)
    try:
        serve(build_app(settings), host=settings.host, port=settings.port)
    except OSError as exc:  # binding: an address in use or one this machine does not have
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ConfigError(
            f"cannot listen on {settings.host}:{settings.port} (HOST, PORT): {reason}"
        ) from None
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    store = open_store(settings.database)
    store.close()
    print(f"database at {shown_database(settings.database)} is up to date")
    return 0


def _copy_db(settings: Settings, args: argparse.Namespace) -> int:
    from bot import copy_db

    copied = copy_db.copy(Path(args.source), args.target, replace=args.replace)
    print(
        f"copied {sum(copied.values())} rows in {len(copied)} tables to {shown_database(args.target)}; "
        "every table's count matches"
    )
    return 0


def _copy_db_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", required=True, help="the SQLite file, e.g. data/candor.db")
    parser.add_argument("--to", dest="target", required=True, help="the PostgreSQL URL, postgresql://…")
    parser.add_argument(
        "--replace", action="store_true", help="empty a target that already has data (refused otherwise)"
    )


def _shell(settings: Settings, args: argparse.Namespace) -> int:
    from bot.shell import main as shell_main

    return shell_main(settings)


def _since(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw[:40]!r} is not a date like 2026-01-01") from None


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", type=_since, required=True, help="the first day to export, e.g. 2026-01-01"
    )
    parser.add_argument("--out", required=True, help="the CSV file to write (- for standard output)")


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from handlers.registry import REGISTRY
    from handlers.reports import export

    now = SystemClock().now()
    since = datetime.combine(args.since, time(0), UTC).timestamp()
    if since >= now:
        raise ConfigError("--since must be a day in the past")
    store = open_store(settings.database)
    try:
        if args.out == "-":
            done = export.write(
                store.db, REGISTRY, sys.stdout, since=since, until=now, k=settings.anonymity_k
            )
        else:
            with open(args.out, "w", newline="", encoding="utf-8") as out:
                done = export.write(store.db, REGISTRY, out, since=since, until=now, k=settings.anonymity_k)
    except OSError as exc:
        raise ConfigError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    finally:
        store.close()
    if args.out != "-":
        print(
            f"wrote {done.rows} figures ({done.workspaces} workspaces, {done.teams} teams, month by month "
            f"since {args.since.isoformat()}) to {args.out}"
        )
    return 0


@dataclass(frozen=True)
class Subcommand:
    run: Callable[[Settings, argparse.Namespace], int]
    needs_slack: bool
    summary: str
    description: str
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


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
        "Create or upgrade the database schema at CANDOR_DATABASE_URL (PostgreSQL) or CANDOR_DB "
        "(SQLite), then exit. A database written by a newer Candor is refused untouched.",
    ),
    "export": Subcommand(
        _export,
        False,
        "write the team report's figures as CSV, month by month",
        "Write the team report's figures (speaking up, recognition, failure reviews, check-ins, "
        "agreements, the pulse) as CSV, month by month since --since, for every workspace and team "
        "in CANDOR_DB. Only aggregates, under the same k-thresholds as the report: no row identifies "
        "an anonymous concern or answer, and a workspace's figures count only the teams whose own "
        "figures are shown.",
        _export_arguments,
    ),
    "copy-db": Subcommand(
        _copy_db,
        False,
        "copy a SQLite database into an empty PostgreSQL database, counts checked",
        "Copy every table of the SQLite file --from into the PostgreSQL database --to (both brought "
        "to this Candor's schema first), ids kept, in one transaction, and check each table's row "
        "count after. A target that already has data is refused unless --replace is given. Stop "
        "`candor serve` first so nothing is written meanwhile.",
        _copy_db_arguments,
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
        parser_of = sub.add_parser(
            name,
            help=command.summary,
            description=textwrap.fill(command.description, 78),  # the epilog keeps its layout
            epilog="environment variables it reads:\n" + variables_for(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if command.arguments is not None:
            command.arguments(parser_of)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = COMMANDS[args.command]
    try:
        settings = Settings.from_env(need_slack=command.needs_slack)
        setup_logging(settings.log_level)
        return command.run(settings, args)
    except (ConfigError, SchemaTooNewError, CatalogError, StoreError, CredentialsRejected) as exc:
        print(f"candor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
