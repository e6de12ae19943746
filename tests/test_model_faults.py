"""Model faults: a missing, truncated, tampered or incompatible model directory, and a joblib
file that is not a pipeline. Every command that loads a model exits 4 with one line giving
the reason and the way out (`rolecli train`, or --model); nothing is written first.

(tests/test_scorer_equivalence.py and tests/test_classify_cli.py cover `classify` with a
missing directory, a tampered, truncated or deleted scorer, a bad card version and an
unsupported scorer format; this file covers the other commands and the other faults.)
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EXAMPLES, MODEL, one_line

HINT = "(rebuild it with `rolecli train`, or pass --model DIR)"
POSTING = EXAMPLES / "ml-engineer.txt"


def copy_model(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    return model


def rewrite(model: Path, name: str, data: bytes) -> None:
    """Replace a model file and record its new hash: damage the card cannot detect."""
    (model / name).write_bytes(data)
    card = json.loads((model / "card.json").read_text())
    card["files"][name] = hashlib.sha256(data).hexdigest()
    (model / "card.json").write_text(json.dumps(card))


def edit_card(model: Path, change: Callable[[dict], object]) -> None:
    card = json.loads((model / "card.json").read_text())
    result = change(card)
    (model / "card.json").write_text(json.dumps(card if result is None else result))


def edit_scorer(model: Path, change: Callable[[dict], None]) -> None:
    spec = json.loads((model / "scorer.json").read_text())
    change(spec)
    rewrite(model, "scorer.json", json.dumps(spec).encode())


def _nan_coefficient(spec: dict) -> None:
    spec["role"]["coef"][0] = float("nan")


def _duplicate_term(spec: dict) -> None:
    spec["vocabulary"][1] = spec["vocabulary"][0]


def _trigram_term(spec: dict) -> None:
    spec["vocabulary"][5] = "a b c"


def _short_coefficients(spec: dict) -> None:
    spec["role"]["coef"].pop()


# damage -> (how to do it, the reason the error line gives, after "<model dir>/")
DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing-directory": (lambda m: shutil.rmtree(m), "model directory not found: {model}"),
    "directory-is-a-file": (
        lambda m: (shutil.rmtree(m), m.write_text("not a folder")),
        "model directory not found: {model}",
    ),
    "tampered-scorer": (
        lambda m: (m / "scorer.json").write_bytes(
            (m / "scorer.json").read_bytes().replace(b'"intercept":', b'"intercept":1e3+', 1)
        ),
        "{model}/scorer.json: sha256 does not match the model card (corrupted or tampered)",
    ),
    "card-from-a-future-version": (
        lambda m: edit_card(m, lambda c: c.update(card_format_version=2)),
        "{model}/card.json: incompatible model card version 2",
    ),
    "card-not-an-object": (
        lambda m: edit_card(m, lambda c: [c]),
        "{model}/card.json: incompatible model card version None",
    ),
    "card-without-thresholds": (
        lambda m: edit_card(m, lambda c: c.pop("thresholds") and None),
        "{model}/card.json: model card lacks 'thresholds'",
    ),
    "card-without-scorer-hash": (
        lambda m: edit_card(m, lambda c: c["files"].pop("scorer.json") and None),
        "{model}/card.json: no hash recorded for scorer.json",
    ),
    "card-is-a-directory": (
        lambda m: ((m / "card.json").unlink(), (m / "card.json").mkdir()),
        "{model}/card.json: unreadable model card (IsADirectoryError)",
    ),
    "scorer-not-json-but-hashed": (
        lambda m: rewrite(m, "scorer.json", b'{"format": "rolecli-scorer", '),
        "{model}/scorer.json: malformed scorer (JSONDecodeError",
    ),
    "scorer-nan-weight-but-hashed": (
        lambda m: edit_scorer(m, _nan_coefficient),
        "{model}/scorer.json: malformed scorer (ValueError: non-finite weight)",
    ),
    "scorer-duplicate-term-but-hashed": (
        lambda m: edit_scorer(m, _duplicate_term),
        "{model}/scorer.json: malformed scorer (ValueError: a term appears twice",
    ),
    "scorer-trigram-but-hashed": (
        lambda m: edit_scorer(m, _trigram_term),
        "{model}/scorer.json: malformed scorer (ValueError: term 'a b c' is not a 1- to 2-gram)",
    ),
    "scorer-lengths-differ-but-hashed": (
        lambda m: edit_scorer(m, _short_coefficients),
        "{model}/scorer.json: malformed scorer (ValueError: vocabulary, idf and coef",
    ),
}


def damaged(tmp_path: Path, damage: str) -> tuple[Path, str]:
    """A damaged copy of the shipped model, and the error line rolecli must print for it."""
    model = copy_model(tmp_path)
    make, reason = DAMAGE[damage]
    make(model)
    return model, "rolecli: error: " + reason.format(model=model)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    """A small labelled CSV, for evaluate and calibrate."""
    path = tmp_path_factory.mktemp("labelled") / "labelled.csv"
    rows = ["id,label,text"]
    for name, label in (("ml-engineer.txt", "engineer"), ("data-scientist.txt", "scientist")):
        text = (EXAMPLES / name).read_text(encoding="utf-8").replace('"', '""')
        rows.append(f'{name},{label},"{text}"')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_every_model_fault_is_exit_4_with_reason_and_hint(invoke, tmp_path, damage):
    model, expected = damaged(tmp_path, damage)
    result = invoke("explain", POSTING, "--model", model, "-f", "json")
    assert result.exit_code == 4, result.output
    line = one_line(result.stderr)
    assert line.startswith(expected), line
    assert line.endswith(HINT), line
    assert result.stdout == ""


COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "classify": lambda model, data: ["classify", str(POSTING), "--model", str(model)],
    "explain-html": lambda model, data: ["explain", str(POSTING), "--model", str(model),
                                         "--html", str(data.parent / "report.html")],
    "batch": lambda model, data: ["batch", str(EXAMPLES), "--model", str(model)],
    "evaluate": lambda model, data: ["evaluate", str(data), "--model", str(model)],
    "calibrate": lambda model, data: ["calibrate", str(data), "--model", str(model)],
    "model-info": lambda model, data: ["model", "info", "--model", str(model)],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("damage", ["missing-directory", "tampered-scorer",
                                    "card-from-a-future-version"])
def test_every_command_that_loads_a_model_exits_4(rolecli, tmp_path, labelled, command, damage):
    model, expected = damaged(tmp_path, damage)
    result = rolecli(*COMMANDS[command](model, labelled))
    assert result.returncode == 4, result.stderr
    assert one_line(result.stderr) == f"{expected} {HINT}"
    assert result.stdout == b""
    assert not (labelled.parent / "report.html").exists()  # nothing written before the check


def test_model_env_var_pointing_at_a_broken_model(rolecli, tmp_path):
    model, expected = damaged(tmp_path, "tampered-scorer")
    result = rolecli("batch", EXAMPLES, env={"ROLECLI_MODEL": str(model)})
    assert result.returncode == 4
    assert one_line(result.stderr) == f"{expected} {HINT}"
    # --version still answers, and says the model is unusable rather than failing.
    version = rolecli("--version", env={"ROLECLI_MODEL": str(model)})
    assert version.returncode == 0
    assert version.stdout.decode().strip().endswith("(model no usable model)")


def test_batch_with_a_broken_model_leaves_an_existing_output_alone(rolecli, tmp_path):
    """--force never destroys earlier results when the model cannot even be loaded."""
    model, _ = damaged(tmp_path, "tampered-scorer")
    output = tmp_path / "rows.jsonl"
    output.write_bytes(b'{"id": "earlier", "status": "ok"}\n')
    result = rolecli("batch", EXAMPLES, "--output", output, "--force", "--model", model)
    assert result.returncode == 4
    assert output.read_bytes() == b'{"id": "earlier", "status": "ok"}\n'


# -- load_pipeline: the scikit-learn pipeline behind the compiled scorer -------------------


def _joblib_bytes(obj: object) -> bytes:
    import io

    import joblib

    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


PIPELINE_DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing-directory": (lambda m: shutil.rmtree(m), "model directory not found"),
    "missing-file": (lambda m: (m / "pipeline.joblib").unlink(), "missing model file"),
    "truncated": (
        lambda m: (m / "pipeline.joblib").write_bytes((m / "pipeline.joblib").read_bytes()[:999]),
        "sha256 does not match the model card",
    ),
    "card-from-a-future-version": (
        lambda m: edit_card(m, lambda c: c.update(card_format_version=2)),
        "incompatible model card version 2",
    ),
    "not-a-pipeline-but-hashed": (
        lambda m: rewrite(m, "pipeline.joblib", _joblib_bytes({"weights": [1.0, 2.0]})),
        "pipeline.joblib: not a scikit-learn pipeline",
    ),
    "not-joblib-but-hashed": (
        lambda m: rewrite(m, "pipeline.joblib", b"this is not a pickle at all"),
        "pipeline.joblib: cannot load (",
    ),
    "no-hash-in-card": (
        lambda m: edit_card(m, lambda c: c["files"].pop("pipeline.joblib") and None),
        "no hash recorded for pipeline.joblib",
    ),
}


@pytest.mark.parametrize("damage", sorted(PIPELINE_DAMAGE))
def test_load_pipeline_refuses_every_fault_with_a_model_error(tmp_path, damage):
    from rolecli.errors import ExitCode, ModelError
    from rolecli.model import load_pipeline

    model = copy_model(tmp_path)
    make, reason = PIPELINE_DAMAGE[damage]
    make(model)
    with pytest.raises(ModelError) as raised:
        load_pipeline(model)
    assert reason in raised.value.message
    assert raised.value.message.endswith(HINT)
    assert raised.value.exit_code == ExitCode.MODEL == 4


def test_load_pipeline_of_an_intact_copy_still_works(tmp_path):
    """The faults above are the faults: an untouched copy loads and predicts."""
    from rolecli.model import load_pipeline

    pipeline = load_pipeline(copy_model(tmp_path))
    p = pipeline.predict_proba([POSTING.read_text(encoding="utf-8")])[0]
    assert p[0] > 0.5  # P(engineer) for the engineer example
