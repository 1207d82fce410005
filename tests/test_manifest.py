"""The Slack app manifest validates against Slack's published schema and matches the code."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from bot.config import REPO_ROOT
from handlers.registry import REGISTRY

SCHEMAS = Path(__file__).parent / "schemas"  # copies of public schemas; see schemas/README.md


def load_manifest() -> dict:
    return yaml.safe_load((REPO_ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_the_slack_schema():
    schema = json.loads((SCHEMAS / "slack-app-manifest.json").read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(load_manifest()))
    assert errors == []


def test_schema_really_rejects_a_broken_manifest():
    schema = json.loads((SCHEMAS / "slack-app-manifest.json").read_text())
    broken = load_manifest() | {"display_information": {"name": "x" * 36}}
    assert list(jsonschema.Draft4Validator(schema).iter_errors(broken))


def test_every_command_the_code_answers_is_in_the_manifest_and_escaped():
    manifest = load_manifest()
    declared = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(declared) == {"/" + name for name in REGISTRY.commands}
    # should_escape makes Slack send mentions as <@U…>, which is what the parser reads
    assert all(c["should_escape"] for c in declared.values())
    urls = [c["url"] for c in declared.values()]
    urls += [manifest["settings"]["event_subscriptions"]["request_url"]]
    urls += [manifest["settings"]["interactivity"]["request_url"]]
    assert all(u.endswith("/slack/events") for u in urls)


def test_least_scopes():
    scopes = set(load_manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "commands",
        "chat:write",
        "users:read",
        "app_mentions:read",
        "channels:read",
        "groups:read",
        "files:write",  # the evidence export is a file sent to the person
        "im:write",  # which goes to their DM's id, from conversations.open
    }
    # Candor never reads DMs or files.
    assert not scopes & {"im:history", "im:read", "files:read"}
