"""scripts/teams_package.py builds a Teams app package that validates against the public Teams
manifest schema (a copy in tests/schemas), with the icons Teams requires."""

from __future__ import annotations

import importlib.util
import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema

from bot.config import REPO_ROOT
from handlers.registry import REGISTRY

SCHEMAS = Path(__file__).parent / "schemas"
APP_ID = "00000000-0000-0000-0000-00000000c4d0"


def load_script():
    spec = importlib.util.spec_from_file_location("teams_package", REPO_ROOT / "scripts" / "teams_package.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def validator() -> jsonschema.Draft6Validator:
    # The schema says draft-04 but uses `const` (draft-06) for manifestVersion: draft 6 enforces it.
    return jsonschema.Draft6Validator(json.loads((SCHEMAS / "teams-manifest.schema.json").read_text()))


def png_size(data: bytes) -> tuple[int, int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height, _, color_type = struct.unpack(">IIBB", data[16:26])
    return width, height, color_type


def test_the_package_holds_a_valid_manifest_and_its_icons(tmp_path):
    out = tmp_path / "candor-teams.zip"
    result = subprocess.run(
        [
            sys.executable,
            "scripts/teams_package.py",
            "--app-id",
            APP_ID,
            "--website",
            "https://candor.acme.test",
            "--out",
            str(out),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color, outline = package.read("color.png"), package.read("outline.png")
    assert [e.message for e in validator().iter_errors(manifest)] == []
    assert png_size(color)[:2] == (192, 192) and png_size(outline) == (32, 32, 6)  # outline: RGBA
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and set(bot["scopes"]) == {"personal", "team", "groupChat"}
    titles = {c["title"] for c in bot["commandLists"][0]["commands"]}
    assert titles == {"help", *REGISTRY.commands} and not any(t.startswith("/") for t in titles)
    assert manifest["validDomains"] == ["candor.acme.test"]


def test_the_schema_really_rejects_a_broken_manifest():
    script = load_script()
    good = script.manifest(APP_ID, website="https://candor.acme.test", version="1.0.0")
    assert list(validator().iter_errors(good)) == []
    for broken in (
        good | {"manifestVersion": "1.28"},
        good | {"id": "not-a-guid"},
        good | {"name": {"short": "x" * 31}},
        {k: v for k, v in good.items() if k != "icons"},
    ):
        assert list(validator().iter_errors(broken))


def test_the_same_app_id_gives_the_same_package_id_and_a_bad_one_is_refused(tmp_path):
    script = load_script()
    first = script.manifest(APP_ID, website="https://a.test", version="1.0.0")["id"]
    assert script.manifest(APP_ID.upper(), website="https://b.test", version="1.0.1")["id"] == first
    result = subprocess.run(
        [sys.executable, "scripts/teams_package.py", "--app-id", "nope", "--out", str(tmp_path / "x.zip")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "GUID" in result.stderr
