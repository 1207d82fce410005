"""k-thresholds: an aggregate is shown only for a group of at least k, so no figure points at one
person (a channel with a single concern, a team with two answers)."""

from __future__ import annotations


def meets_k(count: int, k: int) -> bool:
    """Whether a group of `count` is large enough to show figures about it."""
    return count >= k


def withheld(k: int, noun: str) -> str:
    """What a report says instead of a smaller group's figures, e.g. withheld(5, "concerns")."""
    return f"fewer than {k} {noun}, not shown to protect anonymity"
