"""Peer recognition tied to an observable behaviour, with a team-level view instead of a ranking.

One /kudos may recognise several people; each receiver counts towards the giver's daily cap. The
giver can take their last kudos back for a few minutes (`/kudos undo`): its posts are edited to
say so and it no longer counts anywhere.

ids.py names its stable strings, parse.py reads a command, flows.py holds the rules, store.py all
its SQL and views.py what it says and posts; report.py its team figures, home.py what a person
sees of their own kudos.
"""

from __future__ import annotations

from handlers.kudos import flows, home, report, views
from handlers.kudos.ids import Commands
from handlers.practice import Practice

PRACTICE = Practice(
    name="kudos",
    commands={Commands.KUDOS: flows.handle},
    help=views.HELP,
    report=report.figures,
    home=home.section,
)
