"""`candor serve` start-up as an operator meets it: every mistake is one line and exit code 2, an
unreachable Slack is survived, and two serve processes may share one database."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.config import REPO_ROOT
from tests.support.candor import SECRET, TOKEN, blocks_text
from tests.support.processes import (
    CANDOR,
    NOWHERE,
    Serve,
    candor_env,
    fake_slack_in_a_thread,
    free_port,
    signed_command,
)


def serve_once(db: Path, **extra: str) -> subprocess.CompletedProcess:
    """Run `candor serve` expecting it to stop by itself."""
    env = candor_env(db, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=NOWHERE)
    return subprocess.run(
        [*CANDOR, "serve"],
        cwd=REPO_ROOT,
        env=env | {"PORT": str(free_port())} | extra,
        capture_output=True,
        text=True,
        timeout=30,
    )


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("candor: ")
    return line


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PORT", "99999", "PORT must be at most 65535"),
        ("PORT", "0", "PORT must be at least 1"),
        ("CANDOR_LOG_LEVEL", "banana", "CANDOR_LOG_LEVEL must be one of DEBUG, INFO, WARNING"),
        ("CANDOR_SPEAKUP_DELAY", "0", "CANDOR_SPEAKUP_DELAY gives no delay"),
        ("CANDOR_SPEAKUP_DELAY", "10m", "CANDOR_SPEAKUP_DELAY gives a fixed delay"),
        ("CANDOR_SPEAKUP_DELAY_RISK_ACCEPTED", "maybe", "must be yes or no"),
    ],
)
def test_a_bad_setting_stops_serve_with_one_line(tmp_path, variable, value, says):
    assert says in one_line(serve_once(tmp_path / "candor.db", **{variable: value}))


def test_a_zero_delay_tells_how_to_accept_the_risk(tmp_path):
    line = one_line(serve_once(tmp_path / "candor.db", CANDOR_SPEAKUP_DELAY="0"))
    assert "CANDOR_SPEAKUP_DELAY_RISK_ACCEPTED=yes" in line and "5m-30m" in line


def test_a_database_path_under_a_file_stops_serve_with_one_line(tmp_path):
    (tmp_path / "afile").write_text("not a directory")
    line = one_line(serve_once(tmp_path / "afile" / "candor.db"))
    assert "cannot create or write the database" in line and "CANDOR_DB" in line


def test_a_database_path_that_is_a_directory_stops_serve_with_one_line(tmp_path):
    (tmp_path / "candor.db").mkdir()
    line = one_line(serve_once(tmp_path / "candor.db"))
    assert "cannot create or write the database" in line and "unable to open database file" in line


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """A file its owner cannot write. Root may write any file, so for root it is made immutable."""
    if os.geteuid() != 0:
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        yield
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("this file system cannot make a file read-only for root")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_stops_serve_with_one_line(tmp_path):
    db = tmp_path / "candor.db"
    assert subprocess.run([*CANDOR, "migrate"], env=candor_env(db), cwd=REPO_ROOT).returncode == 0
    with read_only(db):
        line = one_line(serve_once(db))
    assert "cannot create or write the database" in line and "readonly" in line


def test_a_port_in_use_stops_serve_with_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with fake_slack_in_a_thread() as slack:
            result = serve_once(
                tmp_path / "candor.db", SLACK_API_URL=slack.url, HOST="127.0.0.1", PORT=str(port)
            )
    assert (
        one_line(result) == f"candor: cannot listen on 127.0.0.1:{port} (HOST, PORT): Address already in use"
    )


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_a_token_slack_rejects_stops_serve_with_one_line(tmp_path, error):
    with fake_slack_in_a_thread() as slack:
        slack.answer_always("auth.test", ok=False, error=error)
        result = serve_once(tmp_path / "candor.db", SLACK_API_URL=slack.url)
    line = one_line(result)
    assert f"Slack rejected SLACK_BOT_TOKEN ({error})" in line
    assert TOKEN not in result.stderr


def test_an_unreachable_slack_is_degraded_and_its_errors_are_one_line_each(tmp_path):
    with Serve(tmp_path / "candor.db", slack_url=NOWHERE) as serve:
        status, health = serve.wait_until_listening()
        assert (status, health) == (200, {"status": "degraded", "database": "ok", "slack": "unreachable"})
        answer = signed_command(serve.base, "<@UBOB> #mentoring thanks for pairing")
        assert "could not reach Slack" in answer["text"]
        serve.stop()
    assert "Traceback" not in serve.stderr()
    assert all("exc" not in line for line in serve.log())
    failures = [line for line in serve.log() if line.get("error")]
    assert [line["error"] for line in failures] == ["ECONNREFUSED", "ECONNREFUSED"]  # auth.test, users.info


def test_serve_listens_on_host(tmp_path):
    with Serve(tmp_path / "candor.db", host="127.0.0.2") as serve:
        assert serve.wait_until_listening()[0] == 200
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", serve.port), timeout=5).close()


def test_two_serve_processes_on_one_database_post_each_kudos_once(tmp_path):
    """A rolling deploy or a second replica: both take commands, both run an outbox, and every
    post goes out exactly once (they claim each conversation through a row)."""
    db = tmp_path / "data" / "candor.db"
    with fake_slack_in_a_thread() as slack:
        slack.add_user("UALICE", "alice")
        slack.add_user("UBOB", "bob")
        with (
            Serve(db, slack_url=slack.url, CANDOR_KUDOS_DAILY_CAP="100") as first,
            Serve(db, slack_url=slack.url, CANDOR_KUDOS_DAILY_CAP="100") as second,
        ):
            for serve in (first, second):
                assert serve.wait_until_listening()[0] == 200
            for n in range(6):  # one channel, paced at 1 post/s whichever process sends
                reply = signed_command((first, second)[n % 2].base, f"<@UBOB|bob> #mentoring round {n}")
                assert "Kudos sent" in json.dumps(reply)
            conn = sqlite3.connect(db, timeout=10)
            deadline = time.monotonic() + 60
            # Settled: every row sent, and no send in flight in either process.
            while conn.execute(
                "select (select count(*) from outbox where status != 'sent') + "
                "(select count(*) from outbox_leases where sending is not null)"
            ).fetchone() != (0,):
                assert time.monotonic() < deadline, "the outboxes did not settle"
                time.sleep(0.1)
            conn.close()
            logs = first.stop() + second.stop()
    posts = [c.params for c in slack.calls_to("chat.postMessage")]
    rounds = sorted(blocks_text(p).split("round ")[1][:1] for p in posts if p.get("channel") == "C1")
    assert rounds == [str(n) for n in range(6)]  # each once, none twice
    assert len([p for p in posts if p.get("channel") == "UBOB"]) == 6
    assert "Traceback" not in logs


def test_serve_runs_with_a_zero_delay_when_the_risk_is_accepted(tmp_path):
    with Serve(
        tmp_path / "candor.db", CANDOR_SPEAKUP_DELAY="0", CANDOR_SPEAKUP_DELAY_RISK_ACCEPTED="yes"
    ) as s:
        assert s.wait_until_listening()[0] == 200
