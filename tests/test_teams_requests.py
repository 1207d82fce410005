"""Teams at the edge: commands without the slash, help, 4xx for what Teams never sends, dedupe,
an apology instead of a trace, and text that cannot inject markup or mentions."""

from __future__ import annotations

import json

from tests.support.teams import (
    ALICE,
    BOB,
    CHANNEL,
    TeamsClient,
    activity_text,
    assert_valid_card,
    card_text,
    personal_chat,
)


async def test_help_in_the_personal_chat_lists_commands_without_the_slash(teams: TeamsClient, fake_teams):
    assert await teams.install_personal(ALICE) == 200
    assert await teams.say("help", user=ALICE) == 200
    text = activity_text(fake_teams.sent_to(personal_chat(ALICE))[-1])
    assert "\nkudos @person #behaviour" in text and "\ncheckin: " in text and "\nspeakup: " in text
    assert "/kudos" not in text and "e.g. kudos help" in text


async def test_an_unknown_word_says_how_to_get_help(teams: TeamsClient, fake_teams):
    await teams.say("dance", user=ALICE)
    assert "I don't know dance. Type help" in activity_text(fake_teams.sent_to(personal_chat(ALICE))[-1])


async def test_a_channel_command_needs_the_mention_and_is_answered_in_its_thread(
    teams: TeamsClient, fake_teams
):
    await teams.say("kudos help", user=ALICE, conversation=CHANNEL)
    [call] = [c for c in fake_teams.sent() if c.path.startswith(f"/v3/conversations/{CHANNEL}/activities/")]
    assert call.path.endswith("/activities/" + call.path.split("/")[-1]) and call.method == "POST"  # a reply
    assert "Recognise a colleague" in activity_text(call.body)
    assert_valid_card(call.body["attachments"][0]["content"])


async def test_what_teams_never_sends_gets_a_clear_4xx_and_changes_nothing(teams: TeamsClient, fake_teams):
    good = teams.message_activity("kudos stats", user=ALICE)
    cases = [
        (b"{not json", "application/json", 400, "not JSON"),
        (json.dumps(good).encode(), "text/plain", 415, "JSON"),
        (json.dumps(good).encode(), "application/x-www-form-urlencoded", 415, "JSON"),
        (b"[1, 2]", "application/json", 400, "object"),
        (json.dumps(good | {"type": "dance"}).encode(), "application/json", 400, "unknown activity type"),
        (
            json.dumps({k: v for k, v in good.items() if k != "type"}).encode(),
            "application/json",
            400,
            "type",
        ),
        (json.dumps(good | {"serviceUrl": "ftp://x"}).encode(), "application/json", 400, "serviceUrl"),
        (json.dumps(good | {"from": "alice"}).encode(), "application/json", 400, "from"),
        (json.dumps(good | {"entities": {"a": 1}}).encode(), "application/json", 400, "entities"),
        (b"\xff\xfe", "application/json", 400, "not JSON"),
    ]
    for body, content_type, status, says in cases:
        got, answer = await teams.post(body, content_type=content_type)
        assert (got, says in answer["error"]) == (status, True), (body[:40], answer)
    assert fake_teams.calls == [] and teams.candor.count("processed") == 0


async def test_a_known_type_candor_does_not_use_is_accepted_quietly(teams: TeamsClient, fake_teams):
    status, _ = await teams.post(teams.activity("typing", user=ALICE))
    assert status == 200 and fake_teams.sent() == []


async def test_an_activity_teams_sends_again_is_handled_once(teams: TeamsClient, fake_teams):
    await teams.install_team(ALICE)
    activity = teams.message_activity(
        "kudos <at>Bob Jones</at> #mentoring thanks for pairing",
        user=ALICE,
        conversation=CHANNEL,
        mentions=((BOB, "Bob Jones"),),
    )
    assert (await teams.post(activity))[0] == 200
    assert (await teams.post(activity))[0] == 200  # Teams re-sends after 15 s without an answer
    assert teams.candor.count("kudos") == 1
    replies = [c for c in fake_teams.sent() if "Kudos sent to" in activity_text(c.body or {})]
    # No second answer at all (the outbox may meanwhile have posted the kudos itself, once).
    answers = [c for c in fake_teams.sent_to(CHANNEL) if "recognised" not in activity_text(c)]
    assert len(replies) == 1 and len(answers) == 1
    nudge = teams.message_activity("nudge", user=ALICE)  # a command that does not dedupe itself
    for _ in range(2):
        assert (await teams.post(nudge))[0] == 200
    assert len(fake_teams.sent_to(personal_chat(ALICE))) == 1 and teams.candor.count("nudge_log") == 1


async def test_an_unhandled_error_is_a_short_apology_and_a_logged_trace(
    teams: TeamsClient, fake_teams, caplog
):
    fake_teams.answer_next(400, "BadArgument")  # the reply itself is refused: nothing handles that
    status, body = await teams.post(teams.message_activity("help", user=ALICE))
    assert status == 200 and not body
    [apology] = fake_teams.sent_to(personal_chat(ALICE))
    assert (
        apology["text"].startswith("Something went wrong on Candor's side")
        and "Traceback" not in apology["text"]
    )
    assert any(r.getMessage() == "unhandled error in a Teams turn" and r.exc_info for r in caplog.records)


async def test_typed_markup_and_mentions_stay_text_in_every_card_and_message(teams: TeamsClient, fake_teams):
    await teams.install_team(ALICE)
    typed = "**loud** [click](https://evil.example) # title &lt;at&gt;Carol Diaz&lt;/at&gt; @everyone thanks"
    await teams.say(
        f"kudos <at>Bob Jones</at> #mentoring {typed}",
        user=ALICE,
        conversation=CHANNEL,
        mentions=((BOB, "Bob Jones"),),
    )
    await teams.candor.settle()
    posts = [c.body for c in fake_teams.sent() if "recognised" in activity_text(c.body or {})]
    assert len(posts) == 2  # the channel's and Bob's
    for post in posts:
        mentioned = {e["mentioned"]["id"] for e in post.get("entities") or []}
        assert mentioned <= {ALICE, BOB} and post["text"].count("<at>") == len(post["entities"])
        assert post["textFormat"] == "xml" and "<b>Mentored someone</b>" in post["text"]
        card = post["attachments"][0]["content"]
        assert_valid_card(card)
        assert (
            "**loud** [click](https://evil.example) # title <at>Carol Diaz</at> @everyone thanks"
            in card_text(card)
        )
        assert '"TextBlock"' not in json.dumps(card)  # only TextRuns, which Teams never reads as markdown
        links = [r for r in json.dumps(card).split('"selectAction"')[1:]]
        assert len(links) == 1 and '"url": "https://evil.example"' in links[0]  # labelled with itself
    stored = teams.candor.db["kudos"].get(1)["message"]
    assert "<at>Carol Diaz</at>" in stored  # what she typed, as text


async def test_a_sender_name_with_markup_is_escaped_in_the_message_html(teams: TeamsClient, fake_teams):
    fake_teams.people[ALICE]["name"] = "<b>Alice</b> & co"
    await teams.install_team(ALICE)
    await teams.say(
        "kudos <at>Bob Jones</at> #mentoring thanks",
        user=ALICE,
        conversation=CHANNEL,
        mentions=((BOB, "Bob Jones"),),
    )
    await teams.candor.settle()
    post = next(c.body for c in fake_teams.sent() if "recognised" in activity_text(c.body or {}))
    assert "<at>&lt;b&gt;Alice&lt;/b&gt; &amp; co</at>" in post["text"]


async def test_connector_clients_are_built_once_and_reused(teams: TeamsClient, fake_teams):
    """botbuilder builds a client per turn (about 4 ms of CPU each); Candor keeps one."""
    from bot.server import ADAPTERS

    await teams.install_team(ALICE)
    for word in ("help", "kudos help", "kudos stats"):
        await teams.say(word, user=ALICE, conversation=CHANNEL)
    await teams.say("help", user=BOB)
    await teams.candor.settle()
    assert len(fake_teams.sent()) == 4
    assert teams.candor.app[ADAPTERS]["teams"].connectors.built == 1


async def test_health_names_teams(teams: TeamsClient):
    assert teams.candor.http
    async with teams.candor.http.get(teams.candor.url + "/healthz") as response:
        assert response.status == 200 and (await response.json())["teams"] == "ok"
