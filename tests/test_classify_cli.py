"""`rolecli classify` through the real CLI: labels, schema, inputs and exit codes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, MODEL, one_line

EXPECTED = {
    "ml-engineer.txt": "engineer",
    "llm-platform-engineer.txt": "engineer",
    "data-scientist.txt": "scientist",
    "research-scientist.txt": "scientist",
    "ranking-scientist-engineer.txt": "mixed",
    # Half research, half production by its own account, but its lines read mostly as
    # engineering to the model (docs/verdicts.md, "Limits"): the title check says so.
    "mixed-research-engineer.txt": "engineer",
}


def _json(result) -> dict:
    return json.loads(result.stdout)


@pytest.mark.parametrize(("name", "label"), sorted(EXPECTED.items()))
def test_examples_get_their_labels(rolecli, name, label):
    result = rolecli("classify", EXAMPLES / name, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["label"] == label
    assert data["off_topic"] is False


def test_json_schema(invoke):
    result = invoke("classify", EXAMPLES / "ml-engineer.txt", "--format", "json")
    assert result.exit_code == 0
    data = _json(result)
    assert set(data) == {
        "label", "probabilities", "confidence", "confidence_text", "off_topic",
        "off_topic_family", "short_text", "reasons", "title", "title_check", "top_terms",
        "what_if", "model",
    }
    assert 1 <= len(data["reasons"]) <= 3 and all(isinstance(r, str) for r in data["reasons"])
    assert set(data["title"]) == {"text", "label", "agrees", "grade"}
    assert set(data["what_if"]) == {"sentence", "lines", "label", "changed", "probabilities"}
    assert set(data["probabilities"]) == {"engineer", "scientist"}
    assert data["probabilities"]["engineer"] + data["probabilities"]["scientist"] == pytest.approx(
        1
    )
    assert 0.0 <= data["confidence"] <= 1.0
    assert set(data["top_terms"]) == {"engineer", "scientist"}
    assert all(isinstance(t, str) for t in data["top_terms"]["engineer"])
    card = json.loads((MODEL / "card.json").read_text())
    assert data["model"] == {"id": card["model_id"], "sha256": card["files"]["scorer.bin"]}


def test_file_pipe_and_dash_give_identical_json(rolecli):
    path = EXAMPLES / "data-scientist.txt"
    by_file = rolecli("classify", path, "-f", "json")
    by_pipe = rolecli("classify", "-f", "json", input=path.read_bytes())
    by_dash = rolecli("classify", "-", "-f", "json", input=path.read_bytes())
    assert by_file.returncode == by_pipe.returncode == by_dash.returncode == 0
    assert by_file.stdout == by_pipe.stdout == by_dash.stdout
    assert by_file.stderr == b""


def test_text_view_shows_verdict_bars_and_terms(invoke):
    result = invoke("classify", EXAMPLES / "ml-engineer.txt")
    assert result.exit_code == 0
    assert "ML engineer" in result.stdout
    assert "P(engineer)" in result.stdout and "P(scientist)" in result.stdout
    assert "█" in result.stdout
    assert "engineer terms" in result.stdout


def test_python_api_matches_cli(invoke):
    from rolecli import classify

    text = (EXAMPLES / "research-scientist.txt").read_text()
    cli = _json(invoke("classify", EXAMPLES / "research-scientist.txt", "-f", "json"))
    assert classify(text) == cli


def test_version_names_model(rolecli):
    result = rolecli("--version")
    card = json.loads((MODEL / "card.json").read_text())
    assert result.returncode == 0
    assert card["model_id"] in result.stdout.decode()
    assert "0.1.0" in result.stdout.decode()


def test_python_dash_m_works(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rolecli",
            "classify",
            str(EXAMPLES / "ml-engineer.txt"),
            "-f",
            "json",
        ],
        capture_output=True,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["label"] == "engineer"


# --- exit codes -------------------------------------------------------------------


def test_missing_file_is_usage_error(rolecli, tmp_path):
    result = rolecli("classify", tmp_path / "nope.txt")
    assert result.returncode == 2
    assert "no such file" in one_line(result.stderr)


def test_directory_is_usage_error(rolecli, tmp_path):
    result = rolecli("classify", tmp_path)
    assert result.returncode == 2
    assert "directory" in one_line(result.stderr)


def test_bad_option_is_usage_error(rolecli):
    result = rolecli("classify", "--frobnicate")
    assert result.returncode == 2
    assert "frobnicate" in one_line(result.stderr)


def test_bad_format_is_usage_error(rolecli):
    result = rolecli("classify", EXAMPLES / "ml-engineer.txt", "--format", "yaml")
    assert result.returncode == 2
    one_line(result.stderr)


@pytest.mark.parametrize("content", [b"", b"   \n\t  \n"])
def test_empty_input_is_unusable(rolecli, tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    result = rolecli("classify", path)
    assert result.returncode == 3
    assert "empty" in one_line(result.stderr)
    assert rolecli("classify", input=content).returncode == 3


def test_binary_input_is_unusable(rolecli, tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    result = rolecli("classify", path)
    assert result.returncode == 3
    assert "binary" in one_line(result.stderr)


def test_off_topic_text_exits_3_but_still_prints_json(rolecli):
    result = rolecli("classify", EXAMPLES / "not-a-job.txt", "-f", "json")
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["off_topic"] is True and data["label"] is None
    assert "off-topic" in one_line(result.stderr)


def test_missing_model_is_a_usage_error(rolecli, tmp_path):
    result = rolecli("classify", EXAMPLES / "ml-engineer.txt", "--model", tmp_path / "none")
    assert result.returncode == 2
    assert "no such directory" in one_line(result.stderr)
    assert "rolecli train" in one_line(result.stderr)


def test_tampered_scorer_exits_4(rolecli, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    scorer = model / "scorer.bin"
    raw = bytearray(scorer.read_bytes())
    raw[-100] ^= 0x01  # one flipped bit inside the terms
    scorer.write_bytes(bytes(raw))
    result = rolecli("classify", EXAMPLES / "ml-engineer.txt", "--model", model)
    assert result.returncode == 4
    assert "sha256" in one_line(result.stderr)


def test_model_env_var_is_honoured(rolecli, tmp_path):
    result = rolecli("classify", EXAMPLES / "ml-engineer.txt", env={"ROLECLI_MODEL": str(tmp_path)})
    assert result.returncode == 4


def test_interactive_terminal_gets_usage_hint_not_a_hang(tmp_path):
    """With no FILE on a terminal, classify prints a hint and exits 2 at once."""
    import pty
    import subprocess

    from conftest import rolecli_executable

    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [rolecli_executable(), "classify"],
            stdin=follower,
            capture_output=True,
            timeout=30,
            env={k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"},
        )
    finally:
        os.close(leader)
        os.close(follower)
    assert result.returncode == 2
    assert "pipe a posting" in one_line(result.stderr)


def test_unreadable_file_exits_3(rolecli, tmp_path):
    # /proc/self/mem exists but reading it fails with EIO, even for root.
    result = rolecli("classify", "/proc/self/mem")
    assert result.returncode == 3
    assert "cannot read" in one_line(result.stderr)
    if os.geteuid() != 0:
        path = tmp_path / "secret.txt"
        path.write_text("machine learning")
        path.chmod(0)
        result = rolecli("classify", path)
        assert result.returncode == 3
        assert "permission" in one_line(result.stderr)


def test_shipped_model_path_is_used_by_default(invoke):
    result = invoke("classify", EXAMPLES / "ml-engineer.txt", "-f", "json")
    assert Path(MODEL).is_dir()
    assert result.exit_code == 0
