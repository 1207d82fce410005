"""Slack adapter: Bolt's AsyncApp on our aiohttp server, Block Kit rendering, the Web API sender."""
