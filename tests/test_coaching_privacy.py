"""A coaching note is read by its author, and by the person once shared: by no one else, and it is
in no report, admin view or escalation record (which counts only its date). Proven end to end in
Slack: every Web API call Candor makes, every answer anyone else gets, every other table, the logs
and every practice's report figures are searched for the note's text."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.server import SERVICES
from handlers.coaching import jobs
from handlers.coaching.ids import ActionId, FormId
from handlers.escalation.ids import ActionId as EscalationAction
from handlers.registry import REGISTRY
from handlers.reporting import ReportScope
from tests.support.candor import TEAM, blocks_text

TALKED = "PRIVATE-TALK Bob's divorce is why the mornings slipped"
AGREED = "PRIVATE-AGREED Start at ten until the custody hearing"
SECRETS = ("PRIVATE-TALK", "PRIVATE-AGREED", "divorce", "custody")
ADMIN = "UADMIN"


@pytest.fixture
def settings_overrides():
    return {"managers": frozenset({"UALICE"})}  # who opens the case here


@pytest.fixture(autouse=True)
def people(slack):
    slack.add_user(ADMIN, "ada.admin", is_admin=True)


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s.lower() in text.lower()]


class Watch:
    """What each action showed anyone: its answer and the Web API calls it caused."""

    def __init__(self, candor, slack) -> None:
        self.candor, self.slack = candor, slack

    async def command(self, user: str, name: str, text: str) -> str:
        seen = len(self.slack.calls)
        _, reply = await self.candor.command(name, text, user=user)
        await self.candor.settle()
        return json.dumps(reply, ensure_ascii=False) + self._calls_since(seen)

    async def click(self, user: str, action: str, value: str) -> str:
        seen = len(self.slack.calls)
        await self.candor.click(action, value, user=user, channel="D" + user)
        await self.candor.settle()
        return self._calls_since(seen)

    def _calls_since(self, seen: int) -> str:
        return json.dumps([(c.method, c.params) for c in self.slack.calls[seen:]], ensure_ascii=False)


def other_tables(db) -> str:
    found = []
    for table in db.table_names():
        if table != "coaching_notes":
            found += [json.dumps(row, ensure_ascii=False, default=str) for row in db[table].rows]
    return "\n".join(found)


def every_report(services, now: float) -> list:
    figures = []
    for conversation in (None, "CTEAM", "DUALICE"):
        scope = ReportScope("slack", TEAM, conversation, now - 90 * 86400, now + 1, k=1)
        figures += [f for source in REGISTRY.reports for f in source(services.store.db, scope)]
    return figures


async def rendered_reports(candor, slack, clock, tmp_path) -> list[str]:
    """Every place an admin reads the team's figures, as rendered: /candor report in the team's
    channel (30 and 90 days), App Home for the admin and for bob, the dashboard (the workspace's
    months and the pilot view) and the CSV export."""
    from bot.__main__ import main
    from handlers.reports import tokens

    shown = []
    for period in ("30d", "90d"):
        _, body = await candor.command("/candor", f"report {period}", user=ADMIN, channel="CTEAM")
        shown.append(json.dumps(body, ensure_ascii=False))
    for n, user in enumerate((ADMIN, "UBOB")):
        event = {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}
        assert await candor.event(event, event_id=f"EvHome{clock.now()}{n}") == 200
        await candor.settle()
        shown.append(json.dumps(slack.calls_to("views.publish")[-1].params, ensure_ascii=False))
    token = tokens.sign(tokens.key_for(candor.settings), platform="slack", workspace=TEAM, now=clock.now())
    start = (datetime.fromtimestamp(clock.now(), ZoneInfo("UTC")).date() - timedelta(days=10)).isoformat()
    for query in ({}, {"view": "pilot", "start": start}):
        async with candor.http.get(candor.url + "/dashboard", params={"token": token, **query}) as response:
            assert response.status == 200
            shown.append(await response.text())
    out = tmp_path / "report.csv"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CANDOR_DB", str(candor.settings.db_path))
        assert main(["export", "--since", "2026-01-01", "--out", str(out)]) == 0
    shown.append(out.read_text())
    return shown


async def test_a_coaching_note_reaches_no_one_but_its_author_and_the_person_it_is_shared_with(
    candor, slack, clock, production_logs, tmp_path
):
    watch = Watch(candor, slack)
    services = candor.app[SERVICES]
    # A case about bob, at the coaching stage.
    await candor.command("/escalation", "open <@UBOB|bob>")
    await candor.submit(slack.opened_views()[-1], {"seen": "Late to stand-up", "impact": "Plans slipped"})
    clock.advance(3 * 86400)
    await candor.click(EscalationAction.MOVE, "1:observation")
    reports_before = every_report(services, clock.now())

    # alice writes the note, privately, with a check-in the next day.
    await candor.command("/coach", "<@UBOB|bob>")
    view = slack.opened_views()[-1]
    assert view["callback_id"] == FormId.NOTE
    tomorrow = (
        datetime.fromtimestamp(clock.now(), ZoneInfo("Europe/Berlin")).date() + timedelta(days=1)
    ).isoformat()
    ack = await candor.submit(view, {"talked": TALKED, "agreed": AGREED, "next_checkin": tomorrow})
    assert "Only you can read it" in blocks_text(ack["view"]) and not leaks(json.dumps(ack))
    await candor.settle()

    # Everyone else, in every view they have: the person before it is shared, a colleague, an admin.
    shown_to_others = [
        await watch.command("UBOB", "/coach", "shared"),
        await watch.click("UBOB", ActionId.READ, "1"),
        await watch.command("UBOB", "/escalation", "show 1"),
        await watch.command("UCAROL", "/coach", "list <@UBOB|bob>"),
        await watch.click("UCAROL", ActionId.READ, "1"),
        await watch.click("UCAROL", ActionId.SHARE, "1"),
        await watch.command(ADMIN, "/coach", "list <@UBOB|bob>"),
        await watch.click(ADMIN, ActionId.READ, "1"),
        await watch.command(ADMIN, "/escalation", "list"),
        await watch.command(ADMIN, "/escalation", "show 1"),
        await watch.command(ADMIN, "/agree", "stats"),
        await watch.command(ADMIN, "/kudos", "stats"),
        await watch.command(ADMIN, "/speakup", "stats"),
    ]
    for shown in shown_to_others:
        assert leaks(shown) == [], shown
    record = shown_to_others[9]
    assert "Coaching conversations since the case reached coaching: 1" in record  # the date, as evidence
    assert (
        "I cannot show you that note." in shown_to_others[1]
        and "I cannot show you that note." in shown_to_others[7]
    )

    # The check-in reminder goes to alice alone, without the text (09:00 tomorrow has passed by then).
    clock.advance(2 * 86400)
    seen = len(slack.calls)
    assert await jobs.remind_checkins(services) == 1
    await candor.settle()
    reminder = [c for c in slack.calls[seen:] if c.method == "chat.postMessage"]
    assert [c.params["channel"] for c in reminder] == ["UALICE"] and not leaks(json.dumps(reminder[0].params))

    # Shared: bob can read it; nobody else still can.
    assert leaks(await watch.click("UBOB", ActionId.READ, "1")) == []
    await watch.click("UALICE", ActionId.SHARE, "1")
    assert leaks(await watch.click("UBOB", ActionId.READ, "1"))  # positive control: the search finds it
    for user in ("UCAROL", ADMIN):
        assert leaks(await watch.click(user, ActionId.READ, "1")) == []
    assert leaks(await watch.command(ADMIN, "/escalation", "show 1")) == []

    # Nowhere else: no other table (the outbox included), no log line, no report figure.
    assert leaks(other_tables(candor.db)) == []
    assert leaks(production_logs.getvalue()) == []
    reports_after = every_report(services, clock.now())
    assert leaks(repr(reports_after)) == []
    assert [(f.key, f.value, f.count) for f in reports_after] == [
        (f.key, f.value, f.count) for f in reports_before
    ]
    # Nor any report as an admin reads it, nor anyone's App Home, the dashboard or the export.
    rendered = await rendered_reports(candor, slack, clock, tmp_path)
    assert "Team report" in rendered[0] and "<main" in rendered[4] and "section,key,label" in rendered[-1]
    assert [leaks(r) for r in rendered] == [[]] * len(rendered)
    # Every Web API call that carried the text was an answer to alice or bob themselves.
    carrying = [c for c in slack.calls if leaks(json.dumps(c.params, ensure_ascii=False))]
    assert carrying and {c.method for c in carrying} == {"response_url"}
