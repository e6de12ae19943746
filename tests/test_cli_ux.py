"""What a person meets at the terminal: one Ctrl-D, off-topic as a verdict, errors in
rolecli's words, `explain --html`, and help that reads cleanly at 80 columns."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time

import pytest
from conftest import EXAMPLES, one_line, rolecli_executable


def on_pty(args: list[str], send: bytes, timeout: float = 60,
           stderr_too: bool = False) -> tuple[int, str, str]:
    """Run the installed rolecli with stdin and stdout (and with `stderr_too`, stderr) on a
    real pseudo-terminal, type `send` into it, and return (exit code, terminal output,
    stderr when it is a pipe)."""
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("ROLECLI_MODEL", "NO_COLOR")}
    env.update(COLUMNS="80", LINES="40", TERM="xterm")
    process = subprocess.Popen([rolecli_executable(), *args], stdin=terminal, stdout=terminal,
                               stderr=terminal if stderr_too else subprocess.PIPE, env=env,
                               close_fds=True)
    os.close(terminal)
    time.sleep(0.5)  # let it reach its read (a terminal delivers what is typed in order)
    os.write(controller, send)
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    else:
        process.kill()
        pytest.fail(f"rolecli {' '.join(args)} still waiting on the terminal: {output!r}")
    code = process.wait(timeout=10)
    stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    os.close(controller)
    return code, output.decode("utf-8", "replace"), stderr


@pytest.mark.parametrize("command", ["classify", "explain"])
def test_one_ctrl_d_ends_a_posting_typed_at_the_terminal(command):
    posting = (EXAMPLES / "ml-engineer.txt").read_bytes().replace(b"\r", b"")[:3000]
    typed = posting.rstrip(b"\n") + b"\n" + b"\x04"  # a single Ctrl-D at a line's start
    code, output, stderr = on_pty([command, "-"], typed, timeout=60)
    assert code == 0, (output, stderr)
    assert "ML engineer" in output
    assert stderr.strip() == "reading a posting from the terminal; end with Ctrl-D"


def test_piped_stdin_gets_no_terminal_hint(rolecli):
    result = rolecli("classify", "-", "-f", "json",
                     input=(EXAMPLES / "ml-engineer.txt").read_bytes())
    assert result.returncode == 0 and result.stderr == b""


def test_off_topic_is_a_verdict_not_an_error(rolecli):
    result = rolecli("classify", EXAMPLES / "not-a-job.txt", env={"COLUMNS": "100"})
    assert result.returncode == 3
    assert result.stderr == b""  # no "rolecli: error:" above the verdict
    out = result.stdout.decode()
    assert "not an ML job description" in out
    assert "P(engineer)" not in out and "P(scientist)" not in out and "confidence" not in out
    assert "█" not in out and "why" in out


def test_off_topic_explain_shows_no_role_odds(rolecli):
    result = rolecli("explain", EXAMPLES / "not-a-job.txt", env={"COLUMNS": "100"})
    assert result.returncode == 3 and result.stderr == b""
    verdict = result.stdout.decode().splitlines()[0]
    assert "not an ML job description" in verdict and "P(engineer)" not in verdict


def test_off_topic_json_keeps_its_schema_and_one_plain_line(rolecli):
    result = rolecli("classify", EXAMPLES / "not-a-job.txt", "-f", "json")
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["off_topic"] is True and data["label"] is None and "probabilities" in data
    line = one_line(result.stderr)
    assert "error:" not in line and "not an ML job description (off-topic)" in line


@pytest.mark.parametrize("command,choices", [
    ("classify", "text, json"), ("explain", "text, json"),
    ("batch", "table, csv, jsonl, json, parquet"),
])
def test_a_bad_choice_is_said_plainly(rolecli, command, choices):
    result = rolecli(command, EXAMPLES / "ml-engineer.txt", "--format", "yaml")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith(f"rolecli: error: --format must be one of {choices} (got 'yaml')")
    assert "Value error" not in line and "is not one of" not in line


def test_two_postings_to_classify_point_to_batch(rolecli):
    posting = EXAMPLES / "ml-engineer.txt"
    result = rolecli("classify", posting, EXAMPLES / "data-scientist.txt")
    assert result.returncode == 2
    assert "rolecli batch" in one_line(result.stderr)


def test_a_model_that_does_not_exist_is_a_usage_error(rolecli, tmp_path):
    result = rolecli("classify", EXAMPLES / "ml-engineer.txt", "-m", tmp_path / "nope")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "no such directory" in line and "rolecli train" in line
    broken = tmp_path / "broken"
    broken.mkdir()  # exists, but is no model: still a model problem
    assert rolecli("classify", EXAMPLES / "ml-engineer.txt", "-m", broken).returncode == 4


@pytest.mark.parametrize("group", ["model", "data"])
def test_a_group_without_a_subcommand_prints_its_help(rolecli, group):
    result = rolecli(group)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert out.startswith(f"Usage: rolecli {group}") and "Commands:" in out
    assert "error:" not in out + result.stderr.decode() and "\\n" not in out


def test_explain_html_writes_the_page_and_says_so(rolecli, tmp_path):
    page = tmp_path / "report.html"
    result = rolecli("explain", EXAMPLES / "ml-engineer.txt", "--html", page)
    assert result.returncode == 0
    assert result.stdout == b""
    assert one_line(result.stderr) == f"wrote {page}"
    assert page.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    asked = rolecli("explain", EXAMPLES / "ml-engineer.txt", "--html", page, "-f", "text")
    assert "verdict" in asked.stdout.decode()


def _commands() -> list[list[str]]:
    from rolecli.cli.main import COMMANDS, GROUPS

    found: list[list[str]] = [[]]
    found += [[name] for name in COMMANDS]
    for group, (subcommands, _) in GROUPS.items():
        found += [[group]] + [[group, sub] for sub in subcommands]
    return found


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "rolecli")
def test_help_reads_cleanly_at_80_columns(rolecli, command):
    result = rolecli(*command, "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    for line in text.splitlines():
        assert len(line) <= 80, line
    assert not re.search(r"<(list\[|int|str|path|float|text\|)", text), text
    assert "error:" not in text
    if "Commands:" in text:
        listing = text.split("Commands:", 1)[1].split("\n\n", 1)[0]
        assert "..." not in listing, listing
    if command and command[0] in ("model", "data") and len(command) == 1:
        return  # a group: its subcommands have the footers
    footer = text[text.index("Exit codes:"):]
    assert (" 5 batch" in footer) == (command in ([], ["batch"])), footer


def test_h_is_help_everywhere(rolecli):
    for command in _commands():
        result = rolecli(*command, "-h", env={"COLUMNS": "80"})
        assert result.returncode == 0 and result.stdout.startswith(b"Usage:"), command


def test_show_completion_prints_the_script_for_the_calling_shell():
    # Typer finds the shell among the process's ancestors, so run it from a bash (the
    # trailing `true` keeps bash from exec-ing rolecli in its place).
    result = subprocess.run(
        ["bash", "-c", f"'{rolecli_executable()}' --show-completion; true"],
        capture_output=True, stdin=subprocess.DEVNULL, timeout=60,
    )
    assert b"complete -o default -F _rolecli_completion rolecli" in result.stdout, result.stderr


def test_completion_completes_commands_and_options(rolecli):
    def complete(words: str) -> list[str]:
        env = {"_ROLECLI_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
        result = rolecli(env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.decode().split()

    assert complete("rolecli cl") == ["classify"]
    assert "--format" in complete("rolecli batch --fo")


def test_batch_on_a_terminal_clears_its_bar_and_keeps_ids_whole(tmp_path):
    folder = tmp_path / "postings"
    for name in ("senior-ml-platform.txt", "scientist-recsys.txt"):
        (folder / "team").mkdir(parents=True, exist_ok=True)
        (folder / "team" / name).write_bytes((EXAMPLES / "ml-engineer.txt").read_bytes())
    (folder / "broken.txt").write_bytes(b"")
    code, output, _ = on_pty(["batch", str(folder)], b"", stderr_too=True)
    assert code == 5, output  # the empty file is an error row
    # The bar's last frame is erased (ESC [2K) before the table's first line is written.
    table_start = re.search(r"(\x1b\[[0-9;]*m)*id +", output).start()
    bar_end = output.rindex("items/s", 0, table_start)
    assert "\x1b[2K" in output[bar_end:table_start], repr(output[bar_end - 40:table_start + 40])
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output[table_start:]).replace("\r", "")
    assert "0:00:00id" not in output and "%id" not in output
    lines = [line for line in screen.splitlines() if line.strip()]
    assert lines[0].lstrip().startswith("id"), screen
    assert set(lines[1].strip()) <= set("━╇┃╋─┼"), screen  # the rule under the header
    for name in ("team/senior-ml-platform.txt", "team/scientist-recsys.txt"):
        assert any(line.startswith(name) for line in lines), screen
    table = lines[:next(i for i, line in enumerate(lines) if line.startswith("errors:"))]
    assert all(len(line) <= 80 for line in table), screen
    assert "errors:" in screen and "no text to classify" in screen, screen  # its reason
    assert not re.search(r"\d\.\d{5,}|e-0", screen), screen  # 4 decimals, never 1e-05


def test_batch_reads_jsonl_postings_or_paths_from_stdin(rolecli):
    postings = "".join(
        json.dumps({"id": name, "text": (EXAMPLES / name).read_text(encoding="utf-8")}) + "\n"
        for name in ("ml-engineer.txt", "data-scientist.txt")
    )
    result = rolecli("batch", "-", "-f", "jsonl", input=postings.encode())
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["label"]) for r in rows] == [("ml-engineer.txt", "engineer"),
                                                     ("data-scientist.txt", "scientist")]
    listed = f"{EXAMPLES / 'ml-engineer.txt'}\n\n{EXAMPLES / 'research-scientist.txt'}\n"
    by_path = rolecli("batch", "-", "-f", "csv", "--precision", "2", input=listed.encode())
    assert by_path.returncode == 0, by_path.stderr
    lines = by_path.stdout.decode().splitlines()
    assert len(lines) == 3 and lines[1].split(",")[3] in ("0.99", "1.00"), lines


@pytest.mark.parametrize("args,env,coloured", [
    (["--color", "always"], {}, True),
    (["--color", "always"], {"NO_COLOR": "1"}, True),  # the option wins over the variable
    (["--color", "never"], {"FORCE_COLOR": "1"}, False),
    ([], {"FORCE_COLOR": "1"}, True),  # auto: FORCE_COLOR honoured on a pipe
    ([], {}, False),  # auto on a pipe: plain
    ([], {"NO_COLOR": "1", "FORCE_COLOR": ""}, False),
])
def test_color_option_and_environment(rolecli, args, env, coloured):
    saved = {k: os.environ.pop(k) for k in ("NO_COLOR", "FORCE_COLOR") if k in os.environ}
    try:
        result = rolecli(*args, "classify", EXAMPLES / "ml-engineer.txt",
                         env={k: v for k, v in env.items() if v})
    finally:
        os.environ.update(saved)
    assert result.returncode == 0, result.stderr
    assert (b"\x1b[" in result.stdout) is coloured


def test_a_bad_color_is_a_usage_error(rolecli):
    result = rolecli("--color", "sometimes", "classify", EXAMPLES / "ml-engineer.txt")
    assert result.returncode == 2
    assert "--color must be one of auto, always, never" in one_line(result.stderr)
