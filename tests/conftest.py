from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bot.logs import setup_logging
from tests.support import postgres
from tests.support.candor import Candor, hold_log, make_settings
from tests.support.clock import FakeClock
from tests.support.fake_slack import FakeSlackApi


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def slack(clock: FakeClock) -> AsyncIterator[FakeSlackApi]:
    fake = await FakeSlackApi(clock).start()
    fake.add_user("UALICE", "alice")
    fake.add_user("UBOB", "bob")
    fake.add_user("UCAROL", "carol")
    fake.add_user("UHELPER", "helperbot", is_bot=True)
    yield fake
    await fake.stop()


@pytest.fixture
def settings_overrides() -> dict:
    """Override in a test module (or with parametrize) to change Settings."""
    return {}


@pytest.fixture
async def candor(tmp_path, clock, slack, settings_overrides) -> AsyncIterator[Candor]:
    settings = make_settings(
        postgres.default_database(tmp_path, "candor.db"), slack.url, **settings_overrides
    )
    server = await Candor(settings, clock, slack).start()
    yield server
    await server.stop()


# Teams: a fake Bot Connector and a Candor serving Teams (tests/support/teams.py).
from tests.support.teams import fake_teams, teams, teams_candor, teams_overrides  # noqa: E402, F401

# --- PostgreSQL: the store, claims and end-to-end tests run on both engines ------------------
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(scope="session")
def postgres_server() -> postgres.PostgresServer:
    """One throw-away server per test process, started by the first test that needs it."""
    server = postgres.shared()
    if server is None:
        pytest.skip(postgres.SKIP_REASON)
    return server


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    return request.param


@pytest.fixture
def database(engine, tmp_path, request) -> Path | str:
    """Where a test's Candor keeps its data: a SQLite file, or a fresh PostgreSQL database's URL."""
    if engine == "sqlite":
        return tmp_path / "candor.db"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture(autouse=True)
def nothing_waits_on_the_loop_for_postgresql(request) -> Iterator[None]:
    """On PostgreSQL, serving code reaches the database only through Store.run/read/call, off the
    event loop: a round trip made on the loop while serving (bot/postgres.py counts them) fails the
    test that caused it. On SQLite the count stays empty (the check is PostgreSQL's)."""
    from bot import postgres as engine

    engine.on_loop_calls.clear()
    yield
    found = dict(engine.on_loop_calls)
    engine.on_loop_calls.clear()
    assert found == {}, f"database round trips on the event loop while serving: {found}"


def pytest_terminal_summary(terminalreporter) -> None:
    skipped = [
        r for r in terminalreporter.stats.get("skipped", []) if postgres.SKIP_REASON in str(r.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"PostgreSQL: skipped {len(skipped)} tests on the PostgreSQL engine ({postgres.SKIP_REASON})"
        )


@pytest.fixture
def log_held() -> Iterator[Callable[[Path], sqlite3.Connection]]:
    """`hold_log` for a test that closes the reader itself once it has searched the log: closed
    here too, so a failing flow never leaves a reader holding the file after the test."""
    readers: list[sqlite3.Connection] = []

    def hold(db_path: Path) -> sqlite3.Connection:
        readers.append(hold_log(db_path))
        return readers[-1]

    yield hold
    for reader in readers:
        reader.close()


@pytest.fixture
def production_logs() -> Iterator[io.StringIO]:
    """Logs as `candor serve` writes them (JSON, libraries at WARNING), at DEBUG for Candor: what an
    operator with the log files reads, for the anonymity tests to search."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    setup_logging("DEBUG", stream=out)
    yield out
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
