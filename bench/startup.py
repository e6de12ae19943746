"""Cold-start benchmark: `rolecli classify FILE` against a bare joblib + scikit-learn script.

Runs both on the same posting, alternating, and prints median wall times, their
ratio and peak RSS (of the child process, from wait4). Usage:
    python bench/startup.py [--runs 9] [--posting examples/ml-engineer.txt]
"""

from __future__ import annotations

import argparse
import os
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


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one run of command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--posting", type=Path, default=ROOT / "examples" / "ml-engineer.txt")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    args = parser.parse_args()

    rolecli = shutil.which("rolecli", path=str(Path(sys.executable).parent)) or "rolecli"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bare.py"
        script.write_text(BARE_SCRIPT)
        commands = {
            "rolecli classify": [
                rolecli,
                "classify",
                str(args.posting),
                "--format",
                "json",
                "--model",
                str(args.model),
            ],
            "rolecli --help": [rolecli, "--help"],
            "bare scikit-learn": [
                sys.executable,
                str(script),
                str(args.model / "pipeline.joblib"),
                str(args.posting),
            ],
        }
        for command in commands.values():  # warm the page cache once
            timed(command)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                samples[name].append(timed(command))

    print(f"startup benchmark: {args.runs} alternating runs each, posting {args.posting.name}")
    print(f"{'command':<20} {'median wall s':>14} {'peak RSS MiB':>13}")
    medians = {}
    for name, runs in samples.items():
        medians[name] = statistics.median(t for t, _ in runs)
        print(f"{name:<20} {medians[name]:>14.3f} {max(r for _, r in runs):>13.1f}")
    ratio = medians["rolecli classify"] / medians["bare scikit-learn"]
    print(f"ratio rolecli classify / bare scikit-learn: {ratio:.2f}x (target <= 0.25x)")


if __name__ == "__main__":
    main()
