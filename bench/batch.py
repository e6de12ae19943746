"""Batch benchmark: `rolecli batch DIR` on 20,000 posting files against bare scikit-learn.

Builds folders of 2,000 and 20,000 .txt files (the dev postings' texts, cycled) in a temp
dir, then, in the same run, alternating:
  - `rolecli batch DIR --format jsonl --output X --quiet` as a subprocess: wall time,
    items/s, and peak memory of its whole process tree (the parent and its pool workers),
    sampled from /proc every 50 ms: summed RSS (counts shared pages once per process, an
    overestimate) and summed PSS (shared pages split between processes: the honest total);
    plus, from wait4, the largest single process's peak RSS and the CPU time of the tree
    (spawned workers are the parent's children, so their usage is included). A small
    launcher process, started before this script loads scikit-learn, runs each command:
    a child forked from a large process would inherit its peak RSS in ru_maxrss;
  - a bare in-process `load_pipeline().predict_proba(texts)` over the same texts, already
    in memory (no file reading), with its wall and CPU time.
  - the same commands with `--jobs 1` (and `--jobs N` with --also-jobs N), on both folders,
    so the default (`--jobs auto`) is measured against one process in the same rounds;
    --busy K keeps K busy-looping processes running meanwhile, as other work would.
Prints medians of --runs runs and the ratios against the targets:
throughput >= 1.5x bare scikit-learn, peak RSS < 200 MiB and flat from 2,000 to 20,000,
and the default's items/s against `--jobs 1` at both sizes (target: >= 1.0x).
Usage: python bench/batch.py [--runs 3] [--files 20000] [--small 2000] [--jobs N]
                            [--also-jobs N] [--busy K]
"""

from __future__ import annotations

import argparse
import csv
import json
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
from typing import Any

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
    cpu: float  # seconds of CPU, the whole tree

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


# Runs each command it is sent (a JSON argv per line) and answers its pid, then its wait4 usage.
LAUNCHER = r"""
import json, os, subprocess, sys
for line in sys.stdin:
    child = subprocess.Popen(json.loads(line), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    print(json.dumps({"pid": child.pid}), flush=True)
    stderr = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status), "stderr": stderr,
                      "maxrss_kib": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime}),
          flush=True)
"""


class Launcher:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )

    def start(self, command: list[str]) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return int(json.loads(self.process.stdout.readline())["pid"])

    def wait(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        result: dict[str, Any] = json.loads(self.process.stdout.readline())
        return result

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def run_rolecli(
    launcher: Launcher, rolecli: str, folder: Path, output: Path, items: int, jobs: int | None
) -> Run:
    output.unlink(missing_ok=True)
    command = [rolecli, "batch", str(folder), "--format", "jsonl", "--output", str(output),
               "--quiet"]
    if jobs:
        command += ["--jobs", str(jobs)]
    peaks = [0, 0]
    done = threading.Event()
    start = time.perf_counter()
    pid = launcher.start(command)

    def sample() -> None:
        while not done.is_set():
            rss, pss = _tree_memory(pid)
            peaks[0], peaks[1] = max(peaks[0], rss), max(peaks[1], pss)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = launcher.wait()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if result["code"] != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result['stderr']}")
    with output.open("rb") as handle:
        rows = sum(1 for _ in handle)
    if rows != items:
        raise SystemExit(f"{output}: {rows} rows for {items} files")
    # wait4 folds in the workers the child reaped: ru_maxrss is the largest single process
    # (never a sum), the CPU time is the whole tree's.
    return Run(seconds, items, peaks[0] / MIB, peaks[1] / MIB, result["maxrss_kib"] / 1024,
               result["cpu"])


def run_sklearn(pipeline: object, texts: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one predict_proba over texts."""
    start, cpu = time.perf_counter(), time.process_time()
    pipeline.predict_proba(texts)  # type: ignore[attr-defined]
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--jobs", type=int, default=None, help="rolecli --jobs (default: its own)")
    parser.add_argument("--also-jobs", type=int, default=None,
                        help="also measure rolecli --jobs N (e.g. every core) in each round")
    parser.add_argument("--busy", type=int, default=0,
                        help="keep K busy-looping processes running, as other work would")
    parser.add_argument("--baseline", help="another rolecli executable, run alternately on the "
                        "same folder (e.g. an install of the previous version)")
    args = parser.parse_args()
    if not DEV_POSTINGS.is_file():
        print(f"skipped: {DEV_POSTINGS} is absent (it lives outside the repository)")
        return

    launcher = Launcher()  # first, while this process is small
    busy = [subprocess.Popen([sys.executable, "-S", "-c", "while True: pass"])
            for _ in range(args.busy)]
    from rolecli.model.directory import load_pipeline

    rolecli = shutil.which("rolecli", path=str(Path(sys.executable).parent)) or "rolecli"
    texts = posting_texts()
    big_texts = [texts[i % len(texts)] for i in range(args.files)]
    pipeline = load_pipeline()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {len(texts)} distinct "
          f"postings, {sum(map(len, texts)) / len(texts):.0f} characters on average"
          + (f"; {args.busy} busy-looping processes running" if args.busy else ""))
    with tempfile.TemporaryDirectory(prefix="rolecli-bench-") as tmp:
        big, small, output = Path(tmp) / "big", Path(tmp) / "small", Path(tmp) / "rows.jsonl"
        build_folder(big, texts, args.files)
        build_folder(small, texts, args.small)
        run_rolecli(launcher, rolecli, small, output, args.small, args.jobs)  # warm the cache
        big_runs, small_runs, bare, baseline_runs = [], [], [], []
        one_big, one_small = [], []  # --jobs 1, in the same rounds
        also_big, also_small = [], []  # --jobs N (--also-jobs), in the same rounds
        for number in range(1, args.runs + 1):
            # The default and --jobs 1 take turns going first, so neither always gets the
            # page cache or the quieter moment.
            pair = [(big_runs, args.jobs), (one_big, 1)]
            for runs, jobs in pair if number % 2 else reversed(pair):
                runs.append(run_rolecli(launcher, rolecli, big, output, args.files, jobs))
            if args.also_jobs:
                also_big.append(
                    run_rolecli(launcher, rolecli, big, output, args.files, args.also_jobs))
                also_small.append(
                    run_rolecli(launcher, rolecli, small, output, args.small, args.also_jobs))
            if args.baseline:
                baseline_runs.append(
                    run_rolecli(launcher, args.baseline, big, output, args.files, args.jobs))
            bare.append(run_sklearn(pipeline, big_texts))
            pair = [(small_runs, args.jobs), (one_small, 1)]
            for runs, jobs in pair if number % 2 else reversed(pair):
                runs.append(run_rolecli(launcher, rolecli, small, output, args.small, jobs))
            b = big_runs[-1]
            print(f"run {number}: rolecli {b.rate:.0f} items/s ({b.seconds:.1f}s, "
                  f"{b.cpu:.1f} CPU-s), tree RSS {b.tree_rss:.0f} MiB, PSS {b.tree_pss:.0f} MiB; "
                  f"--jobs 1 {one_big[-1].rate:.0f} items/s; "
                  f"bare scikit-learn {args.files / bare[-1][0]:.0f} items/s "
                  f"({bare[-1][0]:.1f}s, {bare[-1][1]:.1f} CPU-s); "
                  f"{args.small} files {small_runs[-1].rate:.0f} items/s, --jobs 1 "
                  f"{one_small[-1].rate:.0f}"
                  + (f"; --jobs {args.also_jobs} {also_big[-1].rate:.0f} and "
                     f"{also_small[-1].rate:.0f} items/s" if args.also_jobs else "")
                  + f"; load average {os.getloadavg()[0]:.1f}")
    launcher.close()
    for process in busy:
        process.kill()

    def median(values: list[float]) -> float:
        return statistics.median(values)

    rate = median([r.rate for r in big_runs])
    bare_rate = args.files / median([wall for wall, _ in bare])
    cpu_rate = args.files / median([r.cpu for r in big_runs])
    bare_cpu_rate = args.files / median([cpu for _, cpu in bare])
    print()
    print(f"medians of {args.runs} runs, {args.files} files:")
    print(f"  {'':20} {'items/s':>8} {'items/CPU-s':>12}")
    print(f"  {'rolecli batch':20} {rate:8.0f} {cpu_rate:12.0f}   (files read from disk included)")
    print(f"  {'bare scikit-learn':20} {bare_rate:8.0f} {bare_cpu_rate:12.0f}   "
          "(predict_proba, texts in memory)")
    print(f"  {'ratio':20} {rate / bare_rate:7.2f}x {cpu_rate / bare_cpu_rate:11.2f}x   "
          "(target: items/s >= 1.5x)")
    if baseline_runs:
        baseline_rate = median([r.rate for r in baseline_runs])
        print(f"  {'baseline rolecli':20} {baseline_rate:8.0f} "
              f"{args.files / median([r.cpu for r in baseline_runs]):12.0f}   "
              f"({args.baseline}; rolecli / baseline {rate / baseline_rate:.2f}x)")
    jobs = f"--jobs {args.jobs}" if args.jobs else "the default (--jobs auto)"
    print(f"{jobs} against --jobs 1, same rounds (target: >= 1.0x):")
    for count, runs, ones, also in ((args.small, small_runs, one_small, also_small),
                                    (args.files, big_runs, one_big, also_big)):
        default_rate, one_rate = median([r.rate for r in runs]), median([r.rate for r in ones])
        forced = median([r.rate for r in also]) if also else None
        print(f"  {count:8d} files: {default_rate:6.0f} vs {one_rate:6.0f} items/s, "
              f"{default_rate / one_rate:.2f}x"
              + (f"; --jobs {args.also_jobs} {forced:.0f} items/s, {forced / one_rate:.2f}x"
                 if forced else ""))
    print("peak memory of the rolecli process tree (MiB):")
    print(f"  {'':8} {'files':>8} {'sum RSS':>9} {'sum PSS':>9} {'largest process':>16}")
    for name, small_set, big_set in (("default", small_runs, big_runs),
                                     ("--jobs 1", one_small, one_big)):
        for count, runs in ((args.small, small_set), (args.files, big_set)):
            rss, pss = median([r.tree_rss for r in runs]), median([r.tree_pss for r in runs])
            print(f"  {name:8} {count:8d} {rss:9.1f} {pss:9.1f} "
                  f"{median([r.max_rss for r in runs]):16.1f}")
    # The default may run one process on the small folder and a pool on the big one: the
    # input's own weight shows in the same mode at both sizes.
    big_rss = median([r.tree_rss for r in one_big])
    small_rss = median([r.tree_rss for r in one_small])
    print(f"  --jobs 1, {args.files} vs {args.small}: sum RSS ratio {big_rss / small_rss:.2f} "
          f"(target: flat, and < 200 MiB)")

if __name__ == "__main__":
    main()
