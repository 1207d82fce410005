"""Teams adapter: botbuilder's CloudAdapter on our aiohttp server, Adaptive Card rendering, stored
conversation references and the connector sender.

`mount` is the one entry point the server uses (bot/platform.py). Every botbuilder (and
botframework, msrest) import in Candor lives in this package: botbuilder-python is archived
(Microsoft's successor is the Microsoft 365 Agents SDK), so a move stays inside this folder.
"""

import logging

from bot.teams.adapter import TeamsAdapter, mount

# Library debug output can include request bodies, headers and tokens: keep it quiet.
for _noisy in ("botbuilder", "botframework", "msrest", "msal", "urllib3"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

__all__ = ["TeamsAdapter", "mount"]
