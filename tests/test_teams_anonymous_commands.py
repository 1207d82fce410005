"""Which typed commands come from an anonymous author is the practices' to say
(`Practice.anonymous_commands`), not the Teams adapter's: speak-up's and a failure review's are
declared there, and Teams runs them only in the person's own chat, remembering their deliveries in
memory only. A future anonymous practice declares its own and needs no change to bot/teams/."""

from __future__ import annotations

import ast

import pytest

from bot.config import REPO_ROOT
from handlers.practice import Practice, Registry
from handlers.registry import REGISTRY
from tests.support.teams import ALICE, CHANNEL, MANAGER, TeamsClient, answer_in, personal_chat, seen_text


@pytest.fixture(autouse=True)
async def installed(teams: TeamsClient):
    assert await teams.install_team(MANAGER) == 200
    assert await teams.install_personal(ALICE) == 200


@pytest.mark.parametrize(
    ("name", "text", "anonymous"),
    [
        ("speakup", "", True),
        ("speakup", "status ABCD-EFGH", True),
        ("speakup", "ABCD-EFGH", True),  # an unknown word could be a mistyped case code
        ("speakup", "stats", False),
        ("speakup", "\u200bStats", False),  # read as the practice reads it
        ("speakup", "stats ABCD", True),
        ("speakup", "enable", False),
        ("speakup", "help", False),
        ("review", "", True),  # the form may be ticked anonymous
        ("review", "edit ABCD-EFGH-IJKL", True),  # a case code
        ("review", "edit 12", False),  # a named review, by its number
        ("review", "list", False),
        ("kudos", "", False),
        ("nominate", "mine", False),
    ],
)
def test_the_practices_say_which_uses_of_their_commands_are_anonymous(name, text, anonymous):
    assert REGISTRY.is_anonymous_command(name, text) is anonymous


def test_a_practice_declares_its_own_and_two_cannot_claim_one_command():
    mine = Practice(name="whisper", anonymous_commands={"whisper": lambda text: text != "help"})
    registry = Registry([mine])
    assert registry.is_anonymous_command("whisper", "") and not registry.is_anonymous_command(
        "whisper", "help"
    )
    with pytest.raises(ValueError, match="claimed by two practices"):
        Registry([mine, Practice(name="echo", anonymous_commands={"whisper": lambda text: True})])


def test_the_teams_adapter_names_no_practice():
    """It learns what is anonymous from the registry (and private answers from `Reply.private`)."""
    names = ({p.name for p in REGISTRY.practices} | set(REGISTRY.commands)) - {"candor"}  # its own name
    for path in (REPO_ROOT / "bot" / "teams").glob("*.py"):
        tree = ast.parse(path.read_text())
        strings = {
            n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        docstrings = {
            ast.get_docstring(n, clean=False)
            for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }
        assert {s for s in strings - docstrings if s.strip().lower() in names} == set(), path


async def test_a_case_code_typed_in_a_channel_is_refused_before_anything_runs(teams: TeamsClient, fake_teams):
    before = teams.candor.count("processed")
    await teams.say("review edit ABCD-EFGH-IJKL-MNOP", user=ALICE, conversation=CHANNEL)
    said = seen_text(answer_in(fake_teams, CHANNEL))
    assert "This works only in your own chat with Candor" in said and "type review there" in said
    assert "No case" not in said and teams.candor.count("processed") == before  # nothing ran, nothing kept
    await teams.say(
        "review edit 12", user=ALICE, conversation=CHANNEL
    )  # a named review's number: not anonymous
    assert "There is no review #12." in seen_text(answer_in(fake_teams, CHANNEL))


async def test_anonymous_deliveries_are_remembered_in_memory_only(teams: TeamsClient, fake_teams):
    before = teams.candor.count("processed")
    for text in ("speakup", "speakup status ABCD-EFGH", "review", "review edit ABCD-EFGH"):
        assert await teams.say(text, user=ALICE) == 200
    assert teams.candor.count("processed") == before
    await teams.say("kudos stats", user=ALICE)  # any other delivery is kept on disk, to dedupe it
    assert teams.candor.count("processed") == before + 1
    assert fake_teams.sent_to(personal_chat(ALICE))
