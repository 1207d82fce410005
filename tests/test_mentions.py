"""Each adapter marks who a command mentions, with the place each mention stands in the text."""

from __future__ import annotations

from bot.shell import typed_mentions
from bot.slack.wire import command_text
from handlers.text import Mentioned


def test_slack_mentions_carry_their_place_in_the_text_as_read():
    text, mentions = command_text("&lt;b&gt; <@UBOB|bob> &amp; <@UCAROL> <#C1|x> <@UDAN|@Dan Lee>!")
    assert text == "<b> @bob & @UCAROL #x @Dan Lee!"
    assert mentions == (
        Mentioned("UBOB", "@bob", at=4),
        Mentioned("UCAROL", "@UCAROL", at=11),
        Mentioned("UDAN", "@Dan Lee", at=22),
    )
    assert all(text.startswith(m.text, m.at) for m in mentions)


def test_the_shell_marks_whole_typed_at_name_words():
    text = "@Bob  #mentoring thanks @carol, see @dan\n@e.v-a_1 @ x@y @"
    assert typed_mentions(text) == (
        Mentioned("bob", "@Bob", at=0),
        Mentioned("dan", "@dan", at=36),
        Mentioned("e.v-a_1", "@e.v-a_1", at=41),
    )
    assert typed_mentions("@" + "x" * 41) == ()  # longer than a shell name may be
