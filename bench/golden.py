"""Every command's output on a fixed golden set, written to a folder, to compare a change with
`diff -r` (a refactor must leave it byte for byte the same).

    python bench/golden.py /tmp/before                   # the rolecli next to this Python
    python bench/golden.py /tmp/after --rolecli PATH     # another installed rolecli
    diff -r /tmp/before /tmp/after

Each case writes `NAME.out` (stdout), `NAME.err` (stderr) and `NAME.code` (exit status);
`explain --html` also writes `NAME.html`. It covers classify and explain (text, JSON, with and
without --title, --all-lines, colour) and `explain --html` on every file in examples/ and
tests/data/verdicts/; `model info`; `batch examples/` in every row format; batch on the
shared dev postings and off-topic sets (local and Dask engines; skipped with a note when
../shared/data is absent); serve's API answers; and error cases (missing file, missing or
tampered model, a missing optional extra). Only what varies from run to run is masked:
timings, the server's port and the scratch folder's name.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
POSTINGS = sorted((ROOT / "examples").iterdir()) + sorted(
    (ROOT / "tests" / "data" / "verdicts").iterdir())
# Timings in summaries and logs ("in 1.2 s", "12.3 ms", "34 postings/s"): they vary per run.
TIMING = re.compile(r"\d[\d,]*(\.\d+)? ?(s|ms|µs|postings/s|items/s|/s)\b")
MISSING_EXTRA = "raise ImportError(\"No module named '{name}'\")\n"


def default_rolecli() -> str:
    return str(Path(sys.executable).with_name("rolecli"))


class Golden:
    def __init__(self, rolecli: str, out: Path, scratch: Path) -> None:
        self.rolecli = rolecli
        self.out = out
        self.scratch = scratch
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("ROLECLI_MODEL", "ROLECLI_TOKEN", "NO_COLOR", "FORCE_COLOR")}
        self.env["COLUMNS"] = "100"

    def run(self, name: str, *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
            ) -> None:
        done = subprocess.run([self.rolecli, *args], input=stdin, capture_output=True, cwd=ROOT,
                              env={**self.env, **(env or {})}, timeout=900)
        scratch = str(self.scratch).encode()
        (self.out / f"{name}.out").write_bytes(done.stdout.replace(scratch, b"SCRATCH"))
        err = done.stderr.decode("utf-8", "replace").replace(str(self.scratch), "SCRATCH")
        (self.out / f"{name}.err").write_text(TIMING.sub("TIME", err), encoding="utf-8")
        (self.out / f"{name}.code").write_text(f"{done.returncode}\n", encoding="utf-8")

    def postings(self) -> None:
        for path in POSTINGS:
            rel = str(path.relative_to(ROOT))
            stem = f"{path.parent.name}-{path.stem}"
            self.run(f"classify-{stem}", "classify", rel)
            self.run(f"classify-{stem}-json", "classify", rel, "-f", "json")
            self.run(f"classify-{stem}-explain-json", "classify", rel, "--explain", "-f", "json")
            self.run(f"classify-{stem}-title", "classify", rel, "-t", "Research Scientist")
            self.run(f"classify-{stem}-title-json", "classify", rel, "-t",
                     "Machine Learning Engineer", "-f", "json")
            self.run(f"classify-{stem}-color", "classify", rel, "--explain", "--color", "always")
            self.run(f"explain-{stem}", "explain", rel)
            self.run(f"explain-{stem}-all", "explain", rel, "--all-lines", "--top", "5")
            self.run(f"explain-{stem}-json", "explain", rel, "-f", "json")
            self.run(f"explain-{stem}-title-json", "explain", rel, "-t", "Data Scientist",
                     "-f", "json")
            self.run(f"explain-{stem}-color", "explain", rel, "--color", "always")
            page = self.scratch / "page.html"
            page.unlink(missing_ok=True)
            self.run(f"explain-{stem}-html", "explain", rel, "--html", str(page))
            if page.exists():
                shutil.copyfile(page, self.out / f"explain-{stem}-html.html")
        self.run("classify-stdin", "classify", "-", stdin=POSTINGS[1].read_bytes())

    def model(self) -> None:
        self.run("model-info", "model", "info")
        self.run("model-info-json", "model", "info", "-f", "json")

    def batches(self) -> None:
        for form in ("table", "json", "jsonl", "csv"):
            self.run(f"batch-examples-{form}", "batch", "examples/", "-f", form)
        self.run("batch-examples-title-csv", "batch", "examples/", "-t", "ML Engineer", "-f",
                 "csv", "--precision", "6")
        dev, offtopic = SHARED / "postings_dev.csv", SHARED / "offtopic_dev.csv"
        if not dev.is_file():
            (self.out / "SKIPPED-shared-data").write_text(f"{SHARED} is absent\n")
            return
        self.run("batch-dev-local", "batch", str(dev), "--title-column", "title", "-f", "jsonl")
        self.run("batch-dev-local-csv", "batch", str(dev), "--title-column", "title", "-f", "csv")
        self.run("batch-dev-notitle", "batch", str(dev), "-f", "jsonl")
        self.run("batch-dev-dask", "batch", str(dev), "--title-column", "title", "-f", "jsonl",
                 "--engine", "dask", "-q")
        self.run("batch-offtopic", "batch", str(offtopic), "--title-column", "title",
                 "-f", "jsonl")

    def errors(self) -> None:
        self.run("error-missing-file", "classify", "no/such/posting.txt")
        self.run("error-empty-stdin", "classify", "-", stdin=b"   \n")
        self.run("error-binary", "classify", "-", stdin=b"\x00\x01\x02" * 100)
        self.run("error-missing-model", "classify", "examples/ml-engineer.txt", "-m",
                 str(self.scratch / "no-model"))
        self.run("error-missing-model-batch", "batch", "examples/", "-m",
                 str(self.scratch / "no-model"))
        bad = self.scratch / "bad-model"
        shutil.copytree(ROOT / "models" / "default", bad)
        scorer = bad / "scorer.bin"
        scorer.write_bytes(scorer.read_bytes()[:200])
        self.run("error-bad-model", "classify", "examples/ml-engineer.txt", "-m", str(bad))
        self.run("error-bad-model-info", "model", "info", "--verify", "-m", str(bad))
        tampered = self.scratch / "tampered-model"
        shutil.copytree(ROOT / "models" / "default", tampered)
        card = json.loads((tampered / "card.json").read_text(encoding="utf-8"))
        card["format_version"] = 999
        (tampered / "card.json").write_text(json.dumps(card), encoding="utf-8")
        self.run("error-incompatible-model", "classify", "examples/ml-engineer.txt", "-m",
                 str(tampered))
        self.run("error-train-no-data", "train", "-o", str(self.scratch / "trained"),
                 "-d", "no/such/labels.csv")
        self.run("error-evaluate-no-data", "evaluate", "no/such/labels.csv")
        labels = self.scratch / "labels.csv"
        labels.write_text("id,label,text\n" + "".join(
            f"{i},{label},{json.dumps(path.read_text(encoding='utf-8'))}\n" for i, (label, path)
            in enumerate((("engineer", ROOT / "examples" / "ml-engineer.txt"),
                          ("scientist", ROOT / "examples" / "research-scientist.txt")))),
            encoding="utf-8")
        (self.scratch / "rows.parquet").write_bytes(b"PAR1 not really")
        no_text = self.scratch / "no-text.csv"
        no_text.write_text("id,body\n1,Deploy models to production\n", encoding="utf-8")
        self.run("error-no-text-column", "batch", str(no_text), "-f", "jsonl")
        self.run("error-no-title-column", "batch", str(labels), "--title-column", "job",
                 "-f", "jsonl")
        self.run("error-train-onto-a-model", "train", "-d", str(labels), "-o", str(tampered))
        self.run("error-train-onto-a-file", "train", "-d", str(labels), "-o", str(no_text))
        self.run("error-train-too-little", "train", "-d", str(labels), "-o",
                 str(self.scratch / "small-model"))
        for extra, args in (
            ("dask", ("batch", "examples/", "--engine", "dask", "-f", "jsonl")),
            ("pyarrow", ("batch", "examples/", "-f", "parquet", "-o",
                         str(self.scratch / "rows.parquet"))),
            ("starlette", ("serve", "--port", "0")),
            ("pyarrow-read", ("batch", str(self.scratch / "rows.parquet"), "-f", "jsonl")),
            ("sklearn", ("evaluate", str(labels))),
            ("sklearn-train", ("train", "-d", str(labels), "-o", str(self.scratch / "t"))),
        ):
            module = extra.split("-")[0]
            blocked = self.scratch / f"without-{module}"
            (blocked / module).mkdir(parents=True, exist_ok=True)
            (blocked / module / "__init__.py").write_text(MISSING_EXTRA.format(name=module))
            self.run(f"error-no-{extra}", *args, env={"PYTHONPATH": str(blocked)})

    def serve(self) -> None:
        log = self.scratch / "serve.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen([self.rolecli, "serve", "--port", "0"], cwd=ROOT,
                                       env=self.env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            url = self._started(process, log)
            posting = (ROOT / "examples" / "ml-engineer.txt").read_text(encoding="utf-8")
            requests: list[tuple[str, str, str, bytes]] = [
                ("classify", "/v1/classify", "application/json",
                 json.dumps({"text": posting}).encode()),
                ("classify-title", "/v1/classify", "application/json",
                 json.dumps({"text": posting, "title": "Research Scientist"}).encode()),
                ("explain", "/v1/explain", "application/json",
                 json.dumps({"text": posting}).encode()),
                ("classify-empty", "/v1/classify", "application/json",
                 json.dumps({"text": ""}).encode()),
                ("classify-bad-json", "/v1/classify", "application/json", b"{nope"),
                ("batch", "/v1/batch", "application/x-ndjson", "".join(
                    json.dumps({"id": p.name, "text": p.read_text(encoding="utf-8")}) + "\n"
                    for p in POSTINGS if p.suffix == ".txt").encode()),
                ("batch-csv", "/v1/batch", "text/csv",
                 b"id,title,text\n1,ML Engineer,\"Deploy models to production, monitor "
                 b"latency and own the serving stack on Kubernetes.\"\n"),
            ]
            for name, path, kind, body in requests:
                request = urllib.request.Request(url + path, data=body, method="POST",
                                                 headers={"Content-Type": kind})
                try:
                    with urllib.request.urlopen(request, timeout=120) as answer:
                        status, data = answer.status, answer.read()
                except urllib.error.HTTPError as exc:
                    status, data = exc.code, exc.read()
                (self.out / f"serve-{name}.out").write_bytes(f"{status}\n".encode() + data)
            with urllib.request.urlopen(url + "/v1/model", timeout=60) as answer:
                (self.out / "serve-model.out").write_bytes(answer.read())
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)

    @staticmethod
    def _started(process: subprocess.Popen[bytes], log: Path) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"rolecli serve: (http://\S+) ", log.read_text(errors="replace"))
            if found:
                url = found.group(1)
                for _ in range(600):
                    try:
                        urllib.request.urlopen(url + "/healthz", timeout=5).close()
                        return url
                    except OSError:
                        time.sleep(0.05)
            if process.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit(f"rolecli serve did not start: {log.read_text(errors='replace')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="folder to write (emptied first)")
    parser.add_argument("--rolecli", default=default_rolecli(), help="the rolecli to run")
    args = parser.parse_args()
    if args.output.exists():
        shutil.rmtree(args.output)
    args.output.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="rolecli-golden-") as scratch:
        golden = Golden(args.rolecli, args.output, Path(scratch))
        started = time.monotonic()
        for step in (golden.model, golden.postings, golden.batches, golden.errors, golden.serve):
            step()
        cases = len(list(args.output.glob("*.out")))
        print(f"{cases} cases in {time.monotonic() - started:.0f} s -> {args.output}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
