"""Batch benchmark: `rolecli batch DIR` on 20,000 posting files against bare scikit-learn.

Builds folders of 2,000 and 20,000 .txt files (the dev postings' texts, cycled) in a temp
dir, then, in the same run, alternating:
  - `rolecli batch DIR --format jsonl --output X --quiet` as a subprocess: wall time,
    items/s, and peak memory of its whole process tree (the parent and its pool workers),
    sampled from /proc every 50 ms: summed RSS (counts shared pages once per process, an
    overestimate) and summed PSS (shared pages split between processes: the honest total);
    plus the largest single process's peak RSS from wait4;
  - a bare in-process `load_pipeline().predict_proba(texts)` over the same texts, already
    in memory (no file reading).
Prints medians of --runs runs and the ratios against the targets:
throughput >= 1.5x bare scikit-learn, peak RSS < 200 MiB and flat from 2,000 to 20,000.
Usage: python bench/batch.py [--runs 3] [--files 20000] [--small 2000] [--jobs N]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_POSTINGS = ROOT.parent / "shared" / "data" / "postings_dev.csv"
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


@dataclass
class Run:
    seconds: float
    items: int
    tree_rss: float  # MiB, peak of the summed RSS of the process tree
    tree_pss: float  # MiB, peak of the summed PSS of the process tree
    max_rss: float  # MiB, the largest single process (wait4 / RUSAGE_CHILDREN)

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def posting_texts() -> list[str]:
    csv.field_size_limit(sys.maxsize)
    with DEV_POSTINGS.open(newline="", encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row["text"].strip()]


def build_folder(target: Path, texts: list[str], count: int) -> None:
    for i in range(count):
        folder = target / f"{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"posting-{i:06d}.txt").write_text(texts[i % len(texts)], encoding="utf-8")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(name))
    return tree


def _tree_memory(root: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) in bytes of root and all its descendants."""
    tree = _children()
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm") as handle:
                rss += int(handle.read().split()[1]) * PAGE
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            continue  # the process ended between listing and reading
    return rss, pss


def run_rolecli(rolecli: str, folder: Path, output: Path, items: int, jobs: int | None) -> Run:
    output.unlink(missing_ok=True)
    command = [rolecli, "batch", str(folder), "--format", "jsonl", "--output", str(output),
               "--quiet"]
    if jobs:
        command += ["--jobs", str(jobs)]
    peaks = [0, 0]
    done = threading.Event()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def sample() -> None:
        while not done.is_set():
            rss, pss = _tree_memory(process.pid)
            peaks[0], peaks[1] = max(peaks[0], rss), max(peaks[1], pss)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    assert process.stderr is not None
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    with output.open("rb") as handle:
        rows = sum(1 for _ in handle)
    if rows != items:
        raise SystemExit(f"{output}: {rows} rows for {items} files")
    # wait4 reports the child; pool workers it reaped are in its own RUSAGE_CHILDREN, which
    # wait4 folds in: ru_maxrss is then the largest single process, never a sum.
    return Run(seconds, items, peaks[0] / MIB, peaks[1] / MIB, usage.ru_maxrss / 1024)


def run_sklearn(pipeline: object, texts: list[str]) -> float:
    start = time.perf_counter()
    pipeline.predict_proba(texts)  # type: ignore[attr-defined]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--jobs", type=int, default=None, help="rolecli --jobs (default: its own)")
    args = parser.parse_args()
    if not DEV_POSTINGS.is_file():
        print(f"skipped: {DEV_POSTINGS} is absent (it lives outside the repository)")
        return

    from rolecli.model import load_pipeline

    rolecli = shutil.which("rolecli", path=str(Path(sys.executable).parent)) or "rolecli"
    texts = posting_texts()
    big_texts = [texts[i % len(texts)] for i in range(args.files)]
    pipeline = load_pipeline()
    print(f"{os.cpu_count()} cores; {len(texts)} distinct postings, "
          f"{sum(map(len, texts)) / len(texts):.0f} characters on average")
    with tempfile.TemporaryDirectory(prefix="rolecli-bench-") as tmp:
        big, small, output = Path(tmp) / "big", Path(tmp) / "small", Path(tmp) / "rows.jsonl"
        build_folder(big, texts, args.files)
        build_folder(small, texts, args.small)
        run_rolecli(rolecli, small, output, args.small, args.jobs)  # warm the page cache
        big_runs, small_runs, bare = [], [], []
        for number in range(1, args.runs + 1):
            big_runs.append(run_rolecli(rolecli, big, output, args.files, args.jobs))
            bare.append(run_sklearn(pipeline, big_texts))
            small_runs.append(run_rolecli(rolecli, small, output, args.small, args.jobs))
            b = big_runs[-1]
            print(f"run {number}: rolecli {b.rate:.0f} items/s ({b.seconds:.1f}s), "
                  f"tree RSS {b.tree_rss:.0f} MiB, tree PSS {b.tree_pss:.0f} MiB; "
                  f"bare scikit-learn {args.files / bare[-1]:.0f} items/s ({bare[-1]:.1f}s)")

    def median(values: list[float]) -> float:
        return statistics.median(values)

    rate = median([r.rate for r in big_runs])
    bare_rate = args.files / median(bare)
    print()
    print(f"medians of {args.runs} runs, {args.files} files:")
    print(f"  rolecli batch        {rate:8.0f} items/s (files read from disk included)")
    print(f"  bare scikit-learn    {bare_rate:8.0f} items/s (predict_proba, texts in memory)")
    print(f"  ratio                {rate / bare_rate:8.2f}x   (target >= 1.5x)")
    print("peak memory of the rolecli process tree (MiB):")
    print(f"  {'files':>8} {'sum RSS':>9} {'sum PSS':>9} {'largest process':>16}")
    for count, runs in ((args.small, small_runs), (args.files, big_runs)):
        rss, pss = median([r.tree_rss for r in runs]), median([r.tree_pss for r in runs])
        print(f"  {count:8d} {rss:9.1f} {pss:9.1f} {median([r.max_rss for r in runs]):16.1f}")
    big_rss = median([r.tree_rss for r in big_runs])
    small_rss = median([r.tree_rss for r in small_runs])
    print(f"  {args.files} vs {args.small}: sum RSS ratio {big_rss / small_rss:.2f} "
          f"(target: flat, and < 200 MiB)")


if __name__ == "__main__":
    main()
