"""What Candor answers when mentioned, called through the neutral harness: the registry's help
lines written the platform's way, once per delivery."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handlers import intro, kudos
from handlers.practice import Registry
from handlers.registry import REGISTRY
from tests.support.harness import PLATFORM, Harness
from tests.test_kudos_rules import WordSyntax


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path)
    yield harness
    harness.close()


async def mentioned(h: Harness, delivery_id: str = "Ev1") -> bool:
    return await intro.answer_mention(
        h.services,
        platform=PLATFORM,
        conversation="team",
        thread="111.222",
        user="bob",
        delivery_id=delivery_id,
    )


async def test_the_intro_lists_every_help_line_in_the_thread_once_per_delivery(h):
    assert await mentioned(h) is True
    assert await mentioned(h) is False  # the platform's retry of the same delivery
    [(where, text)] = h.posts()
    lines = text.splitlines()
    assert where == "#team" and lines[0] == "Hi @bob! I'm Candor. Here is what I can do:"
    assert lines[1:-1] == [
        f"/{line.command} {line.args}".rstrip() + f": {line.does}" for line in REGISTRY.help
    ]
    assert h.store.db.execute("select thread from outbox").fetchone() == ("111.222",)
    assert await mentioned(h, "Ev2") is True and h.count("outbox") == 2


async def test_the_intro_writes_commands_the_platforms_way_and_names_only_practices_it_runs(h):
    h.services = replace(h.services, syntaxes={PLATFORM: WordSyntax()}, registry=Registry([kudos.PRACTICE]))
    await mentioned(h)
    [(_, text)] = h.posts()
    assert text.splitlines()[1:] == [
        "kudos @person #behaviour what they did: recognise a colleague for a behaviour you saw.",
        "kudos stats: this channel's recognition by behaviour over the last 30 days.",
        "Add help to any of them for more, e.g. kudos help.",
    ]
