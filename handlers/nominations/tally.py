"""Counting: who goes to the vote and who wins. Pure functions, so the rules read in one place.

Nominees are ranked by distinct nominators; the finalists are the top N, plus anyone tied with the
Nth (leaving out someone with as many nominators as a finalist would be arbitrary). The winners
are everyone with the most votes among the finalists, or, without a vote (or with no vote cast),
the most nominators: a tie gives joint winners.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from handlers.nominations.store import Result


def ranked(counts: Mapping[str, int]) -> list[str]:
    """Most first; equal counts in a stable order (the platform's ids), never at random."""
    return sorted(counts, key=lambda who: (-counts[who], who))


def finalists(nominators: Mapping[str, int], top_n: int) -> tuple[str, ...]:
    order = ranked(nominators)
    if len(order) <= top_n:
        return tuple(order)
    cut = nominators[order[top_n - 1]]
    return tuple(who for who in order if nominators[who] >= cut)


def most(counts: Mapping[str, int], among: Iterable[str]) -> tuple[str, ...]:
    """Everyone in `among` with the highest count, if it is above zero."""
    pool = {who: counts.get(who, 0) for who in among}
    top = max(pool.values(), default=0)
    return tuple(who for who in ranked(pool) if pool[who] == top) if top > 0 else ()


def outcome(
    nominators: Mapping[str, int], votes: Mapping[str, int] | None, on_ballot: Iterable[str]
) -> list[Result]:
    """Every nominee's line of the tally. `votes` is None for a cycle without a vote."""
    ballot = tuple(on_ballot) if votes is not None else tuple(nominators)
    winners = most(votes, ballot) if votes else ()
    if not winners:
        winners = most(nominators, ballot)
    return [
        Result(
            nominee=who,
            nominators=nominators[who],
            votes=(votes.get(who, 0) if votes is not None and who in ballot else None),
            finalist=votes is not None and who in ballot,
            winner=who in winners,
        )
        for who in ranked(nominators)
    ]
