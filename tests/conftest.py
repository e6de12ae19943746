"""Shared fixtures: the real CLI (in-process and as an installed subprocess) and real data."""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rolecli.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
MODEL = ROOT / "models" / "default"
DEV_POSTINGS = ROOT.parent / "shared" / "data" / "postings_dev.csv"
OFFTOPIC_DIR = Path(__file__).parent / "data" / "offtopic"

# Scorer checks are recorded under $XDG_CACHE_HOME (rolecli/check_cache.py): the tests, and
# every rolecli they start, keep that record in a folder of their own.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="rolecli-test-cache-")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow", action="store_true",
        help="also run the tests marked slow (the full suite, as CI runs it)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The default run leaves out the slow tests; --run-slow, or any -m, chooses itself."""
    if config.getoption("--run-slow") or config.getoption("-m"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner):
    """Run the Typer app in-process; returns the click Result."""

    def _invoke(*args: str, input: str | bytes | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return _invoke


def one_line(stderr: str | bytes) -> str:
    """The only stderr line of a run; fails on a traceback or on any other line."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def check_classification(text: str) -> None:
    """What classify promises about any text: a bounded, consistent, repeatable answer."""
    from rolecli import classify
    from rolecli.errors import InputError

    try:
        first = classify(text)
    except InputError:
        assert not text.strip()
        return
    p = first["probabilities"]
    assert 0.0 <= p["scientist"] <= 1.0 and 0.0 <= p["engineer"] <= 1.0
    assert math.isclose(p["engineer"] + p["scientist"], 1.0, abs_tol=1e-12)
    assert first["label"] in {"engineer", "scientist", "mixed", None}
    assert (first["label"] is None) == first["off_topic"]
    assert classify(text) == first


def check_explanation(text: str) -> None:
    """What explain promises about any text: terms and lines sum to the logit, P is its
    sigmoid, spans point at the terms, and the same text gives the same explanation."""
    from rolecli import explain, load_scorer
    from rolecli.errors import InputError

    try:
        result = explain(text)
    except InputError:
        assert not text.strip()
        return
    total = result["intercept"] + math.fsum(t["contribution"] for t in result["terms"])
    assert abs(total - result["logit"]) <= 1e-9
    line_total = result["intercept"] + math.fsum(
        [s["contribution"] for s in result["sentences"]]
        + [result["unlisted_lines"]["contribution"]]
    )
    assert abs(line_total - result["logit"]) <= 1e-9
    p = 1.0 / (1.0 + math.exp(-result["logit"])) if result["logit"] > -700 else 0.0
    assert abs(p - result["probabilities"]["scientist"]) <= 1e-12
    analyzer = load_scorer().analyzer
    for term in result["terms"]:
        for start, end in term["spans"]:
            assert 0 <= start < end <= len(text)
            assert " ".join(analyzer.tokens(text[start:end])) == term["term"]
    assert explain(text) == result


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


def shared_rows(name: str = DEV_POSTINGS.name) -> list[dict[str, str]]:
    """The rows of a CSV of real postings in ../shared/data; skips the test without it.

    Postings are longer than csv's default field limit, which is lifted for this read only
    (the tests check that rolecli leaves the limit alone; a lifted one would hide that).
    """
    path = DEV_POSTINGS.parent / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (it lives outside the repository, in ../shared/data)")
    previous = csv.field_size_limit(sys.maxsize)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    finally:
        csv.field_size_limit(previous)


@pytest.fixture(scope="session")
def dev_postings() -> list[dict[str, str]]:
    return shared_rows()


def labelled_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    """A labelled CSV (text, label) written for a test."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path
