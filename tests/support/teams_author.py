"""The anonymous author of the Teams anonymity proofs (speak-up, failure reviews), and what would
give them away: every form of their ids and name, hashes of them, the ids of what they sent, and
the bytes left once the one row that rightly names them (their chat's reference) is gone."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from tests.support.fake_teams import TENANT
from tests.support.teams import personal_chat

AUTHOR = "29:quinn"
AUTHOR_AAD = "aad-quinn-0b7e"
AUTHOR_NAME = "Quinn Author"


def secrets_of_the_author() -> list[bytes]:
    found: list[bytes] = []
    # Teams' activities carry the sender's id, name and Entra object id (AUTHOR_AAD in the roster,
    # "aad-quinn" in what the test client sends): every one of them.
    for name in (AUTHOR, AUTHOR[3:], AUTHOR_AAD, "aad-quinn", AUTHOR_NAME, "quinn", personal_chat(AUTHOR)):
        for variant in (name, name.lower(), name.upper()):
            found += [variant.encode(), variant.encode("utf-16-le")]
    for key in (AUTHOR, AUTHOR_AAD, f"teams:{TENANT}:{AUTHOR}", f"teams:{AUTHOR}"):
        found += [
            hashlib.sha256(key.encode()).hexdigest().encode(),
            hashlib.md5(key.encode()).hexdigest().encode(),
        ]
    return found


def activity_secrets(activities: Iterable[str]) -> list[bytes]:
    """Teams' ids of what someone sent (Teams knows who sent each), and the hashes a replay guard
    could have kept of them."""
    found: list[bytes] = []
    for activity in activities:
        found += [activity.encode(), hashlib.sha256(f"teams:{activity}".encode()).hexdigest().encode()]
    return found


def file_bytes(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


def bytes_without_the_install(db_path: Path) -> bytes:
    """After Candor stopped: the database file and its log once the author's chat reference (the
    one row that names them, written when they installed Candor) is deleted and the log emptied."""
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("delete from teams_references where conversation = ?", [personal_chat(AUTHOR)])
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return file_bytes(db_path) + file_bytes(db_path.with_name(db_path.name + "-wal"))
