"""`rolecli batch` through the real CLI on real files: walk, formats, errors, resume, crashes."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_inputs import (
    POSTINGS,
    copy_output,
    jsonl,
    make_tree,
    table_rows,
    write_tables,
)
from conftest import DEV_POSTINGS, EXAMPLES, MODEL, OFFTOPIC_DIR, rolecli_executable

from rolecli.tasks.classify import classify, load_scorer


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "postings")


GOOD_IDS = [
    "latin1.txt",
    "ml-engineer.txt",
    "team/data-scientist.md",
    "team/not-a-job.txt",
    "team/platform.html",
    "team/research/mixed.docx",
    "team/research/scientist.pdf",
]
BAD_IDS = ["binary.txt", "broken.pdf", "empty.txt"]
ROW_KEYS = (
    "id", "status", "label", "probabilities", "confidence", "off_topic", "off_topic_family",
    "short_text", "title", "error",
)


def test_folder_walk_sorted_ids_error_rows_and_exit_5(invoke, tree):
    result = invoke("batch", tree, "--format", "jsonl")
    assert result.exit_code == 5, result.stderr
    rows = jsonl(result.stdout)
    ids = [r["id"] for r in rows]
    assert ids == sorted(GOOD_IDS + BAD_IDS)  # hidden, .rtf and the symlink loop's copies skipped
    by_id = {r["id"]: r for r in rows}
    for bad in BAD_IDS:
        row = by_id[bad]
        assert row["status"] == "error"
        assert row["error"] and "\n" not in row["error"]
        assert row["label"] is row["probabilities"] is row["confidence"] is row["off_topic"] is None
        assert row["title"] is None
    for good in GOOD_IDS:
        row = by_id[good]
        assert set(row) == set(ROW_KEYS)
        assert row["status"] == "ok" and row["error"] is None
        p = row["probabilities"]
        assert p["engineer"] + p["scientist"] == pytest.approx(1)
    assert by_id["team/not-a-job.txt"]["off_topic"] is True
    assert by_id["team/not-a-job.txt"]["label"] is None
    assert by_id["ml-engineer.txt"]["label"] == "engineer"
    assert by_id["team/platform.html"]["label"] == "engineer"
    assert by_id["team/research/scientist.pdf"]["label"] == "scientist"
    assert by_id["team/data-scientist.md"]["label"] == "scientist"
    assert "binary" in by_id["binary.txt"]["error"]
    assert "PDF" in by_id["broken.pdf"]["error"]
    assert "no text" in by_id["empty.txt"]["error"]


def test_rows_agree_with_classify(invoke):
    result = invoke("batch", *POSTINGS, EXAMPLES / "not-a-job.txt", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    scorer = load_scorer(MODEL)
    for row in jsonl(result.stdout):
        expected = classify(Path(row["id"]).read_text(encoding="utf-8"), scorer)
        assert row["id"] == str(EXAMPLES / Path(row["id"]).name)  # a file's id is its path as given
        for key in ("label", "probabilities", "confidence", "off_topic", "title"):
            assert row[key] == expected[key], (row["id"], key)


@pytest.mark.slow
def test_rows_agree_with_classify_on_every_dev_posting(rolecli, dev_postings):
    """The batch counts terms its own way; its verdicts must still be classify()'s, exactly
    (with the table's title column, which batch reads as the title)."""
    result = rolecli("batch", DEV_POSTINGS, "--id-column", "id", "--jobs", "2", "--quiet",
                     timeout=600)
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert [r["id"] for r in rows] == [p["id"] for p in dev_postings]
    scorer = load_scorer(MODEL)
    for row, posting in zip(rows, dev_postings, strict=True):
        title = " ".join(posting["title"].split()) or None
        expected = classify(posting["text"], scorer, title)
        for key in ("label", "probabilities", "confidence", "off_topic", "title"):
            assert row[key] == expected[key], (row["id"], key)


def test_rows_agree_with_classify_on_off_topic_texts(invoke):
    result = invoke("batch", OFFTOPIC_DIR, "--format", "jsonl", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    scorer = load_scorer(MODEL)
    for row in jsonl(result.stdout):
        expected = classify((OFFTOPIC_DIR / row["id"]).read_text(encoding="utf-8"), scorer)
        assert {k: row[k] for k in expected if k in row} == {
            k: expected[k] for k in ("label", "probabilities", "confidence", "off_topic",
                                     "off_topic_family", "short_text", "title")
        }


def test_formats_carry_the_same_rows(invoke, tree, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a table wide enough not to fold the ids
    reference = jsonl(invoke("batch", tree, "--format", "jsonl").stdout)

    as_json = invoke("batch", tree, "--format", "json")
    assert as_json.exit_code == 5
    assert json.loads(as_json.stdout) == reference

    as_csv = invoke("batch", tree, "--format", "csv")
    assert as_csv.exit_code == 5
    records = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(records[0]) == [
        "id", "status", "label", "probabilities.engineer", "probabilities.scientist",
        "confidence", "off_topic", "off_topic_family", "short_text", "title.text",
        "title.label", "title.agrees", "title.grade", "error",
    ]
    for record, row in zip(records, reference, strict=True):
        assert record["id"] == row["id"] and record["status"] == row["status"]
        assert record["label"] == (row["label"] or "")
        assert record["error"] == (row["error"] or "")
        if row["status"] == "ok":
            # csv rounds to --precision (default 4 decimals); JSON keeps every digit
            scientist = record["probabilities.scientist"]
            assert scientist == f'{row["probabilities"]["scientist"]:.4f}' and "e-" not in scientist
            assert record["confidence"] == f'{row["confidence"]:.4f}'
            assert record["off_topic"] == str(row["off_topic"]).lower()

    as_table = invoke("batch", tree, "--format", "table")
    assert as_table.exit_code == 5
    table = as_table.stdout.split("\nerrors:")[0]  # error reasons are listed under it
    first_cells = [line.split("│")[0].strip() for line in table.splitlines()[2:]]
    assert [cell for cell in first_cells if cell] == [row["id"] for row in reference]
    assert "off-topic" in as_table.stdout and "error" in as_table.stdout


def test_stdout_has_only_rows_and_stderr_the_summary(rolecli, tree):
    result = rolecli("batch", tree)  # not a terminal: jsonl by default, no progress bar
    assert result.returncode == 5
    rows = jsonl(result.stdout)
    assert len(rows) == len(GOOD_IDS) + len(BAD_IDS)
    summary = result.stderr.decode()
    assert "scored 10 items" in summary and "errors 3" in summary and "off-topic 1" in summary
    assert "items/s" in summary and "Traceback" not in summary

    quiet = rolecli("batch", tree, "--quiet")
    assert quiet.returncode == 5
    assert quiet.stderr == b""
    assert quiet.stdout == result.stdout


def test_output_file_refuses_overwrite_unless_resume_or_force(invoke, tree, tmp_path):
    output = tmp_path / "rows.jsonl"
    first = invoke("batch", tree, "--output", output)
    assert first.exit_code == 5
    assert first.stdout == ""  # rows went to the file; the format came from its suffix
    content = output.read_text(encoding="utf-8")
    assert len(jsonl(content)) == 10

    again = invoke("batch", tree, "--output", output)
    assert again.exit_code == 2
    assert "exists" in again.stderr and "--resume" in again.stderr and "--force" in again.stderr
    assert output.read_text(encoding="utf-8") == content

    forced = invoke("batch", tree, "--output", output, "--force")
    assert forced.exit_code == 5
    assert output.read_text(encoding="utf-8") == content

    as_json = tmp_path / "rows.json"
    assert invoke("batch", tree, "--output", as_json).exit_code == 5
    refused = invoke("batch", tree, "--output", as_json, "--resume")
    assert refused.exit_code == 2 and "jsonl or csv" in refused.stderr


def test_output_inside_the_walked_folder_is_not_read(invoke, tree):
    output = tree / "results.csv"
    assert invoke("batch", tree, "--output", output).exit_code == 5
    assert invoke("batch", tree, "--output", output, "--resume").exit_code == 5
    ids = [r["id"] for r in csv.DictReader(output.open(encoding="utf-8"))]
    assert ids == sorted(GOOD_IDS + BAD_IDS)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_resume_after_a_torn_last_row_gives_every_id_once(invoke, tree, tmp_path, fmt):
    clean = tmp_path / f"clean.{fmt}"
    assert invoke("batch", tree, "--output", clean).exit_code == 5
    expected = clean.read_bytes()

    output = tmp_path / f"rows.{fmt}"
    lines = expected.splitlines(keepends=True)
    torn = b"".join(lines[:5]) + lines[5][: len(lines[5]) // 2]  # a crash in the middle of a row
    copy_output(clean, output, torn)
    resumed = invoke("batch", tree, "--output", output, "--resume")
    assert resumed.exit_code == 5, resumed.stderr
    assert output.read_bytes() == expected
    assert "kept" in resumed.stderr

    # Resuming a complete file scores nothing and changes nothing.
    again = invoke("batch", tree, "--output", output, "--resume")
    assert again.exit_code == 5  # its earlier error rows still stand
    assert output.read_bytes() == expected
    assert "scored 0 items" in again.stderr


def test_csv_resume_with_quotes_and_newlines_in_ids(invoke, tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    for name in ('a "quoted" name.txt', "b new\nline.txt", "c plain.txt"):
        (folder / name).write_bytes(POSTINGS[0].read_bytes())
    clean = tmp_path / "clean.csv"
    assert invoke("batch", folder, "--output", clean).exit_code == 0
    expected = clean.read_bytes()
    cut = expected.index(b"new\nline") + 4  # torn inside the quoted field, after its newline
    output = tmp_path / "rows.csv"
    copy_output(clean, output, expected[:cut])
    assert invoke("batch", folder, "--output", output, "--resume").exit_code == 0
    assert output.read_bytes() == expected


def test_resume_refuses_a_file_that_is_not_batch_output(invoke, tree, tmp_path):
    output = tmp_path / "rows.jsonl"
    assert invoke("batch", tree, "--output", output).exit_code == 5
    output.write_text("not json\n{\"id\": \"x\", \"status\": \"ok\"}\n", encoding="utf-8")
    result = invoke("batch", tree, "--output", output, "--resume")
    assert result.exit_code == 2
    assert "cannot resume" in result.stderr


def _many_postings(root: Path, count: int) -> Path:
    texts = [p.read_text(encoding="utf-8") for p in POSTINGS]
    for i in range(count):
        folder = root / f"{i // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        # Short, distinct postings: the run is long enough to interrupt, short enough to test.
        (folder / f"p{i:04d}.txt").write_text(f"Posting {i}.\n" + texts[i % len(texts)][:800])
    return root


@pytest.mark.slow
def test_jobs_1_and_2_write_identical_rows(rolecli, tmp_path):
    folder = _many_postings(tmp_path / "many", 150)  # several chunks: the pool is used
    one = rolecli("batch", folder, "--jobs", "1", "--format", "csv")
    two = rolecli("batch", folder, "--jobs", "2", "--format", "csv")
    assert one.returncode == two.returncode == 0, two.stderr
    assert one.stdout == two.stdout
    assert len(one.stdout.splitlines()) == 151


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_bytes()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(name))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.add(child)
            stack.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return state[state.rindex(b")") + 2 :][:1] != b"Z"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads the process tree from /proc")
def test_sigkill_then_resume_loses_nothing_and_duplicates_nothing(rolecli, tmp_path):
    folder = _many_postings(tmp_path / "many", 400)
    clean = tmp_path / "clean.jsonl"
    assert rolecli("batch", folder, "--output", clean, "--quiet").returncode == 0
    expected = jsonl(clean.read_bytes())
    assert len(expected) == 400

    output = tmp_path / "rows.jsonl"
    command = [rolecli_executable(), "batch", str(folder), "--output", str(output), "--quiet",
               "--jobs", "2"]
    rng = random.Random(5)
    for attempt in range(3):
        process = subprocess.Popen(command + (["--resume"] if attempt else []),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.8, 2.5))
        workers = _descendants(process.pid)
        process.kill()
        process.wait()
        process.stderr.close()
        deadline = time.monotonic() + 20
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(p) for p in workers), "pool workers outlived their killed parent"

    finished = rolecli("batch", folder, "--output", output, "--resume", "--quiet")
    assert finished.returncode == 0, finished.stderr
    rows = jsonl(output.read_bytes())
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in expected)  # each exactly once
    assert rows == expected  # same answers, and the same order as an uninterrupted run


def _pool_workers(pid: int) -> list[int]:
    workers = []
    for child in _descendants(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:  # not multiprocessing's resource tracker
            workers.append(child)
    return workers


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads the process tree from /proc")
def test_a_worker_killed_mid_batch_loses_nothing(rolecli, tmp_path):
    folder = _many_postings(tmp_path / "many", 400)
    clean = rolecli("batch", folder, "--jobs", "1", "--quiet")
    output = tmp_path / "rows.jsonl"
    process = subprocess.Popen(
        [rolecli_executable(), "batch", str(folder), "--output", str(output), "--jobs", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while (not output.exists() or output.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = _pool_workers(process.pid)
    if process.poll() is not None or not workers:
        pytest.skip("the batch finished before a worker could be killed")
    os.kill(workers[0], signal.SIGKILL)  # as the out-of-memory killer would
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr.decode()
    assert output.read_bytes() == clean.stdout  # the lost chunk was scored again, in order


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="sends Ctrl-C as a terminal does")
def test_ctrl_c_flushes_finished_rows_and_exits_130(rolecli, tmp_path):
    # Enough postings that Ctrl-C lands while they are being scored (a few thousand a second).
    total = 4000
    folder = _many_postings(tmp_path / "many", total)
    output = tmp_path / "rows.jsonl"
    process = subprocess.Popen(
        [rolecli_executable(), "batch", str(folder), "--output", str(output), "--jobs", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while (not output.exists() or output.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # the whole process group, like Ctrl-C in a terminal
    _, stderr = process.communicate(timeout=60)
    text = stderr.decode()
    if process.returncode == 0:
        pytest.skip("the batch finished before Ctrl-C arrived")
    assert process.returncode == 130, text
    assert "Traceback" not in text
    assert "interrupted" in text and "--resume" in text
    rows = jsonl(output.read_bytes())  # every line complete
    if len(rows) == total:
        pytest.skip("every row was written before Ctrl-C arrived")
    assert 0 < len(rows) < total

    finished = rolecli("batch", folder, "--output", output, "--resume", "--quiet")
    assert finished.returncode == 0
    assert len(jsonl(output.read_bytes())) == total


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="sends Ctrl-C as a terminal does")
def test_early_ctrl_c_while_workers_start_prints_no_traceback(tmp_path):
    """Ctrl-C reaches every process of the group, workers still importing included."""
    folder = _many_postings(tmp_path / "many", 4000)  # still scoring when Ctrl-C comes
    timing = random.Random(7)
    for attempt in range(6):
        output = tmp_path / f"rows-{attempt}.jsonl"
        process = subprocess.Popen(
            [rolecli_executable(), "batch", str(folder), "--output", str(output), "--jobs", "2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        time.sleep(timing.uniform(0.25, 0.9))  # while the pool's workers are starting
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        # 130 when the batch stopped; 0 if it had finished, or -SIGINT if the signal landed
        # while the interpreter was exiting (the shell shows 130 for that too).
        assert process.returncode in (0, 130, -signal.SIGINT), stderr.decode()
        assert b"Traceback" not in stderr, stderr.decode()


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_table_exports_with_id_and_text_columns(invoke, tmp_path, kind):
    table = write_tables(tmp_path / "tables")[kind]
    result = invoke("batch", table, "--text-column", "body", "--id-column", "posting_id")
    assert result.exit_code == 5, result.stderr  # the empty row is an error row
    rows = jsonl(result.stdout)
    assert [r["id"] for r in rows] == [r["posting_id"] for r in table_rows()]
    assert [r["status"] for r in rows] == ["ok"] * len(POSTINGS) + ["error"]
    scorer = load_scorer(MODEL)
    for row, posting in zip(rows[:-1], POSTINGS, strict=True):
        assert row["label"] == classify(posting.read_text(encoding="utf-8"), scorer)["label"]

    by_number = jsonl(invoke("batch", table, "--text-column", "body").stdout)
    assert [r["id"] for r in by_number] == [str(n) for n in range(1, len(rows) + 1)]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_missing_text_column_is_a_usage_error(invoke, tmp_path, kind):
    table = write_tables(tmp_path / "tables")[kind]
    result = invoke("batch", table)
    assert result.exit_code == 2
    assert "'text'" in result.stderr and "--text-column" in result.stderr
    assert result.stdout == ""


def test_jsonl_rows_without_the_text_field_say_what_they_have(invoke, tmp_path):
    # JSON Lines has no header: each row is read as POST /v1/batch reads it.
    table = write_tables(tmp_path / "tables")["jsonl"]
    result = invoke("batch", table)
    assert result.exit_code == 5
    rows = jsonl(result.stdout)
    assert [row["error"] for row in rows] == [
        f"row {n}: no 'text' field (its fields: 'body', 'posting_id')"
        for n in range(1, len(rows) + 1)]
    named = invoke("batch", table, "--text-column", "txet")  # an option's column: checked first
    assert named.exit_code == 2 and "no column 'txet'" in named.stderr


def test_tables_inside_folders_are_expanded_and_unreadable_ones_are_error_rows(invoke, tmp_path):
    folder = tmp_path / "mixed"
    write_tables(folder / "exports")
    (folder / "exports" / "other.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (folder / "a.txt").write_text(POSTINGS[0].read_text(encoding="utf-8"), encoding="utf-8")
    result = invoke("batch", folder, "--text-column", "body", "--id-column", "posting_id")
    assert result.exit_code == 5
    by_id = {r["id"]: r for r in jsonl(result.stdout)}
    assert by_id["a.txt"]["status"] == "ok"
    for kind in ("csv", "jsonl", "parquet"):
        assert by_id[f"exports/export.{kind}#job-0"]["status"] == "ok"
        assert by_id[f"exports/export.{kind}#job-empty"]["status"] == "error"
    assert "'body'" in by_id["exports/other.csv"]["error"]


def test_malformed_jsonl_lines_are_error_rows(invoke, tmp_path):
    table = tmp_path / "rows.jsonl"
    text = json.dumps(POSTINGS[0].read_text(encoding="utf-8"))
    table.write_text(f'{{"text": {text}}}\n{{broken\n\n[1, 2]\n{{"text": 7}}\n', encoding="utf-8")
    rows = jsonl(invoke("batch", table).stdout)
    assert [(r["id"], r["status"]) for r in rows] == [
        ("1", "ok"), ("2", "error"), ("3", "error"), ("4", "error"),
    ]


def test_glob_filters_files_in_folders(invoke, tree):
    by_name = jsonl(invoke("batch", tree, "--glob", "*.txt").stdout)
    assert [r["id"] for r in by_name] == [
        "binary.txt", "empty.txt", "latin1.txt", "ml-engineer.txt", "team/not-a-job.txt",
    ]
    by_path = jsonl(invoke("batch", tree, "--glob", "team/research/*", "-g", "*.md").stdout)
    assert [r["id"] for r in by_path] == [
        "team/data-scientist.md", "team/research/mixed.docx", "team/research/scientist.pdf",
    ]


def test_undecodable_file_names_get_escaped_ids(invoke, tmp_path):
    folder = tmp_path / "names"
    folder.mkdir()
    posting = POSTINGS[0].read_bytes()
    (Path(os.fsdecode(bytes(folder) + b"/caf\xe9.txt"))).write_bytes(posting)
    (Path(os.fsdecode(bytes(folder) + b"/caf\xe8.txt"))).write_bytes(b"")
    result = invoke("batch", folder, "--format", "jsonl")
    assert result.exit_code == 5, result.stderr
    rows = jsonl(result.stdout)
    assert [r["id"] for r in rows] == ["caf\\xe8.txt", "caf\\xe9.txt"]
    assert [r["status"] for r in rows] == ["error", "ok"]


def test_several_paths_prefix_folder_ids(invoke, tree, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "ml-engineer.txt").write_bytes(POSTINGS[0].read_bytes())
    rows = jsonl(invoke("batch", other, EXAMPLES / "ml-engineer.txt").stdout)
    assert [r["id"] for r in rows] == [
        f"{other.as_posix()}/ml-engineer.txt", str(EXAMPLES / "ml-engineer.txt"),
    ]


def test_usage_and_model_errors(invoke, tree, tmp_path):
    missing = invoke("batch", tmp_path / "nope")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    assert invoke("batch", tree, "--jobs", "0").exit_code == 2
    assert invoke("batch", tree, "--resume").exit_code == 2
    assert invoke("batch", tree, "--scheduler", "tcp://127.0.0.1:1").exit_code == 2
    no_model = invoke("batch", tree, "--model", tmp_path)
    assert no_model.exit_code == 4
    assert no_model.stdout == ""


def test_parquet_without_pyarrow_names_the_extra(invoke, tmp_path, monkeypatch):
    table = write_tables(tmp_path / "tables")["parquet"]
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = invoke("batch", table, "--text-column", "body")
    assert result.exit_code == 2
    assert "rolecli[parquet]" in result.stderr


def test_scoring_never_imports_scikit_learn_scipy_or_pandas(tmp_path, tree):
    table = write_tables(tmp_path / "tables")["csv"]
    script = (
        "import io, sys\n"
        "from rolecli.batch.run import run_batch\n"
        f"run_batch([{str(tree)!r}], stream=io.StringIO(), jobs=1)\n"
        f"run_batch([{str(table)!r}], stream=io.StringIO(), jobs=1, text_column='body')\n"
        "heavy = {'sklearn', 'scipy', 'pandas'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == "[]"


def test_reading_a_table_leaves_the_csv_field_limit_as_it_was(invoke, tmp_path):
    """A posting longer than csv's default field limit is read without changing the
    process-wide limit for the caller."""
    table = tmp_path / "long.csv"
    long_text = POSTINGS[0].read_text(encoding="utf-8") + " Python" * 30_000
    with table.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["text"], [long_text]])
    previous = csv.field_size_limit(1_000)
    try:
        result = invoke("batch", table, "--jobs", "1")
        assert csv.field_size_limit() == 1_000
    finally:
        csv.field_size_limit(previous)
    assert result.exit_code == 0, result.stderr
    assert [r["status"] for r in jsonl(result.stdout)] == ["ok"]
