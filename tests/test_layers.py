"""The seams between layers, read from the imports themselves: practices know no platform, each
platform's SDK stays in its adapter, and the registry (the list of practices) is imported by no
practice, so no practice and the registry import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> set[str]:
    return imports_in(path.read_text(encoding="utf-8"), path)


def imports_in(source: str, path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function (an import hidden in a
    function is still a dependency). `from a import b` counts as `a` and as `a.b` (b may be a
    module), and a relative import is resolved against the file's own package."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []  # "." is the package
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
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


@pytest.mark.parametrize(
    "line",
    [
        "from handlers.registry import REGISTRY",
        "from handlers import registry",
        "from .. import registry",
        "from ..registry import REGISTRY",
        "import handlers.registry",
    ],
)
def test_the_scan_sees_every_spelling_of_an_import_even_inside_a_function(line):
    module = ROOT / "handlers" / "checkins" / "report.py"  # read as if this file said it
    tree = f"import os\n\ndef f():\n    {line}\n"
    assert "handlers.registry" in imports_in(tree, module)
    assert "os" in imports_in(tree, module)


def test_practices_know_no_platform():
    sdks = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "msrest", "msal")
    assert importers("handlers", *sdks, "bot.slack", "bot.teams") == []


@pytest.mark.parametrize(
    ("sdk", "home"),
    [
        (("slack_bolt", "slack_sdk"), "bot/slack/"),
        (("botbuilder", "botframework", "msrest", "msal"), "bot/teams/"),  # the Bot Framework's parts
    ],
)
def test_each_platforms_sdk_stays_in_its_adapter(sdk, home):
    outside = [path for path in importers("bot", *sdk) if not path.startswith(home)]
    assert outside == []
    assert importers("bot", *sdk), "the scan found no importer at all: it reads nothing"


def test_no_practice_imports_the_registry():
    """Practices reach the registry through `services.registry` (or what their caller passes);
    the registry imports every practice, so one importing it back would be a cycle."""
    assert importers("handlers", "handlers.registry") == []
