"""Regenerate every example of output in README.md and docs/*.md from a real run.

    python docs/examples.py            # rewrite the examples that differ
    python docs/examples.py --check    # exit 1, with a diff, if any differs (the tests run it)

An example is a fenced block right after a marker that says how to make it:

    <!-- example: rolecli classify examples/ml-engineer.txt -f json | shorten -->
    ```json
    ...
    ```

or a value inside a sentence: `<!-- value: rows data/offtopic.csv -->200<!-- /value -->`.

Commands run as a user runs them: the installed `rolecli` next to this interpreter, in the
repository root, 80 columns wide, no colour, the shipped model. What follows `|` shapes
the output (see FILTERS); `serve METHOD PATH BODY` asks a live `rolecli serve`. Timings,
ports and clock times vary from run to run: they are compared as placeholders, and an
example that differs only in them is left as it is. Nothing else is normalised, so model
ids, probabilities and wording are always today's: after retraining, run this script.

Measured records (bench/*.py transcripts in docs/speed.md, docs/serve.md and
docs/bad-input.md) are dated runs, not examples, and are not regenerated here.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import http.client
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT / "docs" / "inputs"  # tables and requests the examples read (team-written)
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(
    r"(?P<marker><!-- example: (?P<spec>.*?) -->\n)"
    r"(?P<fence>```[^\n]*\n)(?P<body>.*?)(?P<end>^```$)",
    re.S | re.M,
)
VALUE = re.compile(r"<!-- value: (?P<spec>.*?) -->(?P<body>.*?)<!-- /value -->", re.S)
# What varies between runs of the same code: compared as placeholders, never regenerated.
VARYING = [
    (re.compile(r"\d+(?:\.\d+)?s \(\d+ items/s\)"), "Ns (N items/s)"),
    (re.compile(r"\b\d+(?:\.\d+)? ms\b"), "N ms"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"), "YYYY-MM-DD hh:mm:ss"),
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:PORT"),
    # Where the model is installed (the checkout, or site-packages) differs per machine.
    (re.compile(r"^│ directory +\S+ +│$", re.M), "│ directory PATH │"),
]
# A long JSON array is cut after this many items in a shortened example.
SHORT_ITEMS = 4


def normalised(text: str) -> str:
    for pattern, placeholder in VARYING:
        text = pattern.sub(placeholder, text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


# -- running commands ----------------------------------------------------------------------


def rolecli_executable() -> str:
    found = shutil.which("rolecli", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("the installed `rolecli` was not found next to this Python; "
                         "pip install -e '.[test]' first")
    return found


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ROLECLI_MODEL", "ROLECLI_TOKEN", "FORCE_COLOR", "PYTHONPATH")}
    env.update(COLUMNS="80", LINES="40", NO_COLOR="1", TERM="dumb", LC_ALL="C.UTF-8")
    env.update(extra or {})
    return env


class Run:
    """One command's result: stdout, stderr, exit code."""

    def __init__(self, stdout: str, stderr: str, code: int) -> None:
        self.stdout, self.stderr, self.code = stdout, stderr, code


def run_rolecli(command: str, env: dict[str, str] | None = None) -> Run:
    """`rolecli ARGS [< FILE]` as a shell would run it, in the repository root."""
    words = shlex.split(command)
    stdin = b""
    if "<" in words:
        at = words.index("<")
        stdin = (ROOT / words[at + 1]).read_bytes()
        words = words[:at] + words[at + 2:]
    if words[0] != "rolecli":
        raise SystemExit(f"not a rolecli command: {command}")
    result = subprocess.run([rolecli_executable(), *words[1:]], input=stdin, cwd=ROOT,
                            env=environment(env), capture_output=True, timeout=600)
    return Run(result.stdout.decode("utf-8"), result.stderr.decode("utf-8"), result.returncode)


@contextmanager
def without(module: str) -> Iterator[dict[str, str]]:
    """An environment in which `import module` fails, as it does without its extra."""
    with tempfile.TemporaryDirectory(prefix="rolecli-docs-") as folder:
        package = Path(folder) / module
        package.mkdir()
        (package / "__init__.py").write_text(f"raise ImportError('no {module} here')\n")
        yield {"PYTHONPATH": folder}


class Server:
    """A live `rolecli serve --port 0`, its log kept in a file."""

    def __init__(self) -> None:
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed by close())
            prefix="rolecli-docs-serve-", suffix=".log")
        self.process = subprocess.Popen(
            [rolecli_executable(), "serve", "--port", "0"], cwd=ROOT, env=environment(),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while not (found := re.search(r"http://127\.0\.0\.1:(\d+)", self.text())):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"rolecli serve did not start: {self.text()}")
            time.sleep(0.05)
        self.port = int(found.group(1))
        while True:  # the line is written as it starts to listen
            try:
                http.client.HTTPConnection("127.0.0.1", self.port, timeout=5).connect()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def text(self) -> str:
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")

    def request(self, method: str, path: str, body: str = "",
                content_type: str = "application/json") -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Content-Type": content_type} if body else {}
            connection.request(method, path, body=body.encode("utf-8") or None, headers=headers)
            return connection.getresponse().read().decode("utf-8")
        finally:
            connection.close()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def python_session(code: str) -> str:
    """`a; b; expression` as an interactive session shows it: each statement after `>>> `,
    then the repr of the last one's value, run in the repository root."""
    statements = [part.strip() for part in code.split("; ")]
    program = "\n".join(statements[:-1]) + f"\nprint(repr({statements[-1]}))\n"
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=environment(),
                            capture_output=True, text=True, timeout=120)
    if result.returncode:
        raise SystemExit(f"python example failed: {code}\n{result.stderr}")
    return "".join(f">>> {line}\n" for line in statements) + result.stdout


# -- filters: what to show of a run ----------------------------------------------------------


def shorten(value: Any) -> Any:
    """A JSON value with long arrays cut to their first items and "…"."""
    if isinstance(value, dict):
        return {key: shorten(item) for key, item in value.items()}
    if isinstance(value, list):
        kept = [shorten(item) for item in value[:SHORT_ITEMS]]
        return [*kept, "…"] if len(value) > SHORT_ITEMS else kept
    return value


def dumped(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False) + "\n"


def _keys(text: str, names: str) -> str:
    data = json.loads(text)
    return dumped({name: data[name] for name in names.split(",")})


def _lines(text: str, spec: str) -> str:
    """Lines FIRST-LAST (1-based), with "…" where lines were left out."""
    first, _, last = spec.partition("-")
    lines = text.splitlines(keepends=True)
    start, end = int(first) - 1, int(last) if last else len(lines)
    shown = lines[start:end]
    return ("…\n" if start else "") + "".join(shown) + ("…\n" if end < len(lines) else "")


FILTERS: dict[str, Callable[[str, str], str]] = {
    "shorten": lambda text, _: dumped(shorten(json.loads(text))),
    "pretty": lambda text, _: dumped(json.loads(text)),
    "keys": _keys,
    "lines": _lines,
    "jsonl-shorten": lambda text, _: "".join(
        json.dumps(shorten(json.loads(line)), ensure_ascii=False) + "\n"
        for line in text.splitlines()),
}


# -- examples -------------------------------------------------------------------------------


class Maker:
    """Makes each example's text; servers start once, when an example needs one."""

    def __init__(self) -> None:
        self.server: Server | None = None

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def example(self, spec: str) -> str:
        """The text of a block example."""
        command, *steps = [part.strip() for part in spec.split(" | ")]
        if command.startswith("serve "):
            return self._shaped(self._serve(command), steps)
        if command == "serve-log":
            return self._serve_log()
        if command.startswith("python>>> "):
            return self._shaped(python_session(command.removeprefix("python>>> ")), steps)
        env: dict[str, str] = {}
        with _modifiers(steps, env):
            run = run_rolecli(command, env)
        stream = "stdout"
        text_steps = []
        for step in steps:
            name = step.split(" ", 1)[0]
            if name in ("stderr", "both", "stdout"):
                stream = name
            elif name != "without":
                text_steps.append(step)
        text = {"stdout": run.stdout, "stderr": run.stderr,
                "both": run.stdout + run.stderr}[stream]
        return self._shaped(text, text_steps)

    def _shaped(self, text: str, steps: list[str]) -> str:
        for step in steps:
            name, _, argument = step.partition(" ")
            text = FILTERS[name](text, argument)
        text = "\n".join(line.rstrip() for line in text.split("\n"))  # (a panel's padding)
        return text if text.endswith("\n") or not text else text + "\n"

    def _serve(self, command: str) -> str:
        """`serve METHOD PATH [FILE]`: the answer to a request whose body is FILE's bytes."""
        if self.server is None:
            self.server = Server()
        _, method, path, *body = shlex.split(command)
        payload = (ROOT / body[0]).read_text(encoding="utf-8") if body else ""
        kind = "application/x-ndjson" if path == "/v1/batch" else "application/json"
        return self.server.request(method, path, payload, kind)

    def _serve_log(self) -> str:
        """A fresh server's log for four requests: health, a posting, a batch, bad JSON."""
        server = Server()
        try:
            posting = json.dumps({"text": (ROOT / "examples" / "ml-engineer.txt").read_text()})
            server.request("GET", "/healthz")
            server.request("POST", "/v1/classify", posting)
            server.request("POST", "/v1/batch", (INPUTS / "postings.jsonl").read_text(),
                           "application/x-ndjson")
            server.request("POST", "/v1/classify", '{"text": ')
            deadline = time.monotonic() + 10
            while len(server.text().splitlines()) < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            return self._shaped(server.text(), [])
        finally:
            server.close()

    def value(self, spec: str) -> str:
        """The text of an inline value."""
        kind, _, argument = spec.partition(" ")
        if kind == "exit":
            return str(run_rolecli(argument).code)
        if kind == "rows":
            return f"{_csv_rows(*argument.split(' ', 2)):,}"
        if kind == "manifest":
            return f"{_manifest(argument):,}"
        if kind == "megabytes":
            return f"{(ROOT / argument).stat().st_size / 1e6:.1f}"
        if kind == "json":
            path, _, command = argument.partition(": ")
            found: Any = json.loads(run_rolecli(command).stdout)
            for key in path.split("."):
                found = found[int(key)] if isinstance(found, list) else found[key]
            return str(found)
        raise SystemExit(f"unknown value kind {kind!r} in <!-- value: {spec} -->")


@contextmanager
def _modifiers(steps: list[str], env: dict[str, str]) -> Iterator[None]:
    modules = [step.split(" ", 1)[1] for step in steps if step.startswith("without ")]
    if not modules:
        yield
        return
    with without(modules[0]) as extra:
        env.update(extra)
        yield


def _csv_rows(path: str, field: str = "", pattern: str = "") -> int:
    """`rows FILE [FIELD REGEX]`: the rows of a CSV (whose FIELD matches REGEX)."""
    previous = csv.field_size_limit(sys.maxsize)
    try:
        with (ROOT / path).open(newline="", encoding="utf-8") as handle:
            return sum(1 for row in csv.DictReader(handle)
                       if not field or re.fullmatch(pattern, row[field]))
    finally:
        csv.field_size_limit(previous)


def _manifest(spec: str) -> int:
    """A count from a count file's manifest (data/postings.manifest.json unless the spec
    starts with another data/NAME.manifest.json): `rows` (postings kept), `input NAME` (the
    rows read from that file) or `label LABEL`."""
    file = "postings.manifest.json"
    if spec.split(" ", 1)[0].endswith(".manifest.json"):
        file, _, spec = spec.partition(" ")
    manifest = json.loads((ROOT / "data" / file).read_text())
    kind, _, name = spec.partition(" ")
    if kind == "rows":
        return int(manifest["rows"])
    if kind == "input":
        return int(next(item["rows"] for item in manifest["inputs"] if item["file"] == name))
    if kind == "label":
        return int(manifest["labels"][name])
    raise SystemExit(f"unknown manifest figure {spec!r}")


# -- the documents -----------------------------------------------------------------------------


def regenerated(text: str, maker: Maker) -> str:
    """The document with every example made anew (kept as it was where only what varies
    between runs differs)."""

    def block(match: re.Match[str]) -> str:
        fresh = maker.example(match.group("spec"))
        body = match.group("body")
        if normalised(fresh) == normalised(body):
            fresh = body
        return match.group("marker") + match.group("fence") + fresh + match.group("end")

    def value(match: re.Match[str]) -> str:
        fresh = maker.value(match.group("spec"))
        return match.group(0).replace(f"-->{match.group('body')}<!--", f"-->{fresh}<!--", 1)

    return VALUE.sub(value, BLOCK.sub(block, text))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 and show a diff if an example is stale")
    args = parser.parse_args()
    maker = Maker()
    stale = []
    try:
        for path in DOCUMENTS:
            text = path.read_text(encoding="utf-8")
            fresh = regenerated(text, maker)
            if fresh == text:
                continue
            stale.append(path)
            name = path.relative_to(ROOT).as_posix()
            if args.check:
                sys.stdout.writelines(difflib.unified_diff(
                    text.splitlines(keepends=True), fresh.splitlines(keepends=True),
                    f"{name} (checked in)", f"{name} (today's output)"))
            else:
                path.write_text(fresh, encoding="utf-8")
                print(f"updated {name}")
    finally:
        maker.close()
    if args.check and stale:
        names = ", ".join(p.relative_to(ROOT).as_posix() for p in stale)
        print(f"\nstale examples in {names}: run `python docs/examples.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
