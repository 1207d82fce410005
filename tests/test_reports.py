"""The team report, a person's own overview and the CSV export, on a dataset whose figures are known
by hand (tests/support/seed.py), through the neutral harness and the real `candor` command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.__main__ import main
from handlers.registry import REGISTRY
from handlers.reporting import ReportScope
from handlers.reports import gather
from tests.support import seed
from tests.support.clock import FakeClock
from tests.support.harness import PLATFORM, WORKSPACE, Harness, text_of

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
TEAM = seed.Where(PLATFORM, WORKSPACE, "team")
SMALL = seed.Where(PLATFORM, WORKSPACE, "small")


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, FakeClock(NOW), admins=frozenset({"alice"}))
    for user in seed.TEAM:
        harness.people.add(user, tz="Europe/Berlin")
    harness.people.add("robot", is_bot=True)
    harness.people.channels["team"] = [*seed.TEAM, "robot"]
    for user in ("gil", "hana", "ivo"):
        harness.people.add(user)
    harness.people.channels["small"] = ["gil", "hana", "ivo"]
    with harness.store.transaction() as tx:
        seed.team_dataset(tx, TEAM, NOW)
        seed.small_team(tx, SMALL, NOW)
    yield harness
    harness.close()


def lines(reply) -> list[str]:
    return text_of(reply).splitlines()


async def test_the_30_day_report_shows_every_practice_with_the_figures_known_by_hand(h):
    report = lines(await h.command("candor", "report", user="carol"))
    assert report[0] == "Team report, last 30 days: #team"
    expected = [
        "Speaking up",
        "• Concerns raised: 6",
        "• Speak-up rate: 100 concerns per 100 members per month (6 members)",
        "• Concerns acknowledged within 7 days: 80%",
        "Recognition",
        "• Kudos given: 12",
        "• Kudos for candour (feedback, owning a mistake, speaking up): 9",
        "• Kudos for #feedback: 4",
        "• Kudos for #mentoring: 3",
        "• Kudos for #spoke-up: 3",
        "• Kudos for #owned-it: 2",
        "Failure reviews",
        "• Failure reviews published: 5",
        "• Mean review quality index (0-100): 80",
        "• Review actions done by their due date: 83.3%",
        "Check-ins",
        "• Check-ins held: 4",
        "• Check-in response rate: 75% (18 answers to 4 check-ins)",
        "Agreements",
        "• Agreements made: 5",
        "• Kept on time: 80%",
        "• Renegotiated before the due date: 0% (a good sign: plans changed in the open)",
        "• Reviewed after a miss: fewer than 5: not shown",
        "Pulse (psychological safety)",
        "• Pulse team score (1-7): 5.40 of 7 (1 round)",
        "• Pulse change since the round before: +0.40",
        "• Pulse response rate: 83.3%",
        "• Pulse trend over the period: +0.00 (5.40)",
    ]
    for line in expected:
        assert line in report, line
    assert report.index("Speaking up") < report.index("Recognition") < report.index("Failure reviews")
    assert report.index("Failure reviews") < report.index("Check-ins")
    assert report.index("Agreements") < report.index("Pulse (psychological safety)")
    assert report[-1] == "Figures about fewer than 5 people or items are not shown, to protect anonymity."
    assert "whole workspace" not in report[-1]  # only the workspace's report says what it leaves out


async def test_the_90_day_report_shows_the_pulse_trend(h):
    report = lines(await h.command("candor", "report 90d", user="carol"))
    assert report[0] == "Team report, last 90 days: #team"
    assert "• Pulse team score (1-7): 5.18 of 7 (2 rounds)" in report  # (6 × 5.0 + 5 × 5.4) / 11
    assert "• Pulse trend over the period: +0.40 (5.00 → 5.40)" in report
    assert "• Speak-up rate: 33.33 concerns per 100 members per month (6 members)" in report


async def test_a_small_team_sees_no_figure_about_fewer_than_k(h):
    report = text_of(await h.command("candor", "report 30d", user="gil", channel="small"))
    assert "Kudos given: fewer than 5 people giving kudos, not shown to protect anonymity" in report
    assert "Pulse team score (1-7): not enough answers yet" in report
    assert "Feedback" not in report and "#feedback: " not in report
    assert "Concerns raised: fewer than 5 concerns" in report


async def test_every_figure_a_practice_reports_comes_through_the_registry(h):
    scope = ReportScope(PLATFORM, WORKSPACE, "team", NOW - 30 * 86400, NOW, 5, 6)
    keys = {f.key.split(".")[0] for f in gather.figures(h.store.db, REGISTRY, scope)}
    assert {"speakup", "kudos", "checkins", "agreements", "pulse", "nominations"} <= keys
    assert len(REGISTRY.reports) >= 6


async def test_the_whole_workspace_has_no_per_member_rates(h):
    scope = ReportScope(PLATFORM, WORKSPACE, None, NOW - 30 * 86400, NOW, 5)
    found = {f.key: f for f in gather.figures(h.store.db, REGISTRY, scope)}
    assert found["speakup.rate"].value is None and "team's size" in found["speakup.rate"].note
    assert found["checkins.response_rate"].value is None
    assert found["pulse.score"].value == 5.4  # the small team's withheld round counts nowhere
    # The small team's 4 kudos (2 givers: withheld in its own report) count nowhere either: the
    # workspace's 12 minus the team's 12 would otherwise be the small team's figure.
    assert found["kudos.total"].value == 12


@pytest.mark.parametrize(
    "text", ["report 7d", "report 30", "report 30d 90d", "report all", "report -1d", "x" * 5000]
)
async def test_a_bad_period_gets_the_usage_and_changes_nothing(h, text):
    before = h.count("team_sizes"), h.count("outbox")
    reply = text_of(await h.command("candor", text, user="carol"))
    assert "/candor report [30d|90d]" in reply or "I don't know /candor" in reply
    assert (h.count("team_sizes"), h.count("outbox")) == before


async def test_help_and_unknown_words(h):
    assert "/candor report [30d|90d]" in text_of(await h.command("candor", "", user="carol"))
    assert "I don't know /candor dance" in text_of(await h.command("candor", "dance", user="carol"))


async def test_me_shows_a_persons_own_kudos_agreements_and_check_ins(h):
    mine = text_of(await h.command("candor", "me", user="bob"))
    assert "Kudos you received" in mine and "2 in the last 30 days." in mine
    assert "#feedback from @alice" in mine
    assert "Your open action items (agreements you perform)" in mine
    assert "Your check-ins and reminders" in mine and "You have scheduled none." in mine
    alice = text_of(await h.command("candor", "me", user="alice"))
    assert "Check-in in #team: Mon at 09:30 (Europe/Berlin)" in alice
    assert "Team report, whole workspace" in alice and "/dashboard?token=" in alice  # an admin
    assert "The whole workspace counts only the teams whose own figure is shown." in alice
    assert "Team report" not in mine and "dashboard" not in mine


async def test_the_dashboard_link_goes_privately_to_admins_only(h):
    refused = text_of(await h.command("candor", "dashboard", user="bob"))
    assert refused == "Only Candor admins can open the dashboard."
    assert h.people.private == []
    sent = text_of(await h.command("candor", "dashboard", user="alice"))
    assert "I sent you the dashboard link in a private message" in sent
    [(to, text)] = h.people.private
    assert to == "alice" and "/dashboard?token=" in text and "valid for one hour" in text
    assert "CANDOR_PUBLIC_URL" in text  # no public address configured here: only the path


# --- candor export ------------------------------------------------------------------------------
@pytest.fixture
def exported_db(h, monkeypatch):
    monkeypatch.setenv("CANDOR_DB", str(h.settings.db_path))
    return h


def export(tmp_path, *args: str) -> list[dict]:
    out = tmp_path / "report.csv"
    assert main(["export", *args, "--out", str(out)]) == 0
    return list(csv.DictReader(io.StringIO(out.read_text())))


async def test_the_csv_holds_the_reports_figures_month_by_month_and_no_anonymous_item(
    exported_db, tmp_path, capsys
):
    rows = export(tmp_path, "--since", "2026-01-01")
    assert "wrote" in capsys.readouterr().out
    assert set(rows[0]) == {
        "platform",
        "workspace",
        "team",
        "month",
        "from",
        "until",
        "section",
        "key",
        "label",
        "value",
        "unit",
        "count",
        "note",
    }
    teams = {r["team"] for r in rows}
    assert teams == {"(whole workspace)", "team", "small"}
    months = sorted({r["month"] for r in rows if r["team"] == "team"})
    assert months[0] == "2026-01" and months[-1] >= "2026-06"

    def value(team: str, month: str, key: str) -> str:
        [row] = [r for r in rows if (r["team"], r["month"], r["key"]) == (team, month, key)]
        return row["value"] or row["note"]

    assert value("team", "2026-05", "pulse.score") == "5.18"  # both rounds closed in May (1st and 31st)
    assert value("team", "2026-06", "pulse.score").startswith("not enough answers yet")
    assert value("small", "2026-06", "pulse.score").startswith("not enough answers yet")  # 3 answers
    assert value("team", "2026-06", "kudos.behaviour.feedback") == "4.0"  # 9 kudos in June from 6 givers
    assert value("team", "2026-05", "kudos.total").startswith("fewer than 5 people giving kudos")  # 3 in May
    assert value("team", "2026-05", "reviews.count") == "4.0"  # four of the five reviews were in May
    assert value("team", "2026-05", "reviews.mean_quality").startswith("fewer than 5 reviews")
    raw = (tmp_path / "report.csv").read_text()
    for secret in ("a concern", "hash-", "thanks", "alice", "bob", "1000001", "Deploy rolled", "canary"):
        assert secret not in raw, secret


async def test_a_team_that_only_wrote_failure_reviews_has_its_own_rows(exported_db, tmp_path):
    reviewers = seed.Where(PLATFORM, WORKSPACE, "reviewers-only")
    with exported_db.store.transaction() as tx:
        for number in range(1, 6):
            seed.review(
                tx, reviewers, number=900 + number, published=NOW - 3 * seed.DAY, quality=80, actions=[]
            )
    rows = export(tmp_path, "--since", "2026-01-01")
    mine = {r["key"]: r["value"] for r in rows if r["team"] == "reviewers-only" and r["month"] == "2026-06"}
    assert mine["reviews.count"] == "5.0" and mine["reviews.mean_quality"] == "80.0"


@pytest.mark.parametrize("since", ["2026-13-01", "yesterday", "", "2026/01/01", "9999-01-01"])
def test_a_bad_since_gets_a_usage_message_and_writes_nothing(exported_db, tmp_path, capsys, since):
    out = tmp_path / "never.csv"
    with pytest.raises(SystemExit) as exit_:
        code = main(["export", "--since", since, "--out", str(out)])
        raise SystemExit(code)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--since" in err and ("not a date like 2026-01-01" in err or "must be a day in the past" in err)
    assert not out.exists()


def test_export_help_says_what_it_writes(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = capsys.readouterr().out
    assert "--since" in text and "no row identifies" in text and "CANDOR_DB" in text


def test_json_of_the_figures_is_never_rows(h):
    """What the export writes is the registry's figures: one line per figure, never per row."""
    scope = ReportScope(PLATFORM, WORKSPACE, "team", NOW - 30 * 86400, NOW, 5, 6)
    assert len(json.dumps([f.key for f in gather.figures(h.store.db, REGISTRY, scope)])) < 2000
