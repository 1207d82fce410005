"""`candor shell` as a newcomer uses it: a real process, at a terminal (a pty) or fed by a pipe."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.messages import Actions, Button, Message, Section, rich
from bot.shell import render
from tests.test_cli import env, run

PROMPT = b"alice@#general> "


class Terminal:
    """`candor shell` on a pseudo-terminal, so it runs as it does for a person at a keyboard."""

    def __init__(self, tmp_path: Path, **extra: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the shell
            # As a login shell would leave them: the test runner may ignore or block SIGINT
            # (pytest-xdist's workers do), and an exec'd program inherits both.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.chdir(tmp_path)
            os.execvpe(sys.executable, [sys.executable, "-m", "bot", "shell"], env(tmp_path, **extra))
        self.seen = b""
        self.exit_code: int | None = None

    def read_until(self, wanted: bytes, times: int = 1, timeout: float = 20.0) -> None:
        """Read the terminal until `wanted` was printed `times` times in all (bounded wait)."""
        deadline = time.monotonic() + timeout
        while self.seen.count(wanted) < times:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{wanted!r} not seen {times}x; got {self.seen[-600:]!r}")
            if select.select([self.fd], [], [], left)[0]:
                try:
                    self.seen += os.read(self.fd, 4096)
                except OSError:  # the child closed the terminal
                    raise AssertionError(f"{wanted!r} not seen; the shell ended") from None

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def wait(self, timeout: float = 20.0) -> int | None:
        """The exit code, or None if the shell is still running after `timeout`."""
        deadline = time.monotonic() + timeout
        while self.exit_code is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_code = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > deadline:
                break
            else:
                time.sleep(0.05)
        return self.exit_code

    def close(self) -> None:
        if self.wait(0) is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_ctrl_c_at_the_prompt_leaves_at_once(tmp_path):
    term = Terminal(tmp_path)
    try:
        term.read_until(PROMPT)
        # Ctrl-C, as the keyboard sends it, without Enter. Pressed again if need be: CPython's
        # readline misses a signal that lands in the instant between printing the prompt and
        # waiting for a key, as a person pressing it again would find.
        for _ in range(5):
            term.type(b"\x03")
            if term.wait(2.0) is not None:
                break
        assert term.wait() == 130
    finally:
        term.close()


def test_line_editing_and_history_at_a_terminal(tmp_path):
    term = Terminal(tmp_path)
    try:
        term.read_until(PROMPT)
        term.type(b"/kudos stats\r")
        term.read_until(PROMPT, times=2)
        term.type(b"\x1b[A\r")  # arrow up recalls the last line
        term.read_until(PROMPT, times=3)
        term.type(b"/kudos stxts\x1b[D\x1b[D\x7fa\r")  # left twice, delete the x, type an a
        term.read_until(PROMPT, times=4)
        assert term.seen.count(b"No kudos in this channel") == 3
        assert b"Unknown command" not in term.seen and b"mentioned with @" not in term.seen
        term.type(b"\x04")  # Ctrl-D leaves too
        assert term.wait() == 0
    finally:
        term.close()


def test_a_form_error_names_the_field_and_asks_only_for_it_again(tmp_path):
    script = [
        "/checkin",
        "",  # channel: this one
        "mon,thu",
        "09:30",
        "Mars/Olympus",  # wrong
        "retro",
        "",
        "yes",
        "tomorrow",  # wrong too
        "Europe/Berlin",  # asked again: only the timezone...
        "2026-12-24",  # ...and the skip dates
        "/checkin list",
    ]
    result = run(["shell"], tmp_path, stdin="\n".join(script) + "\n")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "(only you) Timezone: 'Mars/Olympus' is not a timezone I know" in out
    assert "(only you) Skip dates: 'tomorrow' is not a date" in out
    assert "tz:" not in out and "skip:" not in out  # labels, not internal ids
    assert "Check-in #1 is scheduled: Mon, Thu at 09:30 (Europe/Berlin)" in out
    assert "#1 · Retro · Mon, Thu at 09:30 (Europe/Berlin)" in out


def test_a_channel_can_be_typed_with_or_without_its_hash(tmp_path):
    script = [
        "/as boss",
        "/in hr",
        "/speakup enable",
        "/as alice",
        "/speakup",
        "hr",  # the channel, as listed: #hr
        "Reviews are rushed",
        "",  # what would help
        "",  # no private copy of the code
        "/checkin",
        "ops",  # a channel field: #ops
        "mon",
        "09:00",
        "UTC",
        "weekly",
        "",
        "",
        "",
    ]
    result = run(
        ["shell"], tmp_path, stdin="\n".join(script) + "\n", CANDOR_ADMINS="boss", CANDOR_SPEAKUP_CHANNELS=""
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "[#hr] 📣 A concern was raised anonymously" in out
    assert "It will post in #ops" in out


def test_the_shell_keeps_its_own_database_under_the_current_directory(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    base = env(tmp_path)
    del base["CANDOR_DB"]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell"],
        input="/kudos @bob #mentoring thanks\n",
        capture_output=True,
        text=True,
        cwd=work,
        env=base,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Candor shell on data/shell.db. Type /help.")
    assert (work / "data" / "shell.db").exists()
    assert not (work / "data" / "candor.db").exists()  # serve's database is left alone


def test_the_shells_help_names_its_own_defaults():
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "CANDOR_DB" in result.stdout and "(default: data/shell.db)" in result.stdout
    assert "(default: 0, at once)" in result.stdout


def test_each_button_shows_its_own_value_when_several_share_a_label():
    # A home or /review actions lists several actions, each with a Mark done of its own.
    message = Message(
        (
            Section(rich("☐ add a canary step")),
            Actions((Button("Mark done", "review_action_done", "11", "primary"),)),
            Section(rich("☐ fix the alert")),
            Actions((Button("Mark done", "review_action_done", "22", "primary"),)),
        )
    )
    assert render(message).splitlines() == [
        "☐ add a canary step",
        "[Mark done → /click review_action_done 11]",
        "☐ fix the alert",
        "[Mark done → /click review_action_done 22]",
    ]
