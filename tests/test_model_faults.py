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
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EXAMPLES, MODEL, one_line

from rolecli.model.scorer_file import SCORER_FILE, ScorerData, decode, encode, join_file, split_file

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


def edit_scorer(model: Path, change: Callable[[ScorerData], ScorerData]) -> None:
    """Change the scorer's data, write it with rolecli's own writer, and re-hash it."""
    data = decode((model / SCORER_FILE).read_bytes())
    rewrite(model, SCORER_FILE, encode(change(data)))


def edit_header(model: Path, change: Callable[[dict], object]) -> None:
    """Change the scorer's JSON header (the arrays stay), and re-hash it."""
    header, body = split_file((model / SCORER_FILE).read_bytes())
    result = change(header)
    rewrite(model, SCORER_FILE, join_file(header if result is None else result, bytes(body)))


def replace_by(model: Path, name: str, make: Callable[[Path], None]) -> None:
    (model / name).unlink()
    make(model / name)


def _set(data: ScorerData, **changes: object) -> ScorerData:
    return data._replace(**changes)


def _nan_coefficient(data: ScorerData) -> ScorerData:
    return _set(data, role_coef=[float("nan"), *data.role_coef[1:]])


def _inf_idf(data: ScorerData) -> ScorerData:
    return _set(data, idf=[*data.idf[:-1], float("inf")])


def _duplicate_term(data: ScorerData) -> ScorerData:
    return _set(data, terms=[data.terms[0], data.terms[0], *data.terms[2:]])


def _trigram_term(data: ScorerData) -> ScorerData:
    return _set(data, terms=[*data.terms[:-1], "a b c"])  # n-grams come last


def _thresholds(change: Callable[[dict], object]) -> Callable[[Path], None]:
    return lambda m: edit_card(m, lambda c: change(c["thresholds"]) and None)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


SCORER = "{model}/" + SCORER_FILE
CARD = "{model}/card.json"

# damage -> (how to do it, the reason the error line gives, after "<model dir>/")
DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing-directory": (lambda m: shutil.rmtree(m), "model directory not found: {model}"),
    "directory-is-a-file": (
        lambda m: (shutil.rmtree(m), m.write_text("not a folder")),
        "model directory not found: {model}",
    ),
    "tampered-scorer": (
        lambda m: (m / SCORER_FILE).write_bytes((m / SCORER_FILE).read_bytes()[:-1] + b"x"),
        SCORER + ": sha256 does not match the model card (corrupted or tampered)",
    ),
    "card-from-a-future-version": (
        lambda m: edit_card(m, lambda c: c.update(card_format_version=3)),
        CARD + ": incompatible model card version 3",
    ),
    "card-not-an-object": (
        lambda m: edit_card(m, lambda c: [c]),
        CARD + ": incompatible model card version None",
    ),
    "card-without-thresholds": (
        lambda m: edit_card(m, lambda c: c.pop("thresholds") and None),
        CARD + ": invalid model card: lacks thresholds",
    ),
    "card-without-scorer-hash": (
        lambda m: edit_card(m, lambda c: c["files"].pop(SCORER_FILE) and None),
        CARD + ": no hash recorded for " + SCORER_FILE,
    ),
    "card-from-rolecli-0.1-json-scorer": (
        lambda m: edit_card(m, lambda c: c["files"].update(
            {"scorer.json": c["files"].pop(SCORER_FILE)}) and None),
        "{model}: a model from an older rolecli (scorer.json instead of scorer.bin)",
    ),
    "card-is-a-directory": (
        lambda m: replace_by(m, "card.json", Path.mkdir),
        CARD + ": not a regular file",
    ),
    "card-is-a-fifo": (
        lambda m: replace_by(m, "card.json", os.mkfifo), CARD + ": not a regular file",
    ),
    "card-is-a-symlink-to-dev-zero": (
        lambda m: replace_by(m, "card.json", lambda p: p.symlink_to("/dev/zero")),
        CARD + ": not a regular file",
    ),
    "card-over-the-size-limit": (
        lambda m: (m / "card.json").write_bytes(b" " * (2 << 20)),
        CARD + ": 2,097,152 bytes, over the 1,048,576-byte limit",
    ),
    "card-not-json": (
        lambda m: (m / "card.json").write_text("{not json"),
        CARD + ": unreadable model card (Expecting property name",
    ),
    "card-nested-100000-deep": (
        lambda m: (m / "card.json").write_text(_deep(100_000)),
        CARD + ": unreadable model card (JSON nested too deeply)",
    ),
    "card-nested-40-deep-in-metrics": (
        lambda m: edit_card(m, lambda c: c.update(metrics=json.loads(_deep(40)))),
        CARD + ": unreadable model card (JSON nested more than 32 levels deep)",
    ),
    "card-5000-digit-integer": (
        lambda m: (m / "card.json").write_text('{"card_format_version": ' + "9" * 5000 + "}"),
        CARD + ": unreadable model card (Exceeds the limit (4300 digits)",
    ),
    "card-nan-threshold": (
        lambda m: (m / "card.json").write_text(
            re.sub(r'"min_p_on_topic": [0-9.]+', '"min_p_on_topic": NaN',
                   (m / "card.json").read_text())
        ),
        CARD + ": unreadable model card (non-finite number NaN)",
    ),
    "card-infinite-threshold": (
        lambda m: (m / "card.json").write_text(
            re.sub(r'"split_p_low": [0-9.e-]+', '"split_p_low": 1e999',
                   (m / "card.json").read_text())
        ),
        CARD + ": unreadable model card (non-finite number 1e999)",
    ),
    "card-files-a-list": (
        lambda m: edit_card(m, lambda c: c.update(files=list(c["files"].values()))),
        CARD + ": invalid model card: files is a list, not an object",
    ),
    "card-file-hash-a-number": (
        lambda m: edit_card(m, lambda c: c["files"].update({SCORER_FILE: 7})),
        CARD + ": invalid model card: files." + SCORER_FILE + " is an integer, not a string",
    ),
    "card-file-hash-not-hex": (
        lambda m: edit_card(m, lambda c: c["files"].update({SCORER_FILE: "abc"})),
        CARD + ": invalid model card: files." + SCORER_FILE + " is not a file's sha256",
    ),
    "card-model-id-a-list": (
        lambda m: edit_card(m, lambda c: c.update(model_id=["x"])),
        CARD + ": invalid model card: model_id is a list, not a string",
    ),
    "card-thresholds-a-list": (
        lambda m: edit_card(m, lambda c: c.update(thresholds=[0.5])),
        CARD + ": invalid model card: thresholds is a list, not an object",
    ),
    "card-mixed-thresholds-a-number": (
        _thresholds(lambda t: t.update(mixed=0.5)),
        CARD + ": invalid model card: thresholds.mixed is a number, not an object",
    ),
    "card-without-off-topic": (
        _thresholds(lambda t: t.pop("off_topic")),
        CARD + ": invalid model card: lacks thresholds.off_topic",
    ),
    "card-without-min-p-on-topic": (
        _thresholds(lambda t: t["off_topic"].clear()),
        CARD + ": invalid model card: lacks thresholds.off_topic.min_p_on_topic",
    ),
    "card-threshold-a-string": (
        _thresholds(lambda t: t["mixed"].update(split_p_low="0.4")),
        CARD + ": invalid model card: thresholds.mixed.split_p_low is a string, not a number",
    ),
    "card-threshold-a-boolean": (
        _thresholds(lambda t: t["title"].update(contradicts_min_p=True)),
        CARD + ": invalid model card: thresholds.title.contradicts_min_p is a boolean, not a "
        "number",
    ),
    "card-threshold-out-of-range": (
        _thresholds(lambda t: t["off_topic"].update(min_p_on_topic=7)),
        CARD + ": invalid model card: thresholds.off_topic.min_p_on_topic is 7.0, outside "
        "[0.0, 1.0]",
    ),
    "card-unknown-threshold": (
        _thresholds(lambda t: t["mixed"].update(title_weight=0.5)),
        CARD + ": invalid model card: unknown key thresholds.mixed.title_weight (known: ",
    ),
    "card-unknown-top-level-key": (
        lambda m: edit_card(m, lambda c: c.update(surprise=1)),
        CARD + ": invalid model card: unknown key surprise (known: ",
    ),
    "card-training-rows-a-string": (
        lambda m: edit_card(m, lambda c: c["training_data"][0].update(rows="many")),
        CARD + ": invalid model card: training_data[0].rows is a string, not an integer",
    ),
    "card-calibration-without-a": (
        lambda m: edit_card(m, lambda c: c["calibration"].pop("a") and None),
        CARD + ": invalid model card: lacks calibration.a",
    ),
    "scorer-is-a-fifo": (
        lambda m: replace_by(m, SCORER_FILE, os.mkfifo), SCORER + ": not a regular file",
    ),
    "scorer-is-a-symlink-to-dev-zero": (
        lambda m: replace_by(m, SCORER_FILE, lambda p: p.symlink_to("/dev/zero")),
        SCORER + ": not a regular file",
    ),
    "scorer-is-a-directory": (
        lambda m: replace_by(m, SCORER_FILE, Path.mkdir), SCORER + ": not a regular file",
    ),
    "scorer-missing": (
        lambda m: (m / SCORER_FILE).unlink(), SCORER + ": missing model file",
    ),
    "scorer-not-ours-but-hashed": (
        lambda m: rewrite(m, SCORER_FILE, b'{"format": "rolecli-scorer"}'),
        SCORER + ": malformed scorer (not a rolecli scorer file (no magic bytes))",
    ),
    "scorer-header-cut-short-but-hashed": (
        lambda m: rewrite(m, SCORER_FILE, (m / SCORER_FILE).read_bytes()[:40]),
        SCORER + ": malformed scorer (header of ",
    ),
    "scorer-arrays-cut-short-but-hashed": (
        lambda m: rewrite(m, SCORER_FILE, (m / SCORER_FILE).read_bytes()[:-7]),
        SCORER + ": malformed scorer (",
    ),
    "scorer-header-not-an-object-but-hashed": (
        lambda m: edit_header(m, lambda h: [h]),
        SCORER + ": malformed scorer (the header is not a JSON object)",
    ),
    "scorer-header-nested-deep-but-hashed": (
        lambda m: edit_header(m, lambda h: h.update(classes=json.loads(_deep(50)))),
        SCORER + ": malformed scorer (JSON nested more than 32 levels deep)",
    ),
    "scorer-huge-ngram-range-but-hashed": (
        lambda m: edit_header(m, lambda h: h["analyzer"].update(ngram_range=[1, 1e9])),
        SCORER + ": malformed scorer (header.analyzer.ngram_range[1] is a number, not an "
        "integer)",
    ),
    "scorer-ngram-range-1-to-a-billion-but-hashed": (
        lambda m: edit_header(m, lambda h: h["analyzer"].update(ngram_range=[1, 10**9])),
        SCORER + ": malformed scorer (header.analyzer.ngram_range [1, 1000000000] is not "
        "within [1, 4])",
    ),
    "scorer-analyzer-a-string-but-hashed": (
        lambda m: edit_header(m, lambda h: h.update(analyzer="sklearn")),
        SCORER + ": malformed scorer (header.analyzer is a string, not an object)",
    ),
    "scorer-nan-intercept-but-hashed": (
        lambda m: edit_header(m, lambda h: h["role"].update(intercept=float("nan"))),
        SCORER + ": malformed scorer (non-finite number NaN)",
    ),
    "scorer-billion-terms-but-hashed": (
        lambda m: edit_header(m, lambda h: h.update(terms=10**9)),
        SCORER + ": malformed scorer (header.terms is 1000000000, outside [1, 8000000])",
    ),
    "scorer-probe-bound-huge-but-hashed": (
        lambda m: edit_header(m, lambda h: h.update(max_probe=10**6)),
        SCORER + ": malformed scorer (header.max_probe is 1000000, outside [1, 64])",
    ),
    "scorer-table-size-not-a-power-of-two-but-hashed": (
        lambda m: edit_header(m, lambda h: h.update(table_size=h["table_size"] - 1)),
        SCORER + ": malformed scorer (hash table of ",
    ),
    "scorer-unknown-header-key-but-hashed": (
        lambda m: edit_header(m, lambda h: h.update(extra=1)),
        SCORER + ": malformed scorer (unknown key header.extra (known: ",
    ),
    "scorer-from-a-future-version-but-hashed": (
        lambda m: edit_header(m, lambda h: h.update(format_version=6)),
        SCORER + ": unsupported scorer format 'rolecli-scorer' v6",
    ),
    "scorer-nan-weight-but-hashed": (
        lambda m: edit_scorer(m, _nan_coefficient),
        SCORER + ": malformed scorer (non-finite weight)",
    ),
    "scorer-inf-idf-but-hashed": (
        lambda m: edit_scorer(m, _inf_idf),
        SCORER + ": malformed scorer (non-finite weight)",
    ),
}

# Faults only the per-term checks see (`rolecli model info --verify`; a batch worker's
# dict build too): a hand-made file whose structure is wrong in one term.
PER_TERM_DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "scorer-duplicate-term-but-hashed": (
        lambda m: edit_scorer(m, _duplicate_term),
        SCORER + ": malformed scorer (a term appears twice in the vocabulary)",
    ),
    "scorer-trigram-but-hashed": (
        lambda m: edit_scorer(m, _trigram_term),
        SCORER + ": malformed scorer (term 'a b c' is not a 1- to 2-gram)",
    ),
}


def damaged(tmp_path: Path, damage: str) -> tuple[Path, str]:
    """A damaged copy of the shipped model, and the error line rolecli must print for it."""
    model = copy_model(tmp_path)
    make, reason = {**DAMAGE, **PER_TERM_DAMAGE}[damage]
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


# A --model that does not exist is a usage error (exit 2): tests/test_cli_ux.py.
@pytest.mark.parametrize("damage", sorted(set(DAMAGE) - {"missing-directory"}))
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
@pytest.mark.parametrize("damage", ["directory-is-a-file", "tampered-scorer",
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


@pytest.mark.parametrize("damage", [
    "card-is-a-fifo", "card-nested-100000-deep", "scorer-is-a-symlink-to-dev-zero",
    "scorer-nan-weight-but-hashed", "card-without-off-topic",
])
def test_version_survives_a_broken_model(rolecli, tmp_path, damage):
    model, _ = damaged(tmp_path, damage)
    version = rolecli("--version", env={"ROLECLI_MODEL": str(model)}, timeout=30)
    assert version.returncode == 0, version.stderr
    assert version.stdout.decode().strip().endswith("(model no usable model)")
    assert version.stderr == b""


@pytest.mark.parametrize("damage", sorted(PER_TERM_DAMAGE))
@pytest.mark.parametrize("command", [["model", "info", "--verify"], ["batch", str(EXAMPLES)]])
def test_per_term_faults_are_found_by_verify_and_by_batch(rolecli, tmp_path, damage, command):
    """Loading skips per-term checks (docs/speed.md); `model info --verify` and batch, which
    builds the whole vocabulary's dict before scoring, make them and exit 4."""
    model, expected = damaged(tmp_path, damage)
    result = rolecli(*command, "--model", model)
    assert result.returncode == 4, result.stderr
    assert one_line(result.stderr) == f"{expected} {HINT}"
    assert result.stdout == b""


def test_verify_accepts_the_shipped_model(invoke):
    result = invoke("model", "info", "--verify", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"]["verified"] is True


def test_default_thresholds_fit_the_card_schema():
    """The defaults are a whole, valid set: they read back from JSON as they were."""
    from rolecli.model.card import DEFAULT_THRESHOLDS, Thresholds

    data = json.loads(json.dumps(DEFAULT_THRESHOLDS.as_dict()))
    assert Thresholds.from_dict(data) == DEFAULT_THRESHOLDS
    del data["title"]
    with pytest.raises(ValueError, match=r"lacks thresholds\.title"):
        Thresholds.from_dict(data)


def test_train_refuses_a_calibration_file_with_bad_thresholds(invoke, tmp_path):
    calibration = json.loads((MODEL.parents[1] / "data" / "calibration.json").read_text())
    calibration["thresholds"]["mixed"]["split_p_low"] = "low"
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(calibration))
    result = invoke("train", "--calibration", path, "--output", tmp_path / "m")
    assert result.exit_code == 2
    assert "thresholds.mixed.split_p_low is a string, not a number" in one_line(result.stderr)
    assert not (tmp_path / "m").exists()


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
        lambda m: edit_card(m, lambda c: c.update(card_format_version=3)),
        "incompatible model card version 3",
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
    from rolecli.model.directory import load_pipeline

    model = copy_model(tmp_path)
    make, reason = PIPELINE_DAMAGE[damage]
    make(model)
    with pytest.raises(ModelError) as raised:
        load_pipeline(model, trusted=True)
    assert reason in raised.value.message
    assert "--model" not in raised.value.message  # a library caller is not told of flags
    assert raised.value.cli_line().endswith(HINT)  # the CLI's line is
    assert raised.value.exit_code == ExitCode.MODEL == 4


def test_load_pipeline_refuses_an_untrusted_directory(tmp_path):
    """Unpickling runs code and the hash comes from the same directory: only the shipped
    model, or a directory the caller vouches for with trusted=True, is unpickled."""
    from rolecli.errors import UsageError
    from rolecli.model.directory import load_pipeline

    model = copy_model(tmp_path)
    with pytest.raises(UsageError, match="trusted=True"):
        load_pipeline(model)
    assert hasattr(load_pipeline(), "predict_proba")  # the shipped model needs no flag


def test_load_pipeline_ignores_rolecli_model_for_trust(tmp_path, monkeypatch):
    from rolecli.errors import UsageError
    from rolecli.model.directory import load_pipeline

    monkeypatch.setenv("ROLECLI_MODEL", str(copy_model(tmp_path)))
    with pytest.raises(UsageError, match="trusted=True"):
        load_pipeline(os.environ["ROLECLI_MODEL"])


def test_load_pipeline_of_an_intact_copy_still_works(tmp_path):
    """The faults above are the faults: an untouched copy loads and predicts."""
    from rolecli.model.directory import load_pipeline

    pipeline = load_pipeline(copy_model(tmp_path), trusted=True)
    p = pipeline.predict_proba([POSTING.read_text(encoding="utf-8")])[0]
    assert p[0] > 0.5  # P(engineer) for the engineer example


# -- the record of checked scorers (check_cache): a speed-up, never a way around a check ------


def _record() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "rolecli" / "checked-scorers.json"


def test_a_checked_scorer_is_recorded_and_a_rewritten_one_checked_again(rolecli, tmp_path):
    model = copy_model(tmp_path)
    assert rolecli("classify", POSTING, "--model", model).returncode == 0
    assert str(model / SCORER_FILE) in json.loads(_record().read_text())
    # Same size, other bytes: a new mtime and ctime, so the record no longer applies.
    raw = bytearray((model / SCORER_FILE).read_bytes())
    raw[-50] ^= 0x01
    (model / SCORER_FILE).write_bytes(bytes(raw))
    result = rolecli("classify", POSTING, "--model", model)
    assert result.returncode == 4
    assert "sha256 does not match the model card" in one_line(result.stderr)


@pytest.mark.parametrize("record", [
    b"", b"{not json", b"[1, 2]", b'{"x": ' * 50_000, b'{"a": [1, 2, 3, 4, 5, "b"]}',
    b" " * (1 << 20), "fifo", "dev-zero",
])
def test_a_hostile_record_is_ignored(rolecli, tmp_path, record):
    target = tmp_path / "cache" / "rolecli" / "checked-scorers.json"
    target.parent.mkdir(parents=True)
    if record == "fifo":
        os.mkfifo(target)
    elif record == "dev-zero":
        target.symlink_to("/dev/zero")
    else:
        target.write_bytes(record)
    result = rolecli("classify", POSTING, "-f", "json",
                     env={"XDG_CACHE_HOME": str(tmp_path / "cache")}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""


def test_an_unwritable_record_is_skipped_quietly(rolecli, tmp_path):
    (tmp_path / "cache").write_text("a file where the cache folder would be")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = rolecli("classify", POSTING, "-f", "json", env=env)
    assert result.returncode == 0 and result.stderr == b""


def test_verify_ignores_the_record(rolecli, tmp_path):
    """The trade-off, pinned down: a record forged for a tampered file fools a plain load,
    and `model info --verify`, which never reads the record, still catches it."""
    from rolecli.model.check_cache import identity

    model = copy_model(tmp_path)
    raw = bytearray((model / SCORER_FILE).read_bytes())
    raw[-50] ^= 0x01  # inside the terms: a valid file, other bytes
    (model / SCORER_FILE).write_bytes(bytes(raw))
    card = json.loads((model / "card.json").read_text())
    forged = {str(model / SCORER_FILE): [*identity(os.stat(model / SCORER_FILE)),
                                         card["files"][SCORER_FILE]]}
    cache = tmp_path / "cache"
    (cache / "rolecli").mkdir(parents=True)
    (cache / "rolecli" / "checked-scorers.json").write_text(json.dumps(forged))
    env = {"XDG_CACHE_HOME": str(cache)}
    assert rolecli("classify", POSTING, "--model", model, env=env).returncode == 0
    result = rolecli("model", "info", "--verify", "--model", model, env=env)
    assert result.returncode == 4
    assert "sha256 does not match the model card" in one_line(result.stderr)
