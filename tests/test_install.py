"""`pip install .` (not editable) gives a working `candor`: the wheel is built and installed into a
fresh virtual environment, and the shell is run from an empty directory, far from the checkout.

To stay fast and offline, the wheel is built without build isolation (setuptools comes with the
dev extras), the new environment has no pip (the dev environment's pip installs into it), and it
finds the dependencies through a .pth file naming the dev environment's site-packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from bot.config import REPO_ROOT


def run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, check=False, **kwargs
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin directory of a fresh environment with Candor's wheel installed."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    junk = shutil.ignore_patterns("__pycache__", "*.db", "*.db-*", "*.lock", "*.egg-info", "build")
    for part in ("bot", "handlers", "data"):
        shutil.copytree(REPO_ROOT / part, source / part, ignore=junk)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    (source / "data" / "candor.db").write_text("a database left in the checkout is never shipped")

    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    run([*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", root / "dist", source])
    [wheel] = (root / "dist").glob("candor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"candor_data/behaviours.yml", "candor_data/checkins.yml", "candor_data/nudges.yml"} <= set(names)
    assert not [n for n in names if n.startswith("data/") or n.endswith(".db")]

    env = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", env])
    python = env / "bin" / "python"
    site = Path(
        run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    (site / "dev-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([*pip, "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel])
    return env / "bin"


def candor(bin_dir: Path, args: list[str], cwd: Path, stdin: str = "", **extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CANDOR_", "SLACK_", "PYTHON"))}
    return run([bin_dir / "candor", *args], cwd=cwd, input=stdin, env=env | extra).stdout


def databases_inside(bin_dir: Path) -> list[Path]:
    return list(bin_dir.parent.rglob("*.db"))


def test_the_installed_shell_runs_from_an_empty_directory_and_keeps_its_database_there(installed, tmp_path):
    out = candor(installed, ["shell"], cwd=tmp_path, stdin="/kudos @bob #mentoring thanks for pairing\n")
    assert "Kudos sent to @bob for Mentored someone" in out
    assert list((tmp_path / "data").glob("*.db"))  # the database is where the shell was started
    assert databases_inside(installed) == []  # and never inside the installed package


def test_the_installed_migrate_creates_data_candor_db_in_the_current_directory(installed, tmp_path):
    assert "up to date" in candor(installed, ["migrate"], cwd=tmp_path)
    assert (tmp_path / "data" / "candor.db").is_file()


def test_candor_data_dir_moves_the_content_but_not_the_database(installed, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(
        REPO_ROOT / "data", content, ignore=shutil.ignore_patterns("*.db*", "*.py", "__pycache__")
    )
    work = tmp_path / "work"
    work.mkdir()
    out = candor(
        installed, ["shell"], cwd=work, stdin="/kudos @bob #feedback clear\n", CANDOR_DATA_DIR=str(content)
    )
    assert "Kudos sent" in out
    assert list((work / "data").glob("*.db"))
    assert not list(content.glob("*.db")) and databases_inside(installed) == []


def test_the_installed_version_answers(installed, tmp_path):
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert candor(installed, ["--version"], cwd=tmp_path).strip() == f"candor {version}"


def test_every_package_of_the_checkout_is_listed_for_the_wheel():
    """pyproject.toml names Candor's packages one by one (data/ ships as `candor_data`, which
    setuptools' discovery cannot rename), so a new practice's folder needs its line there."""
    listed = set(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO_ROOT).parts)
        for part in ("bot", "handlers")
        for init in (REPO_ROOT / part).rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == {"candor_data"}
