"""Shared fixtures: the real CLI (in-process and as an installed subprocess) and real data."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rolecli.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
MODEL = ROOT / "models" / "default"
DEV_POSTINGS = ROOT.parent / "shared" / "data" / "postings_dev.csv"
OFFTOPIC_DIR = Path(__file__).parent / "data" / "offtopic"

csv.field_size_limit(sys.maxsize)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner):
    """Run the Typer app in-process; returns the click Result."""

    def _invoke(*args: str, input: str | bytes | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return _invoke


def rolecli_executable() -> str:
    found = shutil.which("rolecli", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("the installed `rolecli` console script was not found next to the interpreter")
    return found


@pytest.fixture
def rolecli():
    """Run the installed `rolecli` console script as a subprocess."""

    def _run(
        *args: str,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        **kwargs,
    ):
        full_env = {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}
        full_env.update(env or {})
        return subprocess.run(
            [rolecli_executable(), *[str(a) for a in args]],
            input=input if input is not None else b"",
            capture_output=True,
            env=full_env,
            timeout=timeout,
            **kwargs,
        )

    return _run


def dev_rows() -> list[dict[str, str]]:
    if not DEV_POSTINGS.is_file():
        pytest.skip(
            f"{DEV_POSTINGS} is absent (it lives outside the repository, in ../shared/data)"
        )
    with DEV_POSTINGS.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def dev_postings() -> list[dict[str, str]]:
    return dev_rows()
