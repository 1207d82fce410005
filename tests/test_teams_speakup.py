"""Anonymous speak-up in Teams: only in the person's own chat (and a card that says why), the
form and the case code in a dialog that leaves nothing in the chat, and the anonymity proof
repeated for Teams: nothing stored, logged or sent to anyone else links a concern to its author.
"""

from __future__ import annotations

import json

import pytest

from bot.server import STORE
from tests.support.teams import (
    CHANNEL,
    MANAGER,
    TeamsClient,
    activity_text,
    assert_valid_card,
    button_data,
    card_text,
    dialog_card,
    personal_chat,
    run_jobs,
)
from tests.support.teams_author import (
    AUTHOR,
    AUTHOR_AAD,
    AUTHOR_NAME,
    activity_secrets,
    bytes_without_the_install,
    file_bytes,
    secrets_of_the_author,
)


@pytest.fixture
def teams_overrides():
    return {"admins": frozenset({"aad-mara"}), "speakup_delay_s": (300.0, 1800.0)}


@pytest.fixture(autouse=True)
async def installed(teams: TeamsClient, fake_teams):
    fake_teams.add_person(AUTHOR, AUTHOR_NAME, aad=AUTHOR_AAD, teams=(CHANNEL,))
    assert await teams.install_team(MANAGER) == 200
    for person in (MANAGER, AUTHOR):
        assert await teams.install_personal(person) == 200
    assert await teams.say("speakup enable", user=MANAGER, conversation=CHANNEL) == 200
    assert "now takes anonymous concerns" in activity_text(fake_teams.answers_to(CHANNEL)[-1])


async def raise_concern(teams: TeamsClient, fake_teams, concern: str, *, dm: bool = False) -> str:
    """The author opens the form from their chat and sends it; returns the case code shown."""
    await teams.say("speakup", user=AUTHOR)
    opener = fake_teams.sent_to(personal_chat(AUTHOR))[-1]
    status, form = await teams.open(button_data(opener, "Open the form"), user=AUTHOR)
    assert status == 200
    answers = {"concern": concern, **({"dm": "yes"} if dm else {})}
    status, received = await teams.submit(form, answers, user=AUTHOR)
    text = card_text(dialog_card(received))
    assert status == 200 and "Your case code" in text, text
    return text.split("Your case code: ")[1].split()[0]


# --- what people see ---------------------------------------------------------------------------
async def test_speakup_in_a_channel_is_refused_with_the_reason(teams: TeamsClient, fake_teams):
    await teams.say("speakup", user=AUTHOR, conversation=CHANNEL)
    text = activity_text(fake_teams.answers_to(CHANNEL)[-1])
    assert "only in your own chat with Candor" in text and "everyone in the conversation would see" in text
    await teams.say("speakup status ABCD", user=AUTHOR, conversation=CHANNEL)
    assert "only in your own chat" in activity_text(fake_teams.answers_to(CHANNEL)[-1])
    status, answer = await teams.open(
        {"candor": "command", "name": "speakup", "text": ""}, user=AUTHOR, conversation=CHANNEL
    )
    assert status == 200 and "only in your own chat" in card_text(dialog_card(answer))


async def test_the_code_is_shown_in_the_dialog_never_posted_in_the_chat(
    teams: TeamsClient, fake_teams, clock
):
    code = await raise_concern(teams, fake_teams, "Estimates are overruled & nobody says so")
    assert all(code not in json.dumps(c.body) for c in fake_teams.calls if c.body)
    clock.advance(1801 + 300)
    await run_jobs(teams.candor)
    [post] = [b for b in fake_teams.sent_to(CHANNEL) if "raised anonymously" in activity_text(b)]
    assert "Estimates are overruled & nobody says so" in activity_text(post)
    assert_valid_card(post["attachments"][0]["content"])

    _, form = await teams.press(
        "speakup_reply_open", button_data(post, "Reply")["value"], user=MANAGER, conversation=CHANNEL
    )
    await teams.submit(form, {"text": "Thanks, we will look at it."}, user=MANAGER, conversation=CHANNEL)
    _, acked = await teams.press(
        "speakup_ack", button_data(post, "Acknowledge")["value"], user=MANAGER, conversation=CHANNEL
    )
    assert "is acknowledged" in card_text(dialog_card(acked))
    await teams.candor.settle()
    assert any(
        "Thanks, we will look at it." in activity_text(c.body)
        for c in fake_teams.sent()
        if ";messageid=" in c.path
    )

    await teams.say(f"speakup status {code}", user=AUTHOR)
    opener = fake_teams.sent_to(personal_chat(AUTHOR))[-1]
    _, case = await teams.open(button_data(opener, "Open the form"), user=AUTHOR)
    text = card_text(dialog_card(case))
    assert "Status: acknowledged" in text and "Thanks, we will look at it." in text
    _, refused = await teams.submit(case, {"followup": "x" * 3001}, user=AUTHOR)
    assert "3,001 characters" in card_text(dialog_card(refused))
    assert_valid_card(dialog_card(refused))


async def test_a_non_admin_cannot_moderate(teams: TeamsClient, fake_teams, clock):
    await raise_concern(teams, fake_teams, "Something")
    clock.advance(1801 + 300)
    await run_jobs(teams.candor)
    [post] = [b for b in fake_teams.sent_to(CHANNEL) if "raised anonymously" in activity_text(b)]
    _, answer = await teams.press(
        "speakup_ack", button_data(post, "Acknowledge")["value"], user=AUTHOR, conversation=CHANNEL
    )
    assert "Only Candor admins" in card_text(dialog_card(answer))


# --- the anonymity proof -----------------------------------------------------------------------
async def test_the_author_appears_only_in_the_reference_saved_when_they_installed_candor(
    production_logs, log_held, teams: TeamsClient, fake_teams, clock
):
    candor = teams.candor
    db_path = candor.settings.db_path
    wal = db_path.with_name(db_path.name + "-wal")
    reference = dict(candor.db["teams_references"].get(personal_chat(AUTHOR)))
    assert reference["user"] == AUTHOR  # where Candor reaches them: written at install time
    assert candor.app[STORE].checkpoint()  # the install is in the main file now, not the WAL
    held = log_held(db_path)  # everything the flow writes stays in the WAL, where it is searched
    calls_before = len(fake_teams.calls)
    author_activities: list[str] = []
    post_activity = teams.post

    async def recorded(activity, **kwargs):
        if isinstance(activity, dict) and activity.get("from", {}).get("id") == AUTHOR:
            author_activities.append(activity["id"])
        return await post_activity(activity, **kwargs)

    teams.post = recorded  # type: ignore[method-assign]

    code = await raise_concern(teams, fake_teams, "Estimates are overruled & nobody says so", dm=True)
    await teams.candor.settle()
    clock.advance(1801 + 300)
    await run_jobs(candor)
    [post] = [b for b in fake_teams.sent_to(CHANNEL) if "raised anonymously" in activity_text(b)]
    case = button_data(post, "Reply")["value"]
    _, form = await teams.press("speakup_reply_open", case, user=MANAGER, conversation=CHANNEL)
    await teams.submit(form, {"text": "Thanks, we will look at it."}, user=MANAGER, conversation=CHANNEL)
    await teams.press("speakup_ack", case, user=MANAGER, conversation=CHANNEL)
    private = [b for b in fake_teams.sent_to(personal_chat(AUTHOR)) if "Your case code" in activity_text(b)]
    assert len(private) == 1  # the copy they asked for, in their own chat
    _, view = await teams.press(
        "speakup_view", button_data(private[0], "View replies / add more")["value"], user=AUTHOR
    )
    await teams.submit(view, {"followup": "It happened again."}, user=AUTHOR)
    await teams.say(f"speakup status {code}", user=AUTHOR)
    await teams.say("speakup status WRONG", user=AUTHOR)
    await raise_concern_refused(teams, fake_teams)
    clock.advance(1801 + 300)
    await run_jobs(candor)
    _, form = await teams.press("speakup_resolve_open", case, user=MANAGER, conversation=CHANNEL)
    await teams.submit(form, {"text": "Estimates now come first."}, user=MANAGER, conversation=CHANNEL)
    await candor.settle()
    assert any(
        "It happened again." in activity_text(c.body)
        for c in fake_teams.sent()
        if c.body and ";messageid=" in c.path
    )
    assert len(author_activities) >= 8

    leaks = secrets_of_the_author()
    leaks += activity_secrets(author_activities)  # Teams' ids of what they sent: Teams knows who
    in_wal = file_bytes(wal)
    held.close()
    assert b"It happened again." in in_wal  # the search is not vacuous
    assert [s for s in leaks if s in in_wal] == []  # the flow wrote no page that holds them

    logs = production_logs.getvalue()
    assert logs.count('"msg": "request"') >= 15
    assert [s for s in leaks if s.decode("utf-8", "ignore") in logs] == []

    to_others = [c for c in fake_teams.calls[calls_before:] if personal_chat(AUTHOR) not in c.path]
    assert len(to_others) >= 6  # the channel post, the reply, the edits, the follow-up, roster calls
    sent = json.dumps([c.body for c in to_others])
    assert [s for s in leaks if s.decode("utf-8", "ignore") in sent] == []

    assert dict(candor.db["teams_references"].get(personal_chat(AUTHOR))) == reference  # untouched
    await candor.stop()
    stored = bytes_without_the_install(db_path)
    assert b"Estimates are overruled" in stored  # the search is not vacuous
    assert [s for s in leaks if s in stored] == []  # nothing else anywhere holds them


async def raise_concern_refused(teams: TeamsClient, fake_teams) -> None:
    await teams.say("speakup", user=AUTHOR)
    opener = fake_teams.sent_to(personal_chat(AUTHOR))[-1]
    _, form = await teams.open(button_data(opener, "Open the form"), user=AUTHOR)
    _, refused = await teams.submit(form, {"concern": ""}, user=AUTHOR)
    assert "cannot be empty" in card_text(dialog_card(refused))


REVIEWED = {"conversation", "tenant", "kind", "user", "team", "name", "reference", "unreachable"}


async def test_the_reference_table_has_no_column_that_dates_anything(teams: TeamsClient):
    assert set(teams.candor.db["teams_references"].columns_dict) == REVIEWED
    for row in teams.candor.db["teams_references"].rows:
        if row["kind"] != "personal":
            assert row["user"] is None and "29:" not in row["reference"]  # a channel names no person
        assert "activityId" not in json.loads(row["reference"])
