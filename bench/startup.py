"""Start-up benchmark: what one `rolecli` command costs, against the floors it stands on.

In one run, alternating (the machine is noisy: each figure is a median of --runs runs,
and every ratio compares figures taken in the same rounds):
  - wall time and peak RSS (wait4) of `rolecli classify FILE --format json`, the text
    panel, `explain`, `--help` and `--version`;
  - the same for `python -c pass`, `python -c "import typer, rich.console"` and a bare
    joblib + scikit-learn script scoring the same posting;
  - model load (read, sha256 check, build) in a fresh process, for the shipped model and
    for a synthetic one of --big-vocabulary terms (the size a model trained on real
    postings reaches);
  - a shell loop running `rolecli classify` over --loop-files files, per file;
then the ratios against the targets and the five largest import costs of classify.
Usage: python bench/startup.py [--runs 9] [--loop-files 200] [--baseline OTHER_ROLECLI]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE_SCRIPT = """
import sys, joblib
pipeline = joblib.load(sys.argv[1])
text = open(sys.argv[2], encoding="utf-8").read()
print(pipeline.predict_proba([text])[0, 1])
"""

LOAD_SCRIPT = """
import sys, time
from pathlib import Path
from rolecli.model.scorer import Scorer
start = time.perf_counter()
Scorer.load(Path(sys.argv[1]))
print((time.perf_counter() - start) * 1000)
"""

# name -> (target ratio, numerator, denominator)
TARGETS = [
    (0.10, "classify --format json", "bare scikit-learn"),
    (1.6, "classify --format json", "import typer, rich.console"),
    (1.3, "classify (text panel)", "classify --format json"),
    (1.5, "--help", "import typer, rich.console"),
    (1.5, "--version", "import typer, rich.console"),
]


# Installed packages run from bytecode; PYTHONDONTWRITEBYTECODE (set in some sandboxes)
# would make every run compile the sources again, which users never pay.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of one run of command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=CHILD_ENV)
    stdout = process.stdout.read().decode() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        stderr = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"failed: {' '.join(command)}\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024, stdout


def synthetic_model(target: Path, terms: int) -> None:
    """The shipped model with its vocabulary grown to `terms` (real words, new bigrams)."""
    import hashlib
    import json

    from rolecli.model.scorer_file import SCORER_FILE, decode, encode

    source = ROOT / "models" / "default"
    shutil.copytree(source, target)
    data = decode((source / SCORER_FILE).read_bytes())
    words = [t for t in data.terms if " " not in t]
    known = set(data.terms)
    rng = random.Random(0)
    extra = []
    while len(known) < terms:
        gram = f"{rng.choice(words)} {rng.choice(words)}"
        if gram not in known:
            known.add(gram)
            extra.append(gram)
    weights = [rng.uniform(1.0, 8.0) for _ in extra]
    raw = encode(data._replace(
        terms=data.terms + extra, idf=data.idf + weights,
        role_coef=data.role_coef + [0.0] * len(extra),
        domain_coef=data.domain_coef + [rng.gauss(0.0, 0.3) for _ in extra],
        family_coef=None if data.family_coef is None else [
            column + [0.0] * len(extra) for column in data.family_coef],
    ))
    (target / SCORER_FILE).write_bytes(raw)
    card = json.loads((target / "card.json").read_text())
    card["files"][SCORER_FILE] = hashlib.sha256(raw).hexdigest()
    (target / "card.json").write_text(json.dumps(card))


def import_costs(rolecli: str, posting: Path, model: Path, count: int = 5,
                 runs: int = 5) -> list[str]:
    """The largest self import times of `classify --format json` (python -X importtime),
    each the median of `runs` runs."""
    env = {**CHILD_ENV, "PYTHONPROFILEIMPORTTIME": "1"}
    own: dict[str, list[int]] = {}
    cumulative: dict[str, list[int]] = {}
    for _ in range(runs):
        result = subprocess.run([rolecli, "classify", str(posting), "--format", "json",
                                 "--model", str(model)], capture_output=True, text=True, env=env)
        for line in result.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
            if match:
                own.setdefault(match[4], []).append(int(match[1]))
                cumulative.setdefault(match[4], []).append(int(match[2]))
    rows = sorted(((statistics.median(times), name) for name, times in own.items()), reverse=True)
    lines = [f"  {name:<34} self {self_us / 1000:6.1f} ms  cumulative "
             f"{statistics.median(cumulative[name]) / 1000:6.1f} ms"
             for self_us, name in rows[:count]]
    total = sum(self_us for self_us, _ in rows)
    return [*lines, f"  ({len(rows)} modules, {total / 1000:.1f} ms of imports in all, as "
                    f"-X importtime counts them; medians of {runs} runs)"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--posting", type=Path, default=ROOT / "examples" / "ml-engineer.txt")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--loop-files", type=int, default=200)
    parser.add_argument("--big-vocabulary", type=int, default=300_000)
    parser.add_argument("--baseline", help="another rolecli executable to time the same way")
    parser.add_argument("--make-model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_model:  # in a child: this process stays small, and so do those it forks
        synthetic_model(args.make_model, args.big_vocabulary)
        return

    rolecli = shutil.which("rolecli", path=str(Path(sys.executable).parent)) or "rolecli"
    posting, model = str(args.posting), str(args.model)
    with tempfile.TemporaryDirectory(prefix="rolecli-startup-") as tmp:
        script = Path(tmp) / "bare.py"
        script.write_text(BARE_SCRIPT)
        big = Path(tmp) / "big-model"
        subprocess.run([sys.executable, __file__, "--make-model", str(big), "--big-vocabulary",
                        str(args.big_vocabulary)], check=True)
        commands = {
            "classify --format json": [rolecli, "classify", posting, "--format", "json",
                                       "--model", model],
            "classify (text panel)": [rolecli, "classify", posting, "--model", model],
            "explain": [rolecli, "explain", posting, "--model", model],
            "--help": [rolecli, "--help"],
            "--version": [rolecli, "--version"],
            "python -c pass": [sys.executable, "-c", "pass"],
            "import typer, rich.console": [sys.executable, "-c", "import typer, rich.console"],
            "bare scikit-learn": [sys.executable, str(script), str(args.model / "pipeline.joblib"),
                                  posting],
        }
        if args.baseline:
            commands["baseline classify --format json"] = [
                args.baseline, "classify", posting, "--format", "json"]
        loads = {"model load, shipped": model,
                 f"model load, {args.big_vocabulary:,} terms": str(big)}
        for command in commands.values():  # warm the page cache once
            timed(command)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        load_ms: dict[str, list[float]] = {name: [] for name in loads}
        for _ in range(args.runs):
            for name, command in commands.items():
                wall, rss, _ = timed(command)
                samples[name].append((wall, rss))
            for name, directory in loads.items():
                load = timed([sys.executable, "-c", LOAD_SCRIPT, directory])
                load_ms[name].append(float(load[2]))

        # The loop runs in chunks, each followed by single runs: both are measured under the
        # same load, and the per-file figure is the median over chunks.
        texts = sorted((ROOT / "examples").glob("*.txt"))
        # (exit 3 is a verdict, off-topic: the recipe among the examples)
        loop = ('for f in "$1"/*.txt; do "$2" classify "$f" --format json --model "$3" '
                '>/dev/null 2>&1 || [ $? -eq 3 ] || exit 1; done')
        chunk = 20
        per_file, single_during = [], []
        for start in range(0, args.loop_files, chunk):
            files = Path(tmp) / f"loop-{start}"
            files.mkdir()
            for i in range(start, min(start + chunk, args.loop_files)):  # distinct files
                source = texts[i % len(texts)].read_text(encoding="utf-8")
                (files / f"posting-{i:04d}.txt").write_text(f"{source}\nRef {i}\n",
                                                            encoding="utf-8")
            count = len(list(files.iterdir()))
            wall, _, _ = timed(["sh", "-c", loop, "sh", str(files), rolecli, model])
            per_file.append(wall / count)
            single_during.append(timed(commands["classify --format json"])[0])

    medians = {name: statistics.median(w for w, _ in runs) for name, runs in samples.items()}
    print(f"startup benchmark: {args.runs} alternating runs each, posting {args.posting.name}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'command':<34} {'median wall ms':>14} {'peak RSS MiB':>13}")
    for name, runs in samples.items():
        print(f"{name:<34} {medians[name] * 1000:>14.1f} {max(r for _, r in runs):>13.1f}")
    print()
    for name, values in load_ms.items():
        print(f"{name:<34} {statistics.median(values):>11.1f} ms (read, verify, build; "
              "target < 15 ms for the shipped model)")
    loop_median, single = statistics.median(per_file), statistics.median(single_during)
    label = f"classify loop over {args.loop_files} files"
    print(f"{label:<34} {loop_median * 1000:>11.1f} ms per file, {loop_median / single:.2f}x "
          f"a single run between its chunks ({single * 1000:.1f} ms; target <= 1.0x)")
    print()
    print("ratios (medians of the same rounds):")
    for target, top, bottom in TARGETS:
        ratio = medians[top] / medians[bottom]
        verdict = "ok" if ratio <= target else "MISSED"
        print(f"  {top} / {bottom}: {ratio:.2f}x (target <= {target}x) {verdict}")
    if args.baseline:
        ratio = medians["classify --format json"] / medians["baseline classify --format json"]
        print(f"  classify --format json / baseline: {ratio:.2f}x")
    peak = max(r for name, runs in samples.items() if not name.startswith(("bare", "baseline"))
               for _, r in runs)
    print(f"  peak RSS of rolecli commands: {peak:.1f} MiB (target < 50 MiB)")
    print()
    print("largest import costs of classify --format json:")
    print("\n".join(import_costs(rolecli, args.posting, args.model)))


if __name__ == "__main__":
    main()
