"""Slack adapter: Bolt's AsyncApp on our aiohttp server, Block Kit rendering, the Web API sender.

`mount` is the one entry point the server uses (bot/platform.py); every slack_bolt and slack_sdk
import in Candor lives in this package.
"""

import logging

from bot.slack.adapter import SlackAdapter, mount

# Library debug output can include request bodies and headers: keep it quiet.
for _noisy in ("slack_bolt", "slack_sdk", "candor.bolt"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

__all__ = ["SlackAdapter", "mount"]
