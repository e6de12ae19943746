"""A plain (non-editable) install carries the shipped model and data and uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
from conftest import EXAMPLES, MODEL, ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (path,) = out.glob("rolecli-*.whl")
    return path


def test_wheel_carries_model_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for file in ("card.json", "scorer.json", "pipeline.joblib", "domain.joblib"):
        assert f"rolecli/_shipped/models/default/{file}" in names
    for file in ("article.csv", "responsibilities.csv", "offtopic.csv", "calibration.json"):
        assert f"rolecli/_shipped/data/{file}" in names
    assert "rolecli/cli/main.py" in names


def test_unpacked_wheel_classifies_with_its_own_model(wheel, tmp_path):
    """Outside a checkout, the package finds the model copy inside itself."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import json, sys\n"
        "from rolecli import classify\n"
        "from rolecli.paths import default_model_dir, checkout_root\n"
        "assert checkout_root() is None\n"
        f"text = open({str(EXAMPLES / 'data-scientist.txt')!r}).read()\n"
        "print(json.dumps({'dir': str(default_model_dir()), 'result': classify(text)}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dir"].startswith(str(site))
    card = json.loads((MODEL / "card.json").read_text())
    assert data["result"]["model"]["id"] == card["model_id"]
    assert data["result"]["label"] == "scientist"
