"""Inputs the fuzzer (fuzz/fuzz_scoring.py) crashed rolecli with, kept as regression tests.

Each case is the crashing input exactly as atheris wrote it, decoded the way the harness
decodes it (a suffix, then the bytes), and each must now pass the harness's own checks:
`text_from_bytes` returns non-blank text or raises InputError, and classify and explain
keep their promises on the text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES, MODEL, check_classification, check_explanation, one_line

from rolecli.errors import InputError
from rolecli.io.documents import text_from_bytes

# (name, suffix, bytes): every crash found, with what it broke.
CRASHES = [
    (
        # bs4's html.parser builder raised ParserRejectedMarkup (an AssertionError inside:
        # "unknown status keyword 'en' in marked section") for `<![en<>f]...`: a traceback
        # from `rolecli classify page.html`. Found on the code before the fix in ~8 s.
        "crash-3dbeb598-marked-section",
        ".html",
        b"Deopyl models to production`with Kubernetes; run A/B \xff\xff\xff\xff\xff\xff\xff"
        b"\xff\xff\xff\xff\xff\xffcript><![if !IE]><p>research</p><![en<>f]id/body\xff\xff"
        b"\xff\xff\xfftests and report statisuic\xce\xce\xce\xce\xce\xcfs.",
    ),
]


def check_text(text: str) -> None:
    """The harness's checks (fuzz/fuzz_scoring.py: check_text), as the property tests make them."""
    check_classification(text)
    check_explanation(text)


@pytest.mark.parametrize(("name", "suffix", "data"), CRASHES, ids=[c[0] for c in CRASHES])
def test_fuzzer_crash_is_fixed(name, suffix, data):
    try:
        text = text_from_bytes(data, "fuzz", suffix)
    except InputError as exc:
        assert exc.message.startswith("fuzz: ")
        return
    assert text.strip()
    check_text(text)
    check_text(data.decode("utf-8", "replace"))


@pytest.mark.parametrize(("name", "suffix", "data"), CRASHES, ids=[c[0] for c in CRASHES])
def test_fuzzer_crash_through_the_cli_is_one_line_at_most(rolecli, tmp_path, name, suffix, data):
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    result = rolecli("classify", path, "-f", "json")
    assert b"Traceback" not in result.stderr
    assert result.returncode in (0, 3), result.stderr
    assert len(result.stderr.splitlines()) == (0 if result.returncode == 0 else 1)


def test_marked_section_crash_keeps_the_visible_text():
    """The fix falls back to a lenient parser; the page's words are still what is scored."""
    page = b"<html><body><p>Deploy models</p><![en[ x ]]><p>to Kubernetes</p></body></html>"
    text = text_from_bytes(page, "page.html", ".html")
    assert "Deploy models" in text and "to Kubernetes" in text
    assert "<p>" not in text


# Inputs fuzz/fuzz_model.py crashed model loading with, as atheris wrote them: byte 0 the
# target (c: card.json, else scorer.bin), byte 1 the length of a text, the text, the file.
MODEL_CRASHES = {
    # Term offsets that disagree with the terms' newlines: a ValueError escaped (a
    # traceback) when a posting had enough n-grams to make the scorer build its dict.
    "crash-9a17de7f-offsets-mismatch",
}
MODEL_CRASH_DIR = Path(__file__).parent / "data" / "fuzz-model"


@pytest.mark.parametrize("name", sorted(MODEL_CRASHES))
@pytest.mark.parametrize("command", [["classify", "-f", "json"], ["model", "info", "--verify"]])
def test_model_loading_crash_is_one_line_and_exit_4_at_most(rolecli, tmp_path, name, command):
    from rolecli.model.scorer_file import SCORER_FILE

    data = (MODEL_CRASH_DIR / name).read_bytes()
    raw = data[2 + data[1] :]
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    if data[:1] == b"c":
        (model / "card.json").write_bytes(raw)
    else:
        (model / SCORER_FILE).write_bytes(raw)
        card = json.loads((model / "card.json").read_text())
        card["files"][SCORER_FILE] = hashlib.sha256(raw).hexdigest()
        (model / "card.json").write_text(json.dumps(card))
    posting = [str(EXAMPLES / "ml-engineer.txt")] if command[0] == "classify" else []
    result = rolecli(*command, *posting, "--model", model)
    assert result.returncode in (0, 4), result.stderr
    if result.returncode == 4:
        assert "rolecli train" in one_line(result.stderr)


def test_every_model_crash_file_is_listed():
    assert {p.name for p in MODEL_CRASH_DIR.iterdir()} == MODEL_CRASHES

# Table and resume inputs (fuzz/fuzz_tables.py): (name, target, bytes). The harness ran
# 241 s (123,151 inputs) on the fixed readers without a crash; these are the inputs of the
# classes that crashed the readers before (issue #13's probe), kept so that the harness's
# checks run on them in every test run.
TABLE_CRASHES = [
    # json.loads raised RecursionError: the whole table was one error row, later rows lost
    ("deep-nesting", "table.jsonl", b'{"text": "a"}\n' + b"[" * 100_000 + b"]" * 100_000
     + b'\n{"text": "b"}\n'),
    # int() past 4,300 digits raised ValueError (not JSONDecodeError): the same
    ("huge-int", "table.jsonl",
     b'{"text": "a"}\n{"text": "x", "id": ' + b"9" * 5000 + b'}\n{"text": "b"}\n'),
    # datasets.load_examples indexed a null line: TypeError in train / evaluate
    ("null-line", "labelled.jsonl", b'{"text": "a", "label": "engineer"}\nnull\n'),
    # a Latin-1 CSV: UnicodeDecodeError in train / evaluate
    ("latin1", "labelled.csv", b"text,label\ncaf\xe9,engineer\n"),
    # a resumed row whose id is a list: TypeError (unhashable) in read_resumable
    ("list-id", "resume.jsonl", b'{"id": ["x"], "status": "ok"}\n{"id": "y", "status": "ok"}\n'),
    # and one nested 100,000 deep: RecursionError in read_resumable
    ("deep-resume", "resume.jsonl", b"[" * 100_000 + b"]" * 100_000 + b"\n"),
]


# Found by fuzz/fuzz_tables.py's Parquet page header target (issue #27) in its first 90 s:
# a Thrift map of a huge count of booleans, which took no bytes each, so skipping it never
# ended. Booleans in a collection take a byte, and no count may pass the bytes left.
PAGE_HEADER_CRASHES = [
    ("bool-map", base64.b64decode(
        "BABq6urq6urq6urq6urq6urqNTU1NTU1NTU3Nzc3Nzc3Nzc3Y3A1NTU1NTU1NTU1NTU1NTU1NTU1NTXLys3IyM"
        "jIzjc3Nzc3NzdjcDTq6urq6uoy6urq6urq6urqNOrq6uo3Y3A06urq6urqMurq6urK6urq6jTq6urq6uqlpaWl"
        "paWlpaWlpZWlpaWlpaUjIyMjI+rq6gBpZKxzg2E=")[2:]),
    ("bool-map-made", bytes([0x1B, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x11])),
    ("list-count", bytes([0x19, 0xF5, 0xFF, 0xFF, 0xFF, 0x0F])),
]


@pytest.mark.parametrize(("name", "data"), PAGE_HEADER_CRASHES,
                         ids=[c[0] for c in PAGE_HEADER_CRASHES])
def test_parquet_page_header_crashes_are_fixed(name, data):
    from rolecli.io.parquet import page_header

    started = time.monotonic()
    with pytest.raises((IndexError, ValueError)):
        page_header(data)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(("name", "target", "data"), TABLE_CRASHES,
                         ids=[c[0] for c in TABLE_CRASHES])
def test_table_and_resume_crashes_are_fixed(tmp_path, name, target, data):
    """The harness's checks (fuzz/fuzz_tables.py), on each input that crashed before."""
    from rolecli.batch.resume import read_resumable
    from rolecli.batch.sources import UniqueIds
    from rolecli.errors import RoleCliError, UsageError
    from rolecli.io.labelled import read_labelled
    from rolecli.io.tables import iter_table

    kind, suffix = target.split(".")
    path = tmp_path / f"input.{suffix}"
    path.write_bytes(data)
    if kind == "table":
        for id_column in (None, "id"):
            try:
                rows = list(iter_table(path, "text", id_column))
            except RoleCliError:
                continue
            assert [r.text for r in rows if r.text] == ["a", "b"]  # both good rows scored
            assert all((r.text is None) != (r.error is None) for r in rows)
            ids = UniqueIds()
            assert len({ids.unique(r.id) for r in rows}) == len(rows)
    elif kind == "labelled":
        examples, bad = read_labelled(path)
        assert [e.label for e in examples] == ["engineer"]
        assert all(row.error.startswith("row 2") for row in bad)
    else:
        with path.open("r+b", buffering=0) as handle:
            try:
                resumed = read_resumable(handle, path, suffix)
            except UsageError as exc:
                assert "cannot resume" in exc.message
                return
        assert all(isinstance(i, str) for i in resumed.ids)
        assert data.startswith(path.read_bytes())
