"""A plain (non-editable) install carries the shipped model and data and uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
from conftest import EXAMPLES, MODEL, ROOT, one_line

# Builds a wheel and installs it into fresh virtual environments: the full run's.
pytestmark = pytest.mark.slow


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
    for file in ("card.json", "scorer.bin", "pipeline.joblib", "domain.joblib", "family.joblib"):
        assert f"rolecli/_shipped/models/default/{file}" in names
    for file in ("article.csv", "responsibilities.csv", "offtopic.csv", "boilerplate.csv",
                 "calibration.json", "postings.counts.jsonl.gz", "postings.manifest.json"):
        assert f"rolecli/_shipped/data/{file}" in names
    assert "rolecli/cli/main.py" in names
    # Package data the code reads through importlib.resources.
    assert {"rolecli/render/report.css", "rolecli/serve/static/page.js"} <= names


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


def test_unpacked_wheel_reads_its_stylesheet(wheel, tmp_path):
    """The HTML report's CSS is package data: an installed package finds it in itself."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import rolecli.render.html as html\n"
        f"assert html.__file__.startswith({str(site)!r}), html.__file__\n"
        "print(html.CSS, end='')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "src/rolecli/render/report.css").read_text(encoding="utf-8")


def test_light_install_leaves_scikit_learn_numpy_and_joblib_to_the_train_extra(wheel):
    """`pip install rolecli` brings what classify, explain and batch import; `[train]` the rest."""
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("/METADATA"))
    ).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")]
    base = [r for r in requires if "extra ==" not in r]
    train = [r for r in requires if "extra == 'train'" in r or 'extra == "train"' in r]
    heavy = ("scikit-learn", "numpy", "scipy", "joblib")
    assert not [r for r in base if r.startswith(heavy)], base
    assert all(any(r.startswith(name) for r in train) for name in ("scikit-learn", "numpy",
                                                                    "joblib"))
    assert any(r.startswith("typer") for r in base) and any(r.startswith("rich") for r in base)


BLOCK_TRAINING_LIBRARIES = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"sklearn", "numpy", "scipy", "joblib", "threadpoolctl"}:
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
"""


@pytest.fixture
def light_install(tmp_path):
    """An environment where scikit-learn, NumPy, SciPy and joblib cannot be imported."""
    (tmp_path / "sitecustomize.py").write_text(BLOCK_TRAINING_LIBRARIES)
    env = {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}
    env["PYTHONPATH"] = str(tmp_path)
    return env


def test_light_install_classifies_explains_batches_and_evaluates(rolecli, light_install, tmp_path):
    posting = EXAMPLES / "ml-engineer.txt"
    assert rolecli("classify", posting, "-f", "json", env=light_install).returncode == 0
    assert rolecli("explain", posting, "-f", "json", env=light_install).returncode == 0
    assert rolecli("batch", EXAMPLES, "--format", "jsonl", env=light_install).returncode == 0
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(json.dumps({"text": posting.read_text(), "label": "engineer"}) + "\n"
                        + json.dumps({"text": (EXAMPLES / "data-scientist.txt").read_text(),
                                      "label": "scientist"}) + "\n")
    assert rolecli("evaluate", labelled, "-f", "json", env=light_install).returncode == 0
    assert rolecli("calibrate", labelled, env=light_install).returncode == 0


def test_light_install_train_names_the_extra(rolecli, light_install, tmp_path):
    result = rolecli("train", "--output", tmp_path / "model", env=light_install)
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "rolecli: error: rolecli train needs scikit-learn, joblib and NumPy, which the light "
        "install leaves out: pip install 'rolecli[train]'"
    )
    assert not (tmp_path / "model").exists()
