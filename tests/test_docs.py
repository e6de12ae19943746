"""The docs cannot drift: every example of output in README.md and docs/ is made by
docs/examples.py from a real run, and this test fails when one differs from what the
code prints today (only timings, ports and clock times may differ)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

SCRIPT = ROOT / "docs" / "examples.py"
# Dated records of measurements (benchmark transcripts, the quality runs): not examples.
RECORDS = {"docs/speed.md", "docs/quality.md", "docs/verdicts.md", "docs/bad-input.md"}
GENERATED = re.compile(r"<!-- example: .*? -->\n```[^\n]*\n.*?^```$|<!-- value: .*?<!-- /value -->",
                       re.S | re.M)


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(root / "docs" / "examples.py"), "--check"],
                          capture_output=True, text=True, timeout=600)


def test_every_example_in_the_docs_is_what_the_code_prints_today():
    result = _check(ROOT)
    assert result.returncode == 0, (
        "an example in the docs is out of date; run `python docs/examples.py`\n"
        + result.stdout[-6000:] + result.stderr[-2000:])


def test_no_output_in_the_docs_is_left_outside_a_generated_example():
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        name = path.relative_to(ROOT).as_posix()
        if name in RECORDS:
            continue
        prose = GENERATED.sub("", path.read_text(encoding="utf-8"))
        assert not re.search(r"rolecli-[0-9a-f]{12}", prose), f"{name}: a model id by hand"
        assert not re.search(r"\b\d[\d,]* tests\b", prose), f"{name}: a test count by hand"
        assert "╭" not in prose and '"probabilities": {' not in prose, f"{name}: output by hand"


def _copy(tmp_path: Path) -> Path:
    """The docs, their script and what their examples read, outside the checkout."""
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "docs", root / "docs", ignore=shutil.ignore_patterns("screenshots"))
    shutil.copytree(ROOT / "examples", root / "examples")
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copy(ROOT / "README.md", root / "README.md")
    return root


@pytest.mark.slow  # three runs of the script: the full run's
def test_the_check_fails_on_a_stale_example_and_not_on_a_timing(tmp_path):
    root = _copy(tmp_path)
    usage = root / "docs" / "usage.md"
    text = usage.read_text(encoding="utf-8")
    # A run's timing differs: still today's output.
    timing = re.search(r"(?<=items in )[\d.]+s \(\d+ items/s\)", text)
    assert timing is not None
    usage.write_text(text.replace(timing.group(), "12.5s (1 items/s)"), encoding="utf-8")
    assert _check(root).returncode == 0
    # A verdict differs: stale, and the diff says where.
    panel = text.index("<!-- example: rolecli classify examples/ranking-scientist-engineer.txt -->")
    stale = text[:panel] + text[panel:].replace("verdict mixed", "verdict engineer", 1)
    usage.write_text(stale, encoding="utf-8")
    result = _check(root)
    assert result.returncode == 1
    assert "-│         verdict engineer" in result.stdout and "docs/usage.md" in result.stderr
    # Regenerating mends it, as the lead does after retraining the model.
    mended = subprocess.run([sys.executable, str(root / "docs" / "examples.py")],
                            capture_output=True, text=True, timeout=600)
    assert mended.returncode == 0 and "updated docs/usage.md" in mended.stdout
    assert usage.read_text(encoding="utf-8") == text
