"""Every output a user asks for: real Parquet (or a clear error naming the extra), no
silent JSON Lines for a suffix that names no format, and devices, pipes and /dev/stdout
written as streams, through the installed rolecli."""

from __future__ import annotations

import io
import json
import os
import subprocess
import threading

import pytest
from batch_inputs import POSTINGS, jsonl
from conftest import EXAMPLES, one_line, rolecli_executable
from test_cli_ux import on_pty

from rolecli.batch.writers import CSV_COLUMNS, row_values

pq = pytest.importorskip("pyarrow.parquet", reason="pip install 'rolecli[parquet]'")


@pytest.fixture
def folder(tmp_path):
    """The example postings, an empty one (an error row) and a titled one that disagrees."""
    root = tmp_path / "postings"
    root.mkdir()
    for posting in EXAMPLES.glob("*.txt"):
        (root / posting.name).write_bytes(posting.read_bytes())
    (root / "empty.txt").write_bytes(b"")
    return root


def _flat(row: dict) -> dict:
    return dict(zip(CSV_COLUMNS, row_values(row)))


def test_parquet_output_is_real_parquet_with_every_digit(rolecli, folder, tmp_path):
    target = tmp_path / "scores.parquet"
    written = rolecli("batch", folder, "-o", target)
    assert written.returncode == 5, written.stderr  # the empty posting's error row
    lines = rolecli("batch", folder, "-f", "jsonl").stdout
    table = pq.read_table(target)
    assert table.schema.names == list(CSV_COLUMNS)
    assert str(table.schema.field("probabilities.scientist").type) == "double"
    assert str(table.schema.field("title.agrees").type) == "bool"
    assert table.to_pylist() == [_flat(row) for row in jsonl(lines)]
    # --format parquet says the same whatever the file is called, and to a pipe.
    named = tmp_path / "scores.bin"
    assert rolecli("batch", folder, "-f", "parquet", "-o", named).returncode == 5
    assert pq.read_table(named).to_pylist() == table.to_pylist()
    piped = rolecli("batch", folder, "-f", "parquet", "-q")
    assert piped.returncode == 5
    assert pq.read_table(io.BytesIO(piped.stdout)).to_pylist() == table.to_pylist()


def test_parquet_is_not_written_to_a_terminal(folder):
    code, screen, _ = on_pty(["batch", str(folder), "-f", "parquet"], b"", stderr_too=True)
    assert code == 2
    assert "parquet is binary, not for a terminal: give --output FILE" in screen
    assert "PAR1" not in screen


def test_parquet_without_pyarrow_names_the_extra_and_writes_nothing(rolecli, folder, tmp_path):
    blocked = tmp_path / "blocked"
    (blocked / "pyarrow").mkdir(parents=True)
    (blocked / "pyarrow" / "__init__.py").write_text("raise ImportError('no pyarrow here')\n")
    target = tmp_path / "scores.parquet"
    result = rolecli("batch", folder, "-o", target, env={"PYTHONPATH": str(blocked)})
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "rolecli: error: writing Parquet needs pyarrow: pip install 'rolecli[parquet]'")
    assert not target.exists() and result.stdout == b""


@pytest.mark.parametrize("name", ["scores.txt", "scores", "scores.tsv", "scores.jsonl.bak"])
def test_a_suffix_that_names_no_format_is_a_usage_error(rolecli, folder, tmp_path, name):
    target = tmp_path / name
    result = rolecli("batch", folder, "-o", target)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert f"--output {target}: " in line and "names" in line and "format;" in line
    assert ".jsonl" in line and ".parquet" in line and "--format" in line
    assert not target.exists()
    chosen = rolecli("batch", folder, "-o", target, "--format", "jsonl", "-q")
    postings = len(list(folder.iterdir()))
    assert chosen.returncode == 5 and len(jsonl(target.read_bytes())) == postings


@pytest.mark.parametrize(("name", "format"), [
    ("s.jsonl", "jsonl"), ("s.NDJSON", "jsonl"), ("s.csv", "csv"), ("s.json", "json"),
])
def test_a_known_suffix_names_the_format(rolecli, folder, tmp_path, name, format):
    target = tmp_path / name
    assert rolecli("batch", folder, "-o", target, "-q").returncode == 5
    chosen = tmp_path / f"chosen.{format}"
    assert rolecli("batch", folder, "-o", chosen, "-f", format, "-q").returncode == 5
    assert target.read_bytes() == chosen.read_bytes()


def test_dev_null_is_written_as_a_stream(rolecli, folder):
    for extra in ([], ["--force"]):
        result = rolecli("batch", folder, "-o", "/dev/null", *extra)
        assert result.returncode == 5, result.stderr
        assert one_line(result.stderr).startswith(f"scored {len(list(folder.iterdir()))} items")
        assert result.stdout == b""
    resumed = rolecli("batch", folder, "-o", "/dev/null", "--resume")
    assert resumed.returncode == 2
    assert "--output /dev/null is a stream" in one_line(resumed.stderr)


def test_dev_stdout_is_stdout_even_when_stdout_is_a_file(rolecli, folder, tmp_path):
    expected = rolecli("batch", folder, "-f", "csv", "-q").stdout
    piped = rolecli("batch", folder, "-o", "/dev/stdout", "-f", "csv", "-q")
    assert piped.returncode == 5 and piped.stdout == expected
    as_jsonl = rolecli("batch", folder, "-o", "/dev/stdout", "-q")  # no suffix: jsonl
    assert jsonl(as_jsonl.stdout) == jsonl(rolecli("batch", folder, "-q").stdout)
    log = tmp_path / "log.csv"
    log.write_bytes(b"# earlier\n")
    with log.open("ab") as handle:  # the shell's >>: rows follow what is there
        result = subprocess.run([rolecli_executable(), "batch", str(folder), "-o", "/dev/stdout",
                                 "-f", "csv"], stdout=handle, stderr=subprocess.PIPE, timeout=120)
    assert result.returncode == 5, result.stderr
    assert log.read_bytes() == b"# earlier\n" + expected
    assert not list(tmp_path.glob("*.rolecli-run.json"))


def test_an_unwritable_stream_is_named(rolecli, folder):
    result = rolecli("batch", folder, "-o", "/dev/full")
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "rolecli: error: cannot write /dev/full (No space left on device)")


def test_a_fifo_gets_the_rows_as_they_are_scored(rolecli, tmp_path):
    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = rolecli("batch", *POSTINGS, "-o", fifo, "-q")
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in jsonl(received[0])] == [str(p) for p in POSTINGS]
    assert not (tmp_path / "rows.fifo.rolecli-run.json").exists()


def test_help_says_how_outputs_are_written(rolecli):
    shown = " ".join(rolecli("batch", "-h").stdout.decode().split())
    assert "its suffix (.jsonl .csv .json .parquet) names the format" in shown
    assert "a pipe or /dev/stdout is written as a stream: no lock, no run record, no --resume" \
        in shown


def test_parquet_of_many_rows_is_written_in_row_groups(invoke, tmp_path):
    texts = [p.read_text(encoding="utf-8") for p in POSTINGS]
    table = tmp_path / "many.jsonl"
    rows = 10_050
    table.write_text("".join(json.dumps({"id": f"r{i}", "text": texts[i % len(texts)][:300]})
                             + "\n" for i in range(rows)), encoding="utf-8")
    target = tmp_path / "many.parquet"
    result = invoke("batch", table, "-o", target, "-j", "1", "-q", "--id-column", "id")
    assert result.exit_code == 0, result.stderr
    data = pq.ParquetFile(target)
    assert data.metadata.num_rows == rows and data.metadata.num_row_groups == 2
    assert pq.read_table(target, columns=["id"]).column("id").to_pylist()[-1] == f"r{rows - 1}"


# -- --jobs auto ---------------------------------------------------------------------------


def _big_table(tmp_path, rows: int = 2_500):
    texts = [p.read_text(encoding="utf-8")[:400] for p in POSTINGS]
    table = tmp_path / "big.jsonl"
    table.write_text("".join(json.dumps({"id": f"r{i}", "text": texts[i % len(texts)]}) + "\n"
                             for i in range(rows)), encoding="utf-8")
    return table


@pytest.mark.slow
@pytest.mark.parametrize("pool_faster", [True, False], ids=["pool-kept", "pool-dropped"])
def test_jobs_auto_keeps_workers_only_when_they_score_faster(
        invoke, tmp_path, monkeypatch, pool_faster):
    import rolecli.batch.engines.local as local

    table = _big_table(tmp_path, rows=12_000)
    one = invoke("batch", table, "-f", "jsonl", "-q", "--jobs", "1")
    trials: list[local._Trial] = []

    class Trial(local._Trial):
        """The real trial, with this process's rate set so the pool wins or loses."""

        def __init__(self, here_rate: float, skip: int) -> None:
            super().__init__(0.0 if pool_faster else float("inf"), skip)
            trials.append(self)

    monkeypatch.setattr(local, "_Trial", Trial)
    monkeypatch.setattr(local, "default_jobs", lambda: 2)
    auto = invoke("batch", table, "-f", "jsonl", "-q")  # --jobs auto is the default
    assert auto.exit_code == 0, auto.stderr
    assert auto.stdout == one.stdout  # the same rows, in the same order, either way
    assert len(trials) == 1 and trials[0].kept is pool_faster
    assert trials[0].items >= local.AUTO_ITEMS


def test_jobs_auto_scores_a_small_input_in_process(invoke, tmp_path, monkeypatch):
    import rolecli.batch.engines.local as local

    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started for a small input")

    monkeypatch.setattr(local, "_pool_rows", no_pool)
    monkeypatch.setattr(local, "_OrderedPool", no_pool)
    monkeypatch.setattr(local, "default_jobs", lambda: 2)
    table = _big_table(tmp_path, rows=2 * local.AUTO_ITEMS - 1)  # not enough to try one
    for jobs in ("auto", "AUTO"):
        result = invoke("batch", table, "-f", "jsonl", "-q", "--jobs", jobs)
        assert result.exit_code == 0, result.stderr
        assert len(result.stdout.splitlines()) == 2 * local.AUTO_ITEMS - 1


@pytest.mark.parametrize("value", ["two", "", "1.5"])
def test_jobs_takes_a_number_or_auto(rolecli, value):
    result = rolecli("batch", *POSTINGS, "--jobs", value)
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        f"rolecli: error: --jobs must be a number of processes or auto (got {value!r})")


@pytest.mark.parametrize("options, flags", [
    ({"resume": True, "force": True}, ["--resume", "--force"]),
    ({"jobs": 0}, ["--jobs", "0"]),
])
def test_batch_errors_name_parameters_to_python_and_flags_to_the_shell(
        tmp_path, invoke, options, flags):
    """run_batch() tells a Python caller about its parameters; the CLI's line names flags."""
    from rolecli.batch.run import run_batch
    from rolecli.errors import UsageError

    output = tmp_path / "scores.jsonl"
    with pytest.raises(UsageError) as caught:
        run_batch([EXAMPLES], output=output, **options)
    assert "--" not in str(caught.value)
    result = invoke("batch", EXAMPLES, "-o", output, *flags)
    assert result.exit_code == 2
    assert one_line(result.stderr) == "rolecli: error: " + caught.value.cli_line()
    assert "--" in caught.value.cli_line()
    assert not output.exists()
