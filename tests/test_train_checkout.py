"""`rolecli train --force` rebuilds the checkout's models/default after the README's
`pip install .` (a copy of the package, outside the checkout) as after `pip install -e .`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODEL, ROOT, one_line


def _installed_copy(site: Path) -> Path:
    """The package as `pip install .` leaves it: a copy, outside any checkout."""
    shutil.copytree(ROOT / "src" / "rolecli", site / "rolecli",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _checkout(root: Path) -> Path:
    """A rolecli checkout: pyproject.toml, data/ and models/default."""
    root.mkdir()
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(MODEL, root / "models" / "default")
    return root


def _train(site: Path, cwd: Path, *args: str, timeout: float = 120):
    env = {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, "-m", "rolecli", "train", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_an_installed_copy_finds_the_checkout_it_runs_in(tmp_path):
    site = _installed_copy(tmp_path / "site")
    checkout = _checkout(tmp_path / "checkout")
    (checkout / "docs").mkdir()
    # Without --force the model already there is kept: the target was found, nothing trained.
    for cwd in (checkout, checkout / "docs"):
        result = _train(site, cwd)
        assert result.returncode == 2, result.stderr
        assert one_line(result.stderr) == (
            f"rolecli: error: --output {checkout / 'models' / 'default'} already holds a model; "
            "pass --force to replace it")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = _train(site, outside)
    assert result.returncode == 2
    assert "not in a rolecli checkout: pass --output DIR" in one_line(result.stderr)


def test_another_projects_folder_is_not_a_checkout(tmp_path):
    site = _installed_copy(tmp_path / "site")
    other = _checkout(tmp_path / "other")
    (other / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    result = _train(site, other)
    assert result.returncode == 2
    assert "not in a rolecli checkout" in one_line(result.stderr)


@pytest.mark.slow
def test_train_force_after_a_plain_install_rebuilds_the_checkouts_model(tmp_path):
    site = _installed_copy(tmp_path / "site")
    checkout = _checkout(tmp_path / "checkout")
    target = checkout / "models" / "default"
    (target / "scorer.bin").write_bytes(b"stale")  # to be replaced
    result = _train(site, checkout, "--force", timeout=1800)
    assert result.returncode == 0, result.stderr
    for name in sorted(p.name for p in MODEL.iterdir()):
        assert (target / name).read_bytes() == (MODEL / name).read_bytes(), name
    assert "saved model " in result.stderr and str(target) in result.stderr
    assert "run `pip install .`" in result.stderr and "again to use the new model" in result.stderr
