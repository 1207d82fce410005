"""What a /kudos says: the people, the #behaviour and the message of
'@person [@person …] #behaviour message'.

People are only the ones the adapter marked (`Command.mentions`), found by where they stand in the
text, so a mention of several words (Teams' "@Carol Smith") is one person and a typed look-alike
of a mention is text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.context import Command
from handlers.kudos.policy import MAX_RECEIVERS
from handlers.text import Mentioned, clean_user_text

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Parsed:
    receivers: tuple[str, ...]  # user ids in the order mentioned, without repeats
    tag: str | None  # the #behaviour as typed, without its #
    message: str  # as typed, not yet cleaned
    message_at: int  # where the message starts in the command's text
    mentioned_in_message: tuple[Mentioned, ...]


def _ends_word(text: str, at: int) -> bool:
    return at == len(text) or text[at].isspace()


def split(cmd: Command) -> Parsed:
    """People and the #behaviour may come in any order; the message is the rest, line breaks kept.

    A mention counts as a person where a word starts with it and it ends that word ("@bob," does
    not), as before; the first word that is neither a person nor the #behaviour starts the message.
    """
    text = cmd.text
    marked = {m.at: m for m in cmd.mentions if m.text and text.startswith(m.text, m.at)}
    receivers: list[str] = []
    tag = None
    pos = 0
    for _ in range(MAX_RECEIVERS + 2):  # bounded: more people than that is refused anyway
        word = _WORD.search(text, pos)
        if word is None:
            pos = len(text)
            break
        start = word.start()
        mention = marked.get(start)
        if mention and _ends_word(text, start + len(mention.text)):
            receivers.append(mention.user)
            pos = start + len(mention.text)
            continue
        token = clean_user_text(word.group())
        if token.startswith("#") and len(token) > 1 and tag is None:
            tag = token[1:]
            pos = word.end()
            continue
        pos = start
        break
    in_message = tuple(m for at, m in sorted(marked.items()) if at >= pos)
    return Parsed(tuple(dict.fromkeys(receivers)), tag, text[pos:], pos, in_message)
