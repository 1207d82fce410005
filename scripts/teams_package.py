"""Build Candor's Teams app package: manifest.json and its two icons, in a zip to side-load.

    python scripts/teams_package.py --app-id <MICROSOFT_APP_ID> --website https://candor.example.org

The manifest (schema 1.29) declares one bot, the Azure Bot registration whose app id Candor
runs with, in personal, team and group-chat scope, and lists the commands the practices answer
(from the registry, so a new practice shows up by itself). The icons are drawn here, so the
package needs nothing but this repository. The package id is derived from the app id: building
again gives the same id, so Teams treats the new zip as an update of the same app.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handlers.registry import REGISTRY

SCHEMA_URL = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.29/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.29"
ACCENT = (0x2E, 0x6B, 0x5E)  # Candor's green
PACKAGE_NAMESPACE = uuid.UUID("6f1c1f52-3d1e-4b7a-9a44-1c0c2b5f7a10")

SPEAKUP_IN_CHANNELS = "admins: speakup enable, speakup disable or speakup stats in a channel"


# --- icons ---------------------------------------------------------------------------------
def png(width: int, height: int, pixel: Any) -> bytes:
    """A PNG (8-bit RGBA) from `pixel(x, y) -> (r, g, b, a)`."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _ring(x: int, y: int, size: int) -> bool:
    """An open ring (a C), the mark on both icons."""
    c = (size - 1) / 2
    dx, dy = x - c, y - c
    r = (dx * dx + dy * dy) ** 0.5
    return size * 0.22 <= r <= size * 0.36 and not (dx > 0 and abs(dy) < size * 0.14)


def color_icon() -> bytes:
    """192x192, full colour: a white ring on Candor's green."""
    return png(192, 192, lambda x, y: (255, 255, 255, 255) if _ring(x, y, 192) else (*ACCENT, 255))


def outline_icon() -> bytes:
    """32x32, white on transparent, as Teams requires for the outline icon."""
    return png(32, 32, lambda x, y: (255, 255, 255, 255) if _ring(x, y, 32) else (0, 0, 0, 0))


# --- the manifest --------------------------------------------------------------------------
def commands(scope: str) -> list[dict[str, str]]:
    """What Teams suggests when people type to Candor: the registry's commands, without a slash."""
    listed = [{"title": "help", "description": "What Candor can do"}]
    for line in REGISTRY.help:
        description = line.does[:1].upper() + line.does[1:]
        if line.command == "speakup" and scope != "personal":
            description = SPEAKUP_IN_CHANNELS
        title = line.command
        if title not in {c["title"] for c in listed}:
            listed.append({"title": title, "description": description})
    return listed[:12]


def manifest(app_id: str, *, website: str, version: str, name: str = "Candor") -> dict[str, Any]:
    host = urlparse(website).hostname or "candor.example.com"
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": str(uuid.uuid5(PACKAGE_NAMESPACE, app_id.lower())),
        "developer": {
            "name": name[:32],
            "websiteUrl": website,
            "privacyUrl": website.rstrip("/") + "/privacy",
            "termsOfUseUrl": website.rstrip("/") + "/terms",
        },
        "name": {"short": name[:30], "full": f"{name}: psychological safety and accountability"[:100]},
        "description": {
            "short": "Kudos, check-ins, coaching nudges and anonymous speak-up for your team.",
            "full": (
                "Candor helps a team be psychologically safe and accountable at once: recognition tied "
                "to observable behaviours (kudos), scheduled check-ins answered in a thread, coaching "
                "nudges and 1:1 reminders for managers, and anonymous speak-up, which works only in your "
                "own chat with Candor. Type help in a chat with Candor, or @mention it in a channel."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team", "groupChat"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": commands("personal")},
                    {"scopes": ["team", "groupChat"], "commands": commands("team")},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
    }


def build(out: Path, app_id: str, *, website: str, version: str) -> Path:
    """Write the package to `out` (a .zip): manifest.json, color.png, outline.png at its root."""
    uuid.UUID(app_id)  # a bot's app id is a GUID: fail here, not in Teams' upload dialog
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "manifest.json", json.dumps(manifest(app_id, website=website, version=version), indent=2)
        )
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--app-id", default=os.environ.get("MICROSOFT_APP_ID", ""), help="the bot's app id (MICROSOFT_APP_ID)"
    )
    parser.add_argument(
        "--website", default="https://candor.example.com", help="your Candor's public address"
    )
    parser.add_argument("--version", default="0.1.0", help="the package version; raise it for each update")
    parser.add_argument("--out", type=Path, default=Path("dist") / "candor-teams.zip")
    args = parser.parse_args()
    try:
        path = build(args.out, args.app_id, website=args.website, version=args.version)
    except ValueError:
        print(
            "teams_package: --app-id (or MICROSOFT_APP_ID) must be the bot's app id, a GUID", file=sys.stderr
        )
        return 2
    print(f"wrote {path}: upload it in Teams (Apps, Manage your apps, Upload an app)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
