"""One Teams turn: an activity handed to the practices, and what they answer rendered back.

- A message is a command without the slash ("kudos @Alice #mentoring thanks"), in a personal
  chat or where Candor is @mentioned; the answer is a reply in the same conversation (a channel
  sees it: Teams has no ephemeral messages). A command that opens a form answers with a card whose
  button opens the form in a dialog.
- Every button is `task/fetch`: the practice's answer (a form, or a message) is shown in a dialog,
  visible only to the person who pressed it. A form is sent back with `task/submit`; a refusal
  comes back as the same form with what to fix.
- Installation (`installationUpdate`, `conversationUpdate` with Candor among the members added)
  stores the conversation's reference, which proactive messages use later.
- An answer only the asker may read (`Reply.private`: their notes, evidence, agreements) is never
  posted as a message: others in a channel would see it, and Teams keeps a chat's history (Slack's
  answers are ephemeral). A card shows it to the asker alone, in a dialog (bot/teams/private.py).
- The commands, forms and buttons an anonymous author may use (`Practice.anonymous_commands` and
  `Practice.anonymous`: speak-up, a failure review) run only in the person's own chat with Candor,
  where nobody else sees them, and their replays are remembered in memory only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import aiohttp
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.models import ErrorResponseException
from sqlite_utils import Database

from bot.messages import Choice, Field, Form, FormErrors, Message, Reply, error, text_message
from bot.replays import ReplayGuard
from bot.store import DB_ERRORS, StoreUnavailable, error_name, is_storage_error
from bot.teams import references
from bot.teams.activities import card_activity, message_activity
from bot.teams.activities import reply as reply_to
from bot.teams.cards import (
    PRIVATE_TITLE,
    activity_parts,
    decode_form,
    dialog,
    form_card,
    form_values,
    message_card,
    opener_card,
    private_card,
)
from bot.teams.people import TeamsPeople
from bot.teams.private import TTL_S as PRIVATE_TTL_S
from bot.teams.private import PrivateAnswers
from bot.teams.wire import read
from handlers import intro
from handlers.context import Action, Command, Services, Submission
from handlers.text import Mentioned

log = logging.getLogger("candor.teams")

PLATFORM = "teams"
MAX_MENTIONS = 50  # people a command carried into a card's button and back
APOLOGY = "Something went wrong on Candor's side and nothing was saved. Please try again in a minute."
NOT_SAVED = error(
    "Candor cannot save anything right now (its database is not taking changes), so this was "
    "not saved. Please try again in a few minutes."
)
TEAMS_UNREACHABLE = error(
    "Candor could not reach Teams to check this, so nothing was saved. Please try again in a minute."
)


def only_personal(typed: str) -> Reply:
    """An anonymous author's command typed where others see it: where to type it instead, said
    without naming what it is for."""
    return error(
        "This works only in your own chat with Candor: here everyone in the conversation would see "
        "that you opened it, and its replies.",
        "Open a chat with Candor (Apps → Candor, or search for Candor in the chat list) and type "
        f"{typed} there.",
    )


# A form or button an anonymous author may use (a speak-up concern, a failure review that may be
# ticked anonymous), reached from a shared conversation: said without naming the practice.
ONLY_PERSONAL_DIALOG = text_message(
    "This works only in your own chat with Candor: here everyone in the conversation would see "
    "that you opened it. Open a chat with Candor (Apps → Candor, or search for Candor in the chat "
    "list) and start it there."
)
ALREADY = text_message("This was already handled.")
PRIVATE = "private"  # what a private answer's button carries (its token)
NOT_YOURS = text_message(
    "This answer is only for the person who asked. Type the same to Candor to see your own, "
    "best in your own chat with Candor."
)
PRIVATE_GONE = text_message(
    f"This answer is no longer kept (Candor keeps one {int(PRIVATE_TTL_S // 60)} minutes). "
    "Ask again, or ask in your own chat with Candor."
)


def conversation_of(activity: Activity) -> str:
    """The conversation itself, without the thread a channel message sits in."""
    return str(activity.conversation.id).split(";", 1)[0]


def kind_of(activity: Activity) -> str:
    return str(getattr(activity.conversation, "conversation_type", None) or references.PERSONAL)


def tenant_of(activity: Activity) -> str:
    data = activity.channel_data or {}
    tenant = getattr(activity.conversation, "tenant_id", None) or (data.get("tenant") or {}).get("id")
    return str(tenant or "")


def entities_of(activity: Activity) -> list[dict[str, Any]]:
    """The activity's entities as Teams sent them (the schema keeps their fields aside)."""
    return [{**(e.additional_properties or {}), "type": e.type} for e in activity.entities or []]


def timezone_of(activity: Activity) -> str | None:
    for entity in entities_of(activity):
        if entity["type"] == "clientInfo" and entity.get("timezone"):
            return str(entity["timezone"])
    return None


def command_data(name: str, text: str, mentions: tuple[Mentioned, ...]) -> dict[str, Any]:
    """What a card's button carries to run a typed command again: its words and the people Teams
    marked in them (a dialog's invoke carries no mention entities)."""
    return {
        "candor": "command",
        "name": name,
        "text": text,
        "mentions": [{"user": m.user, "text": m.text, "at": m.at} for m in mentions],
    }


def mentions_from(raw: Any, text: str) -> tuple[Mentioned, ...]:
    """The people `command_data` carried, each still standing where it was in the text."""
    found: list[Mentioned] = []
    for item in raw if isinstance(raw, list) else []:
        if len(found) >= MAX_MENTIONS or not isinstance(item, dict):
            break
        user, shown, at = item.get("user"), item.get("text"), item.get("at")
        if (
            isinstance(user, str)
            and user
            and isinstance(shown, str)
            and shown
            and isinstance(at, int)
            and not isinstance(at, bool)
            and at >= 0
            and text.startswith(shown, at)
        ):
            found.append(Mentioned(user=user, text=shown, at=at))
    return tuple(found)


async def run_safely(handler: Callable[..., Awaitable[Any]], request: Any, services: Services) -> Any:
    """A practice's answer, or a clear error: a database that takes no writes or a failed call to
    Teams is one log line and "nothing was saved"; anything else is a bug, logged with its trace."""
    try:
        services.store.check_file()
        return await handler(request, services)
    except StoreUnavailable:
        log.error("not saved: the database file was deleted or replaced")
        return NOT_SAVED
    except DB_ERRORS as exc:
        if not is_storage_error(exc):
            log.exception("practice failed")
            return error(APOLOGY)
        log.error("not saved: the database refused the write", extra={"error": error_name(exc)})
        return NOT_SAVED
    except (ErrorResponseException, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("a call to Teams failed", extra={"error": type(exc).__name__})
        return TEAMS_UNREACHABLE
    except Exception:
        log.exception("practice failed")
        return error(APOLOGY)


class CandorBot(ActivityHandler):
    def __init__(self, services: Services, people: TeamsPeople, replays: ReplayGuard) -> None:
        self.services = services
        self.people = people
        self.replays = replays
        self.registry = services.registry
        self.private = PrivateAnswers(services.clock)
        self._kept: set[str] = set()  # channels and group chats whose reference is stored

    # --- what every turn does first ---------------------------------------------------------
    async def _notice(self, activity: Activity) -> None:
        """Remember who sent it (memory only) and keep a channel or group chat Candor heard from."""
        sender = activity.from_property.serialize() if activity.from_property else None
        self.people.saw(sender, timezone_of(activity))
        for entity in entities_of(activity):
            if entity["type"] == "mention" and isinstance(entity.get("mentioned"), dict):
                self.people.saw(entity["mentioned"])
        if kind_of(activity) != references.PERSONAL and conversation_of(activity) not in self._kept:
            # once per conversation and process: a read, not a write
            await self._keep(activity, only_if_new=True)
            self._kept.add(conversation_of(activity))

    async def _keep(self, activity: Activity, *, only_if_new: bool = False) -> None:
        """Store the conversation's reference. A channel's or group's names no person."""
        kind = kind_of(activity)
        reference = TurnContext.get_conversation_reference(activity)
        reference.activity_id = None
        reference.conversation.id = conversation_of(activity)
        data = activity.channel_data or {}
        team = (data.get("team") or {}).get("id")
        name = (data.get("channel") or {}).get("name")
        if kind == references.CHANNEL and not name:
            name = "General" if reference.conversation.id == team else None
        user = None
        if kind == references.PERSONAL:
            user = activity.from_property.id if activity.from_property else None
        else:
            reference.user = None
        row = {
            "conversation": reference.conversation.id,
            "tenant": tenant_of(activity),
            "kind": kind,
            "reference": reference.serialize(),
            "team": team,
            "name": name,
        }
        store, conversation = self.services.store, row["conversation"]
        if only_if_new:
            stored = await store.read(lambda db: references.for_conversation(db, conversation=conversation))
            if stored:
                return

        def save(tx: Database) -> None:
            if only_if_new:
                references.save_if_new(tx, **row)
            else:
                references.save(tx, **row, user=user)

        await store.run(save)

    async def _first(self, activity: Activity, *, anonymous: bool) -> bool:
        """False for a delivery Teams sent again (it re-sends what was not answered in 15 s)."""
        if not activity.id:
            return True
        try:
            return await self.replays.first_time(
                f"teams:{activity.id}", anonymous=anonymous, signed_at=self.services.clock.now()
            )
        except Exception as exc:  # the store cannot record it; the practice will say nothing was saved
            log.warning("could not record an activity as handled", extra={"error": type(exc).__name__})
            return True

    def _user(self, activity: Activity) -> str:
        return str(activity.from_property.id if activity.from_property else "")

    # --- messages: commands -----------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if not activity.text:
            return  # a card's old Action.Submit outside a dialog, or an attachment: nothing to do
        await self._notice(activity)
        bot_id = activity.recipient.id if activity.recipient else None
        typed = read(activity.text, entities_of(activity), bot_id)
        anonymous = self.registry.is_anonymous_command(typed.name, typed.text)
        if not await self._first(activity, anonymous=anonymous):
            return
        if typed.name in ("", "help", "hi", "hello", "?"):
            lines = intro.intro_message(self.services, PLATFORM, self._user(activity))
            await self._reply(turn_context, Reply(text_message(*lines)))
            return
        practice = self.registry.commands.get(typed.name)
        if practice is None:
            shown = typed.name[:30]
            await self._reply(turn_context, error(f"I don't know {shown}. Type help for what I can do."))
            return
        if anonymous and kind_of(activity) != references.PERSONAL:
            await self._reply(turn_context, only_personal(typed.name))
            return
        cmd = Command(
            platform=PLATFORM,
            workspace=tenant_of(activity),
            user=self._user(activity),
            conversation=conversation_of(activity),
            text=typed.text,
            delivery_id=activity.id,
            mentions=typed.mentions,
        )
        reply = await run_safely(practice, cmd, self.services)
        if self._anonymous_form_here(activity, reply):
            await self._reply(turn_context, Reply(ONLY_PERSONAL_DIALOG))
            return
        again = command_data(typed.name, typed.text, typed.mentions)
        if reply.form is not None:
            shared = kind_of(activity) != references.PERSONAL  # the intro may name people: not there
            card = opener_card(reply.form, again, {}, with_intro=not shared)
            await reply_to(turn_context, card_activity(card, reply.form.title))
            return
        if reply.private:  # never a message: others may see it, and Teams keeps every message
            token = self.private.keep(self._user(activity), reply.message)
            card = private_card(
                {"candor": PRIVATE, "token": token}, shared=kind_of(activity) != references.PERSONAL
            )
            await reply_to(turn_context, card_activity(card, PRIVATE_TITLE))
            return
        await self._reply(turn_context, reply)

    async def _reply(self, turn_context: TurnContext, reply: Reply) -> None:
        names = await self.people.names_in(reply.message)
        await reply_to(turn_context, message_activity(activity_parts(reply.message, names, notify=False)))

    # --- dialogs: buttons and forms ---------------------------------------------------------
    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name not in ("task/fetch", "task/submit"):
            return InvokeResponse(
                status=HTTPStatus.BAD_REQUEST, body={"error": f"unsupported invoke {activity.name!r}"}
            )
        await self._notice(activity)
        value: dict[str, Any] = activity.value if isinstance(activity.value, dict) else {}
        inner = value.get("data")
        data: dict[str, Any] = inner if isinstance(inner, dict) else value
        what = data.get("candor")
        anonymous = self._anonymous_dialog(data)
        if anonymous and kind_of(activity) != references.PERSONAL:
            name = str(data.get("name") or "")
            refusal = only_personal(name).message if what == "command" else ONLY_PERSONAL_DIALOG
            return await self._dialog_message("Candor", refusal)
        if not await self._first(activity, anonymous=anonymous):
            return await self._dialog_message("Candor", ALREADY)
        # A button on a message asks for a dialog (task/fetch); the same button on a card shown in
        # a dialog sends it (task/submit), and the dialog becomes the answer.
        if what == "action":
            return await self._pressed(activity, str(data.get("action") or ""), str(data.get("value") or ""))
        if what == "command":
            return await self._command_again(activity, data)
        if what == PRIVATE:
            return await self._private_answer(activity, str(data.get("token") or ""))
        if activity.name == "task/submit" and what == "form" and isinstance(data.get("form"), dict):
            return await self._submitted(activity, data)
        return InvokeResponse(status=HTTPStatus.BAD_REQUEST, body={"error": "not a Candor dialog"})

    def _anonymous_dialog(self, data: dict[str, Any]) -> bool:
        if data.get("candor") == "action":
            return str(data.get("action")) in self.registry.anonymous
        if data.get("candor") == "form":
            return str((data.get("form") or {}).get("callback")) in self.registry.anonymous
        if data.get("candor") == "command":
            return self.registry.is_anonymous_command(
                str(data.get("name") or ""), str(data.get("text") or "")
            )
        return False

    async def _pressed(self, activity: Activity, action_id: str, value: str) -> InvokeResponse:
        handler = self.registry.actions.get(action_id)
        if handler is None:
            return await self._dialog_message("Candor", error("This button no longer works.").message)
        action = Action(
            platform=PLATFORM,
            workspace=tenant_of(activity),
            user=self._user(activity),
            conversation=conversation_of(activity),
            action_id=action_id,
            value=value,
            delivery_id=activity.id,
        )
        return await self._show(activity, await run_safely(handler, action, self.services))

    async def _private_answer(self, activity: Activity, token: str) -> InvokeResponse:
        """An answer kept for whoever asked it (see private.py), shown to them alone."""
        message = self.private.for_user(token, self._user(activity))
        if message is not None:
            return await self._dialog_message("Only for you", message)
        if self.private.exists(token):
            return await self._dialog_message("Candor", NOT_YOURS)
        return await self._dialog_message("Candor", PRIVATE_GONE)

    async def _command_again(self, activity: Activity, data: dict[str, Any]) -> InvokeResponse:
        """A card's button that runs the command it came from again, for whoever pressed it, and
        shows what it answers in a dialog (the form it opens)."""
        name, text = str(data.get("name") or ""), str(data.get("text") or "")
        practice = self.registry.commands.get(name)
        if practice is None:
            return await self._dialog_message("Candor", error("This form is no longer available.").message)
        cmd = Command(
            platform=PLATFORM,
            workspace=tenant_of(activity),
            user=self._user(activity),
            conversation=conversation_of(activity),
            text=text,
            mentions=mentions_from(data.get("mentions"), text),
        )
        return await self._show(activity, await run_safely(practice, cmd, self.services))

    async def _submitted(self, activity: Activity, data: dict[str, Any]) -> InvokeResponse:
        try:
            form = decode_form(data["form"])
        except (KeyError, TypeError, ValueError):
            return InvokeResponse(status=HTTPStatus.BAD_REQUEST, body={"error": "malformed form"})
        handler = self.registry.forms.get(form.callback)
        if handler is None:
            return await self._dialog_message("Candor", error("This form is no longer available.").message)
        values = form_values(form, data)
        sub = Submission(
            platform=PLATFORM,
            workspace=tenant_of(activity),
            user=self._user(activity),
            callback=form.callback,
            values=values,
            context=form.context,
        )
        result = await run_safely(handler, sub, self.services)
        if isinstance(result, FormErrors):
            return await self._form(activity, form, values=values, errors=result.errors)
        if result.form is not None:  # the next step: the dialog becomes the form it answered with
            return await self._form(activity, result.form)
        return await self._dialog_message(form.title, result.message)

    def _anonymous_form_here(self, activity: Activity, reply: Reply) -> bool:
        """A form an anonymous author may fill in, about to open in a shared conversation."""
        return (
            reply.form is not None
            and reply.form.callback in self.registry.anonymous
            and kind_of(activity) != references.PERSONAL
        )

    async def _show(self, activity: Activity, reply: Reply) -> InvokeResponse:
        if self._anonymous_form_here(activity, reply):
            return await self._dialog_message("Candor", ONLY_PERSONAL_DIALOG)
        if reply.form is not None:
            return await self._form(activity, reply.form)
        return await self._dialog_message("Candor", reply.message)

    async def _form(
        self, activity: Activity, form: Form, *, values: Any = None, errors: dict[str, str] | None = None
    ) -> InvokeResponse:
        choices = await self._pickers(activity, form)
        names = await self.people.names_in(Message(form.intro))
        card = form_card(form, names, choices=choices, values=values, errors=errors)
        return InvokeResponse(status=HTTPStatus.OK, body=dialog(form.title, card))

    async def _dialog_message(self, title: str, message: Message) -> InvokeResponse:
        card = message_card(message, await self.people.names_in(message))
        return InvokeResponse(status=HTTPStatus.OK, body=dialog(title, card))

    async def _pickers(self, activity: Activity, form: Form) -> dict[str, tuple[Choice, ...]]:
        """Options for the fields Teams has no picker for in Adaptive Cards 1.5: the channels
        Candor can post in, and the people of this conversation (or those Candor knows)."""
        found: dict[str, tuple[Choice, ...]] = {}
        for field in form.fields:
            if field.kind == "channel":
                found[field.id] = await self._channels(activity, field)
            elif field.kind == "user":
                found[field.id] = await self._people_choices(activity)
        return found

    async def _channels(self, activity: Activity, field: Field) -> tuple[Choice, ...]:
        tenant = tenant_of(activity)
        rows = await self.services.store.read(lambda db: references.channels(db, tenant=tenant))
        choices = [Choice(r.conversation, r.name or "General") for r in rows if not r.unreachable]
        if (
            field.initial
            and all(c.value != field.initial for c in choices)
            and kind_of(activity) != references.PERSONAL
        ):
            choices.insert(0, Choice(str(field.initial), "This conversation"))
        return tuple(choices)

    async def _people_choices(self, activity: Activity) -> tuple[Choice, ...]:
        users: list[str] = []
        if kind_of(activity) != references.PERSONAL:
            try:
                users = await self.people.members(conversation_of(activity))
            except Exception:
                users = []
        if not users:
            users = [u for u in self.people.known() if not u.startswith("28:")]
        me = self._user(activity)
        choices = []
        for user in users:
            info = await self.people.lookup(user)
            if info and not info.is_bot and user != me:
                choices.append(Choice(user, info.name))
        return tuple(sorted(choices, key=lambda c: c.label.lower()))

    # --- installation -----------------------------------------------------------------------
    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        for member in activity.members_added or []:
            self.people.saw(member.serialize())
        if any(m.id == bot_id for m in activity.members_added or []):
            await self._keep(activity)
            if kind_of(activity) == references.PERSONAL:
                lines = intro.intro_message(self.services, PLATFORM, self._user(activity))
                await self._reply(turn_context, Reply(text_message(*lines)))
        elif any(m.id == bot_id for m in activity.members_removed or []):
            gone = conversation_of(activity)
            await self.services.store.run(lambda tx: references.forget(tx, conversation=gone))
        elif kind_of(activity) != references.PERSONAL:
            # a channel created or renamed in a team Candor is in
            await self._keep(activity, only_if_new=True)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if str(activity.action or "").startswith("add"):
            await self._keep(activity)
        elif activity.action == "remove":
            gone = conversation_of(activity)
            await self.services.store.run(lambda tx: references.forget(tx, conversation=gone))


async def on_turn_error(turn_context: TurnContext, error_: Exception) -> None:
    """A bug in a turn: its trace goes to the log, the person gets a short apology."""
    log.error("unhandled error in a Teams turn", exc_info=error_)
    activity = turn_context.activity
    try:
        if activity.type == ActivityTypes.invoke:
            card = message_card(text_message(APOLOGY), {})
            await turn_context.send_activity(
                Activity(
                    type=ActivityTypes.invoke_response,
                    value=InvokeResponse(status=HTTPStatus.OK, body=dialog("Candor", card)),
                )
            )
        else:
            await turn_context.send_activity(Activity(type=ActivityTypes.message, text=APOLOGY))
    except Exception as exc:
        log.warning("could not send the apology", extra={"error": type(exc).__name__})
