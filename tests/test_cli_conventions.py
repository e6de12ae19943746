"""CLI conventions: -h on every command, shell completion, and commands that import only
what they use (start-up time is measured by bench/startup.py, see docs/speed.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import EXAMPLES, rolecli_executable

COMMANDS = [[], ["classify"], ["explain"], ["batch"], ["train"], ["evaluate"], ["calibrate"],
            ["serve"], ["model"], ["model", "info"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "rolecli")
def test_dash_h_is_help_on_every_command(rolecli, command):
    short, long = rolecli(*command, "-h"), rolecli(*command, "--help")
    assert short.returncode == long.returncode == 0, short.stderr
    assert short.stdout == long.stdout
    assert b"-h, --help" in short.stdout and b"Usage: rolecli" in short.stdout


def test_root_help_offers_completion(rolecli):
    out = rolecli("--help").stdout.decode()
    assert "--install-completion" in out and "--show-completion" in out


def _complete(env: dict[str, str]) -> str:
    result = subprocess.run([rolecli_executable()], env={**_clean_env(), **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}


def test_completion_protocol_for_bash_zsh_and_fish():
    """What the installed scripts ask rolecli, answered for each shell."""
    bash = _complete({"_ROLECLI_COMPLETE": "complete_bash", "COMP_WORDS": "rolecli cl",
                      "COMP_CWORD": "1"})
    assert bash.split() == ["classify"]
    options = _complete({"_ROLECLI_COMPLETE": "complete_bash",
                         "COMP_WORDS": "rolecli classify --fo", "COMP_CWORD": "2"})
    assert options.split() == ["--format"]
    zsh = _complete({"_ROLECLI_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "rolecli ba"})
    assert '"batch"' in zsh
    fish = _complete({"_ROLECLI_COMPLETE": "complete_fish", "_TYPER_COMPLETE_ARGS": "rolecli mod",
                      "_TYPER_COMPLETE_FISH_ACTION": "get-args"})
    assert fish.startswith("model")


def _in_shell(shell: str, script: str) -> str:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    path = str(__import__("pathlib").Path(rolecli_executable()).parent)
    env = {**_clean_env(), "PATH": f"{path}:{_clean_env().get('PATH', '')}"}
    # `; true` keeps the shell alive as rolecli's parent, which is how rolecli detects it.
    result = subprocess.run([shell, "-c", f"{script}; true"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_bash_completes_a_command_through_its_own_script():
    out = _in_shell("bash", 'source <(rolecli --show-completion); COMP_WORDS=(rolecli expl); '
                            'COMP_CWORD=1; _rolecli_completion rolecli; echo "${COMPREPLY[@]}"')
    assert out.split() == ["explain"]


def test_fish_completes_a_command_through_its_own_script():
    out = _in_shell("fish", 'rolecli --show-completion | source; complete -C "rolecli cl"')
    assert out.startswith("classify\t")


def test_zsh_gets_a_zsh_script():
    out = _in_shell("zsh", "rolecli --show-completion")
    assert out.startswith("#compdef rolecli")


def test_install_completion_writes_into_home(tmp_path):
    _in_shell("bash", f"HOME={tmp_path} rolecli --install-completion")
    script = tmp_path / ".bash_completions" / "rolecli.sh"
    assert "_rolecli_completion" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()


def _modules_after(*args: str) -> list[str]:
    code = (
        "import sys, json\n"
        "from rolecli.cli.main import run\n"
        f"sys.argv = ['rolecli', *{list(args)!r}]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=_clean_env(), timeout=60)
    return list(json.loads(result.stderr.strip().splitlines()[-1]))


HEAVY = {"pydantic", "sklearn", "scipy", "numpy", "joblib", "pandas"}


def _tops(modules: list[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_classify_json_imports_only_what_it_uses():
    modules = _modules_after("classify", str(EXAMPLES / "ml-engineer.txt"), "-f", "json")
    assert not _tops(modules) & (HEAVY | {"rich", "charset_normalizer", "bs4", "pypdf", "docx"})
    commands = {m for m in modules if m.startswith("rolecli.cli.")}
    assert commands == {"rolecli.cli.main", "rolecli.cli.boundary", "rolecli.cli.common",
                        "rolecli.cli.classify"}
    assert {m for m in modules if m.startswith("rolecli.render")} == {
        "rolecli.render", "rolecli.render.jsonout"}  # JSON out, no Rich view


def test_the_text_panel_adds_rich_only():
    modules = _modules_after("classify", str(EXAMPLES / "ml-engineer.txt"))
    assert "rich.console" in modules and not _tops(modules) & HEAVY


def test_help_and_version_load_no_scoring_machinery():
    help_modules = _modules_after("--help")
    assert not _tops(help_modules) & (HEAVY | {"rich"})
    assert "rolecli.model.scorer" not in help_modules
    version_modules = _modules_after("--version")
    assert not _tops(version_modules) & (HEAVY | {"rich"})
    assert not any(m.startswith("rolecli.cli.") and m not in {
        "rolecli.cli.main", "rolecli.cli.boundary", "rolecli.cli.common"}
        for m in version_modules)


def test_one_error_boundary():
    """Only cli/boundary.py catches Ctrl-C, SIGTERM, broken pipes and errors at large: the
    commands, the app and the console script's entry all go through it."""
    import ast
    from pathlib import Path

    import rolecli

    package = Path(rolecli.__file__).parent
    broad = {"BaseException", "Exception", "KeyboardInterrupt", "Terminated", "BrokenPipeError",
             "SystemExit"}
    catching = set()
    for path in sorted((package / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler):
                names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)} \
                    if node.type else {"BaseException"}
                if names & broad:
                    catching.add(path.name)
    assert catching == {"boundary.py"}
