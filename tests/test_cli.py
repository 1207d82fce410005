"""The `candor` command as an operator and a newcomer use it, run as real processes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.config import REPO_ROOT
from tests.support.candor import SECRET, TOKEN
from tests.support.processes import CANDOR, Serve, candor_env, fake_slack_in_a_thread, signed_command


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return candor_env(tmp_path / "cli.db", **extra)


def run(args: list[str], tmp_path: Path, stdin: str = "", **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        CANDOR + args,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env(tmp_path, **extra),
        timeout=60,
    )


@pytest.mark.parametrize(
    ("missing", "present"),
    [
        ("SLACK_BOT_TOKEN", {"SLACK_SIGNING_SECRET": SECRET}),
        ("SLACK_SIGNING_SECRET", {"SLACK_BOT_TOKEN": TOKEN}),
    ],
)
def test_serve_without_a_required_variable_names_it_and_exits_2(tmp_path, missing, present):
    result = run(["serve"], tmp_path, **present)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"candor: {missing} is not set"]
    assert TOKEN not in result.stderr and SECRET not in result.stderr


def test_migrate_creates_the_schema(tmp_path):
    result = run(["migrate"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (tmp_path / "cli.db").exists()


def test_shell_driven_through_stdin(tmp_path):
    script = "\n".join(
        [
            "/help",
            "/kudos @bob #mentoring thanks for the pairing <!channel>",
            "/kudos @alice #mentoring myself",
            "/as bob",
            "/kudos @carol #nope x",
            "/in team-alpha",
            "/kudos stats",
            "/in general",
            "/kudos stats",
            "/whatever",
            "/quit",
            "/kudos @never #mentoring this line is after quit",
        ]
    )
    result = run(["shell"], tmp_path, stdin=script)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "/as NAME" in out and "/kudos help" in out
    assert "(only you) Kudos sent to @bob for Mentored someone" in out
    assert "[#general] 🧭 @alice recognised @bob for Mentored someone" in out
    assert "> thanks for the pairing <!channel>" in out  # a terminal shows text as typed
    assert "[DM to bob] @alice recognised you" in out
    assert "Kudos are for someone else" in out
    assert "You are now bob." in out
    assert "#nope is not a behaviour Candor knows" in out
    assert "No kudos in this channel in the last 30 days yet." in out
    assert "1 kudos; 1 person gave and 1 received recognition." in out
    assert "Unknown command '/whatever'" in out
    assert "this line is after quit" not in out


def test_shell_keeps_its_data_between_runs(tmp_path):
    run(["shell"], tmp_path, stdin="/kudos @bob #feedback clear and kind\n")
    result = run(["shell"], tmp_path, stdin="/kudos stats\n")
    assert "Gave constructive feedback: 1" in result.stdout


def test_serve_answers_health_and_signed_commands_and_logs_without_secrets(tmp_path):
    with (
        fake_slack_in_a_thread() as slack,
        Serve(tmp_path / "cli.db", slack_url=slack.url, CANDOR_LOG_LEVEL="DEBUG") as serve,
    ):
        assert serve.wait_until_listening() == (200, {"status": "ok", "database": "ok", "slack": "ok"})
        assert signed_command(serve.base, "help")["response_type"] == "ephemeral"
        stderr = serve.stop()
    requests = [line for line in serve.log() if line["msg"] == "request"]
    assert {(r["path"], r["status"]) for r in requests} >= {
        ("/healthz", 200),
        ("/slack/events", 200),
    }
    assert all(len(r["request_id"]) == 16 for r in requests)
    assert [line["port"] for line in serve.log() if line["msg"] == "listening"] == [serve.port]
    assert TOKEN not in stderr and SECRET not in stderr


def test_version_is_the_installed_one():
    from importlib.metadata import version

    result = subprocess.run([*CANDOR, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"candor {version('candor')}"


@pytest.mark.parametrize(
    ("command", "says", "reads", "ignores"),
    [
        (
            "serve",
            "HTTP server",
            ["SLACK_BOT_TOKEN", "HOST", "PORT", "CANDOR_DB", "CANDOR_SPEAKUP_DELAY_RISK_ACCEPTED"],
            [],
        ),
        (
            "shell",
            "terminal",
            ["CANDOR_DB", "CANDOR_DATA_DIR", "CANDOR_SPEAKUP_DELAY"],
            ["SLACK_BOT_TOKEN", "PORT"],
        ),
        ("migrate", "schema", ["CANDOR_DB", "CANDOR_LOG_LEVEL"], ["SLACK_BOT_TOKEN", "CANDOR_DATA_DIR"]),
    ],
)
def test_each_command_help_says_what_it_does_and_which_variables_it_reads(command, says, reads, ignores):
    result = subprocess.run([*CANDOR, command, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    description, _, variables = result.stdout.partition("environment variables it reads:")
    assert says in description
    named = {line.split()[0] for line in variables.strip().splitlines()}
    assert set(reads) <= named
    assert not set(ignores) & named


def test_every_variable_settings_read_is_documented():
    from bot.config import VARIABLES, Settings

    class Recording(dict):
        def get(self, key, default=None):
            self.setdefault("_read", set()).add(key)
            return super().get(key, default)

    env = Recording()
    Settings.from_env(env, need_slack=False)
    assert env["_read"] == {v.name for v in VARIABLES}


def test_a_database_from_a_newer_candor_stops_start_up_with_one_line(tmp_path):
    import sqlite3

    assert run(["migrate"], tmp_path).returncode == 0
    conn = sqlite3.connect(tmp_path / "cli.db")
    conn.execute(
        "insert into _sqlite_migrations (migration_set, name, applied_at) values ('candor', 'm999_x', '')"
    )
    conn.commit()
    conn.close()
    result = run(["migrate"], tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("candor: the database at") and "m999_x" in line


def test_the_daily_cap_is_read_from_the_environment(tmp_path):
    script = "".join(f"/kudos @bob #mentoring thanks {n}\n" for n in range(3))
    result = run(["shell"], tmp_path, stdin=script, CANDOR_KUDOS_DAILY_CAP="2")
    assert result.stdout.count("Kudos sent") == 2
    assert "You have given 2 kudos in the last 24 hours" in result.stdout


def test_shell_schedules_lists_and_fires_a_check_in_with_prompts_for_the_form(tmp_path):
    script = "\n".join(
        [
            "/checkin",  # the form, one prompt per field
            "",  # channel: this one
            "mon,thu",
            "09:30",
            "Europe/Berlin",
            "retro",
            "",
            "yes",
            "2026-12-24",
            "/checkin list",
            "/checkin run 1",
            "/click checkin_respond 1",
            "ship smaller changes",
            "",
            "/checkin",
            ".",  # cancel a form
            "/checkin add mon 25:00",
        ]
    )
    first = run(["shell"], tmp_path, stdin="\n".join(script.split("\n")[:11]) + "\n")
    ref = first.stdout.split("/click checkin_respond ")[1].split("]")[0]
    rest = script.split("\n")[11:]
    rest[0] = f"/click checkin_respond {ref}"
    second = run(["shell"], tmp_path, stdin="\n".join(rest) + "\n")
    out = first.stdout + second.stdout
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "Check-in #1 is scheduled: Mon, Thu at 09:30 (Europe/Berlin). It will post in #general" in out
    assert "#1 · Retro · Mon, Thu at 09:30 (Europe/Berlin) · next" in out
    assert "[#general] 🗓️ Retro" in out
    assert f"[Respond → /click checkin_respond {ref}]" in out
    assert "[#general thread] Answers from @alice" in out and "> ship smaller changes" in out
    assert "Cancelled; nothing was saved." in out
    assert "25:00 is not a time of day" in out


def test_shell_speakup_works_out_of_the_box(tmp_path):
    script = "/speakup\n\nMeetings run over and nobody says so\n\n\n"  # the last: no private copy
    out = run(["shell"], tmp_path, stdin=script).stdout
    assert "[#general] 📣 A concern was raised anonymously" in out  # #general takes concerns, no delay
    assert "> Meetings run over and nobody says so" in out


def test_shell_speakup_with_prompts_instead_of_a_modal(tmp_path):
    script = "\n".join(
        [
            "/speakup",  # nothing enabled yet
            "/as boss",
            "/speakup enable",
            "/as alice",
            "/speakup",
            "",  # channel: the default
            "Deadlines are set before anyone estimates",
            "",  # what would help: skipped
            "yes",  # a private copy of the code, please
            "/speakup",
            "",
            "\u200d",  # nothing visible: empty
            "",
            "",
        ]
    )
    result = run(
        ["shell"],
        tmp_path,
        stdin=script + "\n",
        CANDOR_ADMINS="boss",
        CANDOR_SPEAKUP_DELAY="0",
        CANDOR_SPEAKUP_CHANNELS="",
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Speak-up is not set up yet" in out
    assert "What Candor keeps" in out  # the form's explanation is printed before the prompts
    assert "[DM to alice] Your concern was received." in out
    assert "[#general] 📣 A concern was raised anonymously" in out
    assert "> Deadlines are set before anyone estimates" in out
    post = out.split("[#general] 📣")[1]
    assert "alice" not in post.split("[")[0]  # the channel post does not name the author
    assert "Your concern: Your concern cannot be empty." in out
    assert "Nothing was saved yet." in out
