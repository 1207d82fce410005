"""A throw-away PostgreSQL server for the tests: initdb in a temporary directory, 127.0.0.1, a free
port, statement logging on, gone when the test session ends.

Each test gets its own database, copied from a template that already has Candor's migrations, so
a test starts in tens of milliseconds. Without PostgreSQL's binaries the tests that need it skip,
and the session's summary says so in one line (tests/conftest.py).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.support.processes import free_port

SKIP_REASON = "PostgreSQL not installed (initdb/pg_ctl not found): apt-get install postgresql"
TEMPLATE = "candor_template"


def binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, or where Debian puts them
    (CANDOR_TEST_POSTGRES=off: none, to run only the SQLite cases)."""
    if os.environ.get("CANDOR_TEST_POSTGRES") == "off":
        return None
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    return None


def _run_as() -> str | None:
    """initdb refuses to run as root: run the server as an unprivileged user then."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


class PostgresServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user = _run_as()
        self.dir = Path(tempfile.mkdtemp(prefix="candor-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = free_port()
        self._names = itertools.count()
        if self.user:
            shutil.chown(self.dir, self.user)
        self._pg("initdb", "-D", str(self.data), "-U", "candor", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.dir}",
                "-c fsync=off",  # a test server: durability is not what is tested
                "-c full_page_writes=off",
                "-c synchronous_commit=off",
                "-c max_connections=200",
                "-c log_line_prefix='%m [%p] %d '",
            ]
        )
        self._pg(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"
        )
        self._template()

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(self.bindir / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            user=self.user,
            cwd=self.dir,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://candor@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def _template(self) -> None:
        from bot.store import open_store

        self.admin(f"create database {TEMPLATE}")
        open_store(self.url(TEMPLATE)).close()

    def new_database(
        self, *, migrated: bool = True, log_statements: bool = False, log_values: bool = True
    ) -> str:
        """A fresh database's URL: Candor's schema already applied unless `migrated` is False.
        `log_statements` logs every statement, with its bound values unless `log_values` is False."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self.admin(f"create database {name}" + (f" template {TEMPLATE}" if migrated else ""))
        if log_statements:  # every statement and its parameters go to the server log
            self.admin(f"alter database {name} set log_statement = 'all'")
        if not log_values:
            self.admin(f"alter database {name} set log_parameter_max_length = 0")
        return self.url(name)

    def dump(self, url: str) -> bytes:
        """`pg_dump` of one database, data included: what a backup of it holds."""
        done = subprocess.run(
            [str(self.bindir / "pg_dump"), "--no-owner", url], check=True, capture_output=True, timeout=60
        )
        return done.stdout

    def server_log_of(self, url: str) -> str:
        """The server log's lines for one database (log_line_prefix names it)."""
        name = url.rsplit("/", 1)[1]
        return "\n".join(line for line in self.server_log().splitlines() if f" {name} " in line)

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def start() -> PostgresServer | None:
    bindir = binaries()
    if bindir is None:
        return None
    for attempt in range(3):  # a free port can be taken between choosing it and binding it
        try:
            return PostgresServer(bindir)
        except subprocess.CalledProcessError:
            if attempt == 2:
                raise
            time.sleep(0.5)
    return None


_shared: list[PostgresServer | None] = []


def shared() -> PostgresServer | None:
    """This test process's server, started on first use and stopped when the process exits."""
    if not _shared:
        server = start()
        if server is not None:
            atexit.register(server.stop)
        _shared.append(server)
    return _shared[0]


def default_database(tmp_path: Path, name: str) -> Path | str:
    """Where a test keeps its data when it does not choose: a SQLite file, or with
    CANDOR_TEST_ENGINE=postgresql a fresh PostgreSQL database (the whole suite on PostgreSQL)."""
    if os.environ.get("CANDOR_TEST_ENGINE") == "postgresql":
        server = shared()
        if server is not None:
            return server.new_database()
    return tmp_path / name
