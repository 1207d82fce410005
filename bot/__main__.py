"""The `candor` command: serve, shell, migrate."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.config import ConfigError, Settings
from bot.logs import setup_logging
from bot.store import SchemaTooNewError, open_store
from handlers.catalog import CatalogError


def _serve(settings: Settings) -> int:
    from bot.edge import serve
    from bot.server import build_app

    # Open once up front so a bad database or data file stops start-up with one clear line.
    open_store(settings.db_path).close()
    from handlers.catalog import load_catalog

    load_catalog(settings.data_dir)
    logging.getLogger("candor").info("starting", extra={"port": settings.port})
    serve(build_app(settings), host="0.0.0.0", port=settings.port)
    return 0


def _migrate(settings: Settings) -> int:
    store = open_store(settings.db_path)
    store.close()
    print(f"database at {settings.db_path} is up to date")
    return 0


def _shell(settings: Settings) -> int:
    from bot.shell import main as shell_main

    return shell_main(settings)


COMMANDS = {
    "serve": (_serve, True, "run the HTTP server for Slack (needs SLACK_* variables)"),
    "shell": (_shell, False, "try Candor in this terminal, no workspace needed"),
    "migrate": (_migrate, False, "create or upgrade the database schema, then exit"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="candor", description="Candor chat bot")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, _, summary) in COMMANDS.items():
        sub.add_parser(name, help=summary)
    args = parser.parse_args(argv)
    run, need_slack, _ = COMMANDS[args.command]
    try:
        settings = Settings.from_env(need_slack=need_slack)
        setup_logging(settings.log_level)
        return run(settings)
    except (ConfigError, SchemaTooNewError, CatalogError) as exc:
        print(f"candor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
