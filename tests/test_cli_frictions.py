"""What a new user trips over, through the real CLI: choices in --help, --color after the
command, classify --explain saying its verdict once, a readable model card, a missing
model named as given, a folder's README, the summary on a terminal, the bar's total and
ETA, and `data build` refusing data it would turn into an empty count file."""

from __future__ import annotations

import csv
import json
import re

import pytest
from conftest import EXAMPLES, one_line
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli_ux import on_pty

ANSI = re.compile(rb"\x1b\[[0-9;]*m")


@pytest.mark.parametrize(("command", "option", "choices"), [
    (["batch"], "--format", "[table|csv|jsonl|json|parquet]"),
    (["batch"], "--engine", "[local|dask]"),
    (["classify"], "--format", "[text|json]"),
    (["explain"], "--format", "[text|json]"),
    (["evaluate"], "--format", "[text|json]"),
    (["model", "info"], "--format", "[text|json]"),
])
def test_help_lists_the_choices_of_an_option(rolecli, command, option, choices):
    result = rolecli(*command, "-h")
    assert result.returncode == 0
    help_text = " ".join(result.stdout.decode().split())
    assert f"{option} {choices}" in help_text, help_text
    assert f"{option} TEXT" not in help_text


@pytest.mark.parametrize("command", [
    ["classify", EXAMPLES / "ml-engineer.txt"],
    ["explain", EXAMPLES / "ml-engineer.txt"],
    ["batch", EXAMPLES, "-f", "table"],
    ["model", "info"],
])
def test_color_works_after_the_command_as_before_it(rolecli, command):
    after = rolecli(*command, "--color", "always", env={"NO_COLOR": "1"})
    before = rolecli("--color", "always", *command, env={"NO_COLOR": "1"})
    assert after.returncode == 0, after.stderr
    assert ANSI.search(after.stdout), after.stdout[:300]
    assert after.stdout == before.stdout
    plain = rolecli(*command, "--color", "never", env={"FORCE_COLOR": "1"})
    assert plain.returncode == 0 and not ANSI.search(plain.stdout)
    wrong = rolecli(*command, "--color", "sometimes")
    assert wrong.returncode == 2 and "--color" in one_line(wrong.stderr)


def test_classify_explain_gives_the_verdict_once(rolecli):
    posting = EXAMPLES / "mixed-research-engineer.txt"
    shown = rolecli("classify", posting, "--explain").stdout.decode()
    explained = rolecli("explain", posting).stdout.decode()
    verdicts = re.findall(r"^\W*verdict\b", shown, re.M)
    assert len(verdicts) == 1, shown
    reason = json.loads(rolecli("classify", posting, "-f", "json").stdout)["reasons"][0]
    assert " ".join(shown.split()).count(" ".join(reason.split()[:6])) == 1
    # Everything explain adds after its verdict is there: the lines and the arithmetic.
    for part in ("lines that decided it", "The exact arithmetic"):
        assert part in shown and part in explained


def test_model_info_shows_no_python_internals(rolecli):
    result = rolecli("model", "info")
    assert result.returncode == 0, result.stderr
    shown = result.stdout.decode()
    for internal in ("None", "True", "False", "{'", "['", "sha256 )"):
        assert internal not in shown, internal
    card = json.loads((EXAMPLES.parent / "models" / "default" / "card.json").read_text())
    flat = " ".join(shown.split())
    for key, value in card["calibration"].items():
        if isinstance(value, (str, int)):
            assert f"{key} {value}" in flat


def test_a_missing_model_is_named_as_it_was_given(rolecli, tmp_path):
    missing = tmp_path / "no-model"
    by_option = rolecli("classify", EXAMPLES / "ml-engineer.txt", "--model", missing)
    by_env = rolecli("classify", EXAMPLES / "ml-engineer.txt", env={"ROLECLI_MODEL": str(missing)})
    assert by_option.returncode == by_env.returncode == 2
    assert one_line(by_option.stderr).startswith(f"rolecli: error: --model {missing}: no such")
    env_line = one_line(by_env.stderr)
    assert env_line.startswith(f"rolecli: error: ROLECLI_MODEL={missing}: no such directory")
    assert "--model" not in env_line and "unset ROLECLI_MODEL" in env_line
    help_text = " ".join(rolecli("classify", "-h").stdout.decode().split())
    assert "2 usage error (bad option, missing path or --model" in help_text
    assert "4 model files missing, corrupted or incompatible" in help_text


def test_a_folders_readme_and_license_are_not_postings(rolecli, tmp_path):
    folder = tmp_path / "postings"
    folder.mkdir()
    posting = (EXAMPLES / "ml-engineer.txt").read_bytes()
    (folder / "role.txt").write_bytes(posting)
    for name in ("README.md", "readme.txt", "LICENSE.txt", "CHANGELOG.md", "Contributing.md"):
        (folder / name).write_bytes(posting)
    result = rolecli("batch", folder)
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in map(json.loads, result.stdout.splitlines())] == ["role.txt"]
    named = rolecli("batch", folder / "README.md")  # named as a PATH, it is scored
    assert [row["id"] for row in map(json.loads, named.stdout.splitlines())] == [
        str(folder / "README.md")]
    examples = rolecli("batch", EXAMPLES)
    ids = [row["id"] for row in map(json.loads, examples.stdout.splitlines())]
    assert ids == sorted(p.name for p in EXAMPLES.glob("*.txt"))


def _summary_words(text: str) -> list[str]:
    # Timings vary between runs; every other word must be the same, whole.
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")
    return re.sub(r"[\d.]+s \(\d+ items/s\)", "T", text).split()


def test_the_summary_wraps_between_words_on_a_terminal(rolecli, tmp_path):
    folder = tmp_path / "a-folder-with-a-name-long-enough-to-matter"
    folder.mkdir()
    for posting in EXAMPLES.glob("*.txt"):
        (folder / posting.name).write_bytes(posting.read_bytes())
    (folder / "empty.txt").write_bytes(b"")
    table = tmp_path / "rows.jsonl"
    logged = rolecli("batch", folder, "-o", table)
    line = one_line(logged.stderr)  # not a terminal: one line, for logs
    assert len(line) > 80
    table.unlink()
    code, screen, _ = on_pty(["batch", str(folder), "-o", str(table)], b"", stderr_too=True)
    assert code == 5, screen
    shown = [row for row in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen).replace("\r", "")
             .splitlines() if row.strip()]
    start = next(i for i, row in enumerate(shown) if row.startswith("scored "))
    summary = shown[start:]
    assert len(summary) >= 2 and all(len(row) <= 80 for row in summary), summary
    assert _summary_words("\n".join(summary)) == _summary_words(line)


def test_the_progress_bar_knows_a_tables_total(tmp_path):
    postings = [p.read_text(encoding="utf-8") for p in EXAMPLES.glob("*.txt")]
    rows = 3000
    table = tmp_path / "postings.jsonl"
    with table.open("w", encoding="utf-8") as handle:
        for number in range(rows):
            handle.write(json.dumps({"text": postings[number % len(postings)]}) + "\n\n")
    code, screen, _ = on_pty(["batch", str(table), "-o", str(tmp_path / "rows.jsonl")], b"",
                             stderr_too=True, timeout=120)
    assert code == 0, screen[-2000:]
    assert f"/{rows}" in screen, screen[-2000:]
    assert "/?" not in screen


_CELLS = st.text(alphabet=st.sampled_from([*'ab ,"\n\r\t{}', "é", "\u2028", "\x85"]),
                 max_size=12)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_CELLS, max_size=12), kind=st.sampled_from(["csv", "jsonl"]))
def test_a_tables_count_is_the_number_of_rows_batch_reads(tmp_path_factory, lines, kind):
    from rolecli.io.tables import count_rows, records

    folder = tmp_path_factory.mktemp("count")
    path = folder / f"t.{kind}"
    if kind == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "id"])
            for cell in lines:
                writer.writerow([cell, "x"] if cell != "" else [])
    else:
        path.write_text("".join(json.dumps(c) if "a" in c else c for c in lines) + "\n",
                        encoding="utf-8")
    assert count_rows(path) == sum(1 for _ in records(path))


def test_data_build_refuses_postings_from_one_source(rolecli, tmp_path):
    table = tmp_path / "mine.csv"
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for posting in sorted(EXAMPLES.glob("*.txt")):
            writer.writerow([posting.read_text(encoding="utf-8"), "engineer"])
    output = tmp_path / "mine.counts.jsonl.gz"
    result = rolecli("data", "build", table, "-o", output)
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert "mine.csv: the postings come from 1 source" in line and "'source' column" in line
    assert not output.exists() and not (tmp_path / "mine.manifest.json").exists()
    too_strict = rolecli("data", "build", table, "-o", output, "--min-sources", "1",
                         "--min-postings", "50")
    assert too_strict.returncode == 3
    assert "nothing written" in one_line(too_strict.stderr) and not output.exists()
