"""The seams between layers, read from the imports themselves: practices know no platform, each
platform's SDK stays in its adapter, and the registry (the list of practices) is imported by no
practice, so no practice and the registry import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function (an import hidden in a
    function is still a dependency)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def importers(package: str, *prefixes: str) -> list[str]:
    """The files of `package` that import a module under any of `prefixes`."""
    return [
        str(path.relative_to(ROOT))
        for path in files(package)
        if any(name == p or name.startswith(p + ".") for name in imports_of(path) for p in prefixes)
    ]


def test_the_scan_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from handlers.registry import REGISTRY\n")
    assert imports_of(module) == {"os", "handlers.registry"}


def test_practices_know_no_platform():
    assert importers("handlers", "slack_bolt", "slack_sdk", "botbuilder", "bot.slack", "bot.teams") == []


@pytest.mark.parametrize(
    ("sdk", "home"), [(("slack_bolt", "slack_sdk"), "bot/slack/"), (("botbuilder",), "bot/teams/")]
)
def test_each_platforms_sdk_stays_in_its_adapter(sdk, home):
    outside = [path for path in importers("bot", *sdk) if not path.startswith(home)]
    assert outside == []
    assert importers("bot", *sdk), "the scan found no importer at all: it reads nothing"


def test_no_practice_imports_the_registry():
    """Practices reach the registry through `services.registry` (or what their caller passes);
    the registry imports every practice, so one importing it back would be a cycle."""
    assert importers("handlers", "handlers.registry") == []
