"""Kudos rules called the way an adapter calls them: a stub directory, no HTTP, no Slack."""

from __future__ import annotations

import pytest

from tests.support.harness import Harness, text_of


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path)
    yield harness
    harness.close()


async def test_a_kudos_posts_to_the_channel_and_tells_the_receiver(h):
    reply = await h.command("kudos", "@bob #mentoring thanks for pairing")
    assert text_of(reply).startswith("Kudos sent to @bob for Mentored someone")
    assert h.posts() == [
        (
            "#team",
            "🧭 @alice recognised @bob for Mentored someone\n> thanks for pairing\n"
            "Spent time helping a colleague learn or grow.",
        ),
        ("@bob", "@alice recognised you for Mentored someone 🧭\n> thanks for pairing"),
    ]


async def test_the_cap_counts_each_receiver_and_stores_nothing_past_it(h):
    for n in range(2):
        await h.command("kudos", f"@bob @carol #feedback round {n}")
    reply = await h.command("kudos", "@bob @carol #feedback two more")  # 6 would pass the cap of 5
    assert "you have 1 left" in text_of(reply) and "Kudos sent" not in text_of(reply)
    assert h.count("kudos") == 4
    h.clock.advance(24 * 3600)
    assert "Kudos sent" in text_of(await h.command("kudos", "@bob #feedback a new day"))


async def test_no_kudos_to_yourself_or_a_bot(h):
    h.people.add("robot", is_bot=True)
    assert "someone else" in text_of(await h.command("kudos", "@alice #mentoring me"))
    assert "Bots do not need kudos" in text_of(await h.command("kudos", "@robot #mentoring beep"))
    assert h.count("kudos") == 0 and h.posts() == []
