"""Screenshots of `rolecli explain` in a terminal, in colour and with NO_COLOR.

Runs the installed `rolecli` as a user would (a 110-column terminal), turns its output into
an HTML page with Rich, and has headless Chromium (Debian's `chromium`) photograph it.
Usage: python docs/screenshots/terminal.py [POSTING]
(default POSTING: examples/mixed-research-engineer.txt)
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.terminal_theme import DEFAULT_TERMINAL_THEME, MONOKAI
from rich.text import Text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
COLUMNS = 110
LINE_PX = 19


def terminal_output(posting: Path, colour: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update({"COLUMNS": str(COLUMNS), "LINES": "200", "TERM": "xterm-256color"})
    env["FORCE_COLOR" if colour else "NO_COLOR"] = "1"
    rolecli = shutil.which("rolecli", path=str(Path(sys.executable).parent)) or "rolecli"
    result = subprocess.run([rolecli, "explain", str(posting)], capture_output=True, env=env,
                            check=True)
    return result.stdout.decode("utf-8")


def photograph(output: str, target: Path, colour: bool) -> None:
    console = Console(record=True, width=COLUMNS, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", no_color=not colour)
    console.print(Text.from_ansi(output), end="")
    page = console.export_html(theme=MONOKAI if colour else DEFAULT_TERMINAL_THEME,
                               inline_styles=True)
    page = page.replace("<body>", '<body style="margin:0;padding:12px">')
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    height = LINE_PX * (output.count("\n") + 1) + 40
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "view.html"
        html.write_text(page, encoding="utf-8")
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp}/profile", f"--window-size=1140,{height}",
             f"--screenshot={target}", html.as_uri()],
            capture_output=True, check=True, timeout=120,
        )


def main() -> None:
    default = ROOT / "examples" / "mixed-research-engineer.txt"
    posting = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    for colour, name in ((True, "explain-terminal.png"), (False, "explain-no-color.png")):
        photograph(terminal_output(posting, colour), HERE / name, colour)
        print(HERE / name)


if __name__ == "__main__":
    main()
