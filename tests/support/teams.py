"""Talks to the running Candor as Teams does: Activity JSON posted to /api/messages, over HTTP,
with replies and proactive messages landing on the fake Bot Connector (tests/support/fake_teams)."""

from __future__ import annotations

import html
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.candor import Candor, make_settings
from tests.support.clock import FakeClock
from tests.support.fake_teams import APP_ID, APP_PASSWORD, BOT, TENANT, FakeTeams
from tests.support.postgres import default_database

CHANNEL = "19:team-alpha@thread.tacv2"  # a team's General channel has the team's id
OTHER_CHANNEL = "19:concerns@thread.tacv2"
_ids = itertools.count(1)


def personal_chat(user: str) -> str:
    return f"a:personal-{user}"


class TeamsClient:
    def __init__(self, candor: Candor, fake: FakeTeams, *, token: bool = False) -> None:
        self.candor = candor
        self.fake = fake
        self.token = token  # sign every activity with a valid Bot Connector token

    # --- building activities --------------------------------------------------------------
    def activity(
        self, kind: str, *, user: str, conversation: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        conversation = conversation or personal_chat(user)
        is_channel = conversation.startswith("19:")
        channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
        if is_channel:
            team = CHANNEL
            channel_data |= {"team": {"id": team, "name": "Alpha"}, "channel": {"id": conversation}}
            if conversation != team:
                channel_data["channel"]["name"] = conversation.split(":")[1].split("@")[0]
        activity = {
            "type": kind,
            "id": f"act-{next(_ids)}",
            "channelId": "msteams",
            "serviceUrl": self.fake.url,
            "from": {
                "id": user,
                "name": self.fake.people.get(user, {}).get("name", user),
                "aadObjectId": f"aad-{user[3:]}",
            },
            "recipient": {"id": BOT, "name": "Candor"},
            "conversation": {
                "id": conversation,
                "conversationType": "channel" if is_channel else "personal",
                "tenantId": TENANT,
            },
            "channelData": channel_data,
            "locale": "en-GB",
        }
        return activity | extra

    def message_activity(
        self,
        text: str,
        *,
        user: str,
        conversation: str | None = None,
        mentions: tuple[tuple[str, str], ...] = (),
    ) -> dict[str, Any]:
        """`text` may hold "<at>Name</at>" for each of `mentions` (user id, name); in a channel
        Candor is @mentioned first, as Teams sends it."""
        entities: list[dict[str, Any]] = [
            {"type": "clientInfo", "locale": "en-GB", "timezone": "Europe/Berlin"}
        ]
        if conversation and conversation.startswith("19:"):
            text = "<at>Candor</at> " + text
            entities.append(
                {"type": "mention", "text": "<at>Candor</at>", "mentioned": {"id": BOT, "name": "Candor"}}
            )
        for user_id, name in mentions:
            entities.append(
                {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": user_id, "name": name}}
            )
        return self.activity("message", user=user, conversation=conversation, text=text, entities=entities)

    # --- sending --------------------------------------------------------------------------
    async def post(
        self,
        activity: dict[str, Any] | str | bytes,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        assert self.candor.http
        data = activity if isinstance(activity, (str, bytes)) else json.dumps(activity)
        sent = {"Content-Type": content_type}
        if self.token:
            sent["Authorization"] = "Bearer " + self.fake.token()
        sent |= headers or {}
        async with self.candor.http.post(
            self.candor.url + "/api/messages", data=data, headers=sent
        ) as response:
            raw = await response.text()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            if isinstance(body, dict) and "task" in body:
                self.fake.dialogs.append(dialog_card(body))  # checked against the schema at the end
            return response.status, body

    async def say(
        self, text: str, *, user: str, conversation: str | None = None, mentions: tuple = ()
    ) -> int:
        status, _ = await self.post(
            self.message_activity(text, user=user, conversation=conversation, mentions=mentions)
        )
        return status

    async def install_personal(self, user: str) -> int:
        status, _ = await self.post(self.activity("installationUpdate", user=user, action="add"))
        return status

    async def install_team(self, by: str, conversation: str = CHANNEL) -> int:
        status, _ = await self.post(
            self.activity(
                "conversationUpdate",
                user=by,
                conversation=conversation,
                membersAdded=[{"id": BOT, "name": "Candor"}],
            )
        )
        return status

    async def press(
        self, action: str, value: str, *, user: str, conversation: str | None = None
    ) -> tuple[int, Any]:
        """A button: Teams asks for the dialog (task/fetch); returns the dialog's answer."""
        data = {"msteams": {"type": "task/fetch"}, "candor": "action", "action": action, "value": value}
        activity = self.activity(
            "invoke",
            user=user,
            conversation=conversation,
            name="task/fetch",
            value={"type": "task/fetch", "data": data},
        )
        return await self.post(activity)

    async def open(
        self, data: dict[str, Any], *, user: str, conversation: str | None = None
    ) -> tuple[int, Any]:
        """The "Open the form" button of a card Candor posted."""
        activity = self.activity(
            "invoke",
            user=user,
            conversation=conversation,
            name="task/fetch",
            value={"type": "task/fetch", "data": data},
        )
        return await self.post(activity)

    async def press_in_dialog(
        self, dialog: dict[str, Any], label: str, *, user: str, conversation: str | None = None
    ) -> tuple[int, Any]:
        """A button on a card shown in a dialog: Teams sends its data as task/submit."""
        data = button_data({"attachments": [{"content": dialog_card(dialog)}]}, label)
        activity = self.activity(
            "invoke", user=user, conversation=conversation, name="task/submit", value={"data": data}
        )
        return await self.post(activity)

    async def submit(
        self, dialog: dict[str, Any], answers: dict[str, Any], *, user: str, conversation: str | None = None
    ) -> tuple[int, Any]:
        """Fill in the form shown in a dialog as a person would (what they leave keeps its value)
        and submit it (task/submit); returns the dialog's answer."""
        card = dialog_card(dialog)
        submit = card["actions"][0]["data"]
        values = {}
        for element in inputs(card):
            values[element["id"]] = answers.get(element["id"], element.get("value", ""))
        activity = self.activity(
            "invoke",
            user=user,
            conversation=conversation,
            name="task/submit",
            value={"data": {**submit, **values}},
        )
        return await self.post(activity)


def dialog_card(answer: dict[str, Any]) -> dict[str, Any]:
    return answer["task"]["value"]["card"]["content"]


def inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in card["body"] if str(e.get("type", "")).startswith("Input.")]


def card_text(card: dict[str, Any]) -> str:
    """Every piece of text a person would read on a card, joined."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "RichTextBlock":
                texts.append("".join(run["text"] for run in node["inlines"]))
                return
            if node.get("type") == "TextBlock" and "text" in node:
                texts.append(node["text"])
            if "label" in node:
                texts.append(str(node["label"]))
            if node.get("type", "").startswith("Action.") and "title" in node:
                texts.append(node["title"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return "\n".join(texts)


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button of a message Candor sent: in its cards' bodies and under them."""
    found = []
    for attachment in body.get("attachments") or []:
        for element in attachment["content"]["body"]:
            if element.get("type") == "ActionSet":
                found += element["actions"]
        found += attachment["content"].get("actions") or []
    return found


def button_data(body: dict[str, Any], label: str) -> dict[str, Any]:
    """What the button labelled `label` sends."""
    for button in buttons(body):
        if button["title"] == label:
            return button["data"]
    raise AssertionError(f"no button {label!r} among {[b['title'] for b in buttons(body)]}")


def last_reply(fake: FakeTeams, conversation: str) -> str:
    """Candor's latest answer there (the outbox may post in the same conversation meanwhile)."""
    return activity_text(fake.answers_to(conversation)[-1])


def answer_in(fake: FakeTeams, conversation: str) -> dict[str, Any]:
    """Candor's latest answer to something typed in `conversation`: a reply to that activity, not
    a post the outbox delivered meanwhile."""
    return fake.answers_to(conversation)[-1]


async def open_from_reply(
    teams: TeamsClient, fake: FakeTeams, conversation: str, user: str
) -> dict[str, Any]:
    """Press the one button ("Open the form", "Show it to me") on the card Candor answered with in
    `conversation`; the dialog's answer."""
    [opener] = buttons(answer_in(fake, conversation))
    assert opener["data"]["msteams"] == {"type": "task/fetch"}
    status, answer = await teams.open(opener["data"], user=user, conversation=conversation)
    assert status == 200 and answer["task"]["type"] == "continue"
    assert_valid_card(dialog_card(answer))
    return answer


async def ask(
    teams: TeamsClient,
    fake: FakeTeams,
    text: str,
    *,
    user: str,
    conversation: str | None = None,
    mentions: tuple = (),
) -> str:
    """Type a command and read Candor's answer: what it replied, or, for an answer only the asker
    may read, what its "Show it to me" button shows them."""
    conversation = conversation or personal_chat(user)
    await teams.say(text, user=user, conversation=conversation, mentions=mentions)
    reply = answer_in(fake, conversation)
    if [b["title"] for b in buttons(reply)] != ["Show it to me"]:
        return seen_text(reply)
    return dialog_text(await open_from_reply(teams, fake, conversation, user))


def fields_of(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The inputs of the form a dialog shows, by id."""
    return {e["id"]: e for e in inputs(dialog_card(answer))}


def dialog_text(answer: dict[str, Any]) -> str:
    return card_text(dialog_card(answer))


def seen_text(body: dict[str, Any]) -> str:
    """What a person reads in a message: the activity's HTML line as Teams shows it (a mention
    reads "@Name", markup goes, entities are undone once), then its cards."""
    line = re.sub(r"<at>(.*?)</at>", r"@\1", str(body.get("text") or ""))
    parts = [html.unescape(re.sub(r"<[^<>]*>", "", line))]
    for attachment in body.get("attachments") or []:
        parts.append(card_text(attachment["content"]))
    return "\n".join(parts)


def activity_text(body: dict[str, Any]) -> str:
    """What a person reads in a message Candor sent: its text and its cards."""
    parts = [str(body.get("text") or "")]
    for attachment in body.get("attachments") or []:
        parts.append(card_text(attachment["content"]))
    return "\n".join(parts)


# --- fixtures (import them into a test module) ----------------------------------------------------
ALICE, BOB, CAROL, MANAGER = "29:alice", "29:bob", "29:carol", "29:mara"
HELPER_BOT = "28:helper-bot"


@pytest.fixture
async def fake_teams():
    fake = await FakeTeams().start()
    for user, name in (
        (ALICE, "Alice Smith"),
        (BOB, "Bob Jones"),
        (CAROL, "Carol Diaz"),
        (MANAGER, "Mara Manager"),
    ):
        fake.add_person(user, name, teams=(CHANNEL,))
    fake.add_person(HELPER_BOT, "Helper Bot")
    yield fake
    await fake.stop()
    # Every card Candor sent or showed in a dialog, in every Teams test, is a valid 1.5 card.
    for card in fake.cards() + fake.dialogs:
        assert_valid_card(card)


@pytest.fixture
def teams_overrides() -> dict:
    """Override in a test module to change Settings of the Teams server."""
    return {}


def teams_settings(tmp_path, fake: FakeTeams, *, auth: bool, **overrides: Any):
    values: dict[str, Any] = {
        "slack_bot_token": "",
        "teams_openid_url": fake.openid_url,
        "teams_login_url": fake.login_url,
    }
    if auth:
        values |= {
            "microsoft_app_id": APP_ID,
            "microsoft_app_password": APP_PASSWORD,
            "microsoft_app_tenant_id": TENANT,
        }
    else:
        values["teams_without_auth"] = True
    return make_settings(
        default_database(tmp_path, "candor.db"), "http://127.0.0.1:9/api/", **(values | overrides)
    )


@pytest.fixture
async def teams_candor(tmp_path, clock: FakeClock, slack, fake_teams, teams_overrides):
    settings = teams_settings(tmp_path, fake_teams, auth=False, **teams_overrides)
    server = await Candor(settings, clock, slack).start()
    yield server
    await server.stop()


@pytest.fixture
def teams(teams_candor, fake_teams) -> TeamsClient:
    return TeamsClient(teams_candor, fake_teams)


# --- checking what Candor sent --------------------------------------------------------------------
_SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "adaptive-card-1.5.json"
_VALIDATOR: Any = None


def assert_valid_card(card: dict[str, Any]) -> None:
    """The card validates against the public Adaptive Card 1.5 schema, and fits Teams' size."""
    global _VALIDATOR
    if _VALIDATOR is None:
        import jsonschema

        _VALIDATOR = jsonschema.Draft6Validator(json.loads(_SCHEMA.read_text()))
    errors = [e.message for e in _VALIDATOR.iter_errors(card)]
    assert errors == [], errors[:3]
    assert card["version"] == "1.5"
    assert len(json.dumps(card, ensure_ascii=False).encode()) < 80 * 1024


def every_card(fake: FakeTeams, *answers: Any) -> list[dict[str, Any]]:
    """Every card Candor sent to the connector, plus those of the given dialog answers."""
    cards = fake.cards()
    for answer in answers:
        if isinstance(answer, dict) and "task" in answer:
            cards.append(dialog_card(answer))
    return cards


async def run_jobs(candor: Candor) -> None:
    """What the scheduler's periodic jobs do (publications, reminders), then the outbox."""
    from bot.server import SERVICES

    services = candor.app[SERVICES]
    for job in services.registry.periodic:
        await job.run(services)
    await candor.settle()
