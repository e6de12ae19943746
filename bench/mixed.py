"""Mixed-verdict benchmark: each way of calling a posting `mixed`, leave-one-source-out.

For every source of ../shared/data/postings_dev.csv in turn, the thresholds of each
alternative are fitted on the other sources exactly as `rolecli calibrate` fits them
(Platt map, confident level, then the best recall minus false-alarm rate within the
budget), and the alternative is scored on the held-out source. The figures are pooled
over the held-out sources: the share of the true mixed postings called mixed, and the
share of clear (engineer or scientist) postings called mixed.

Models: the shipped one for every fold when it was trained on the team's own data only
(it never saw a dev posting), else one model per fold trained on data/ plus the other
sources (bench/quality.py's workflow). The dev postings' texts do not hold their titles,
so the main figures read the body alone; a last row gives each posting its scraped title,
whose words are also where the labels came from (it shows what a title adds, not quality).

Usage: python bench/mixed.py [--models auto|shipped|per-fold]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rolecli.calibration import (
    CLEAR_CALLED_MIXED_BUDGET,
    Fixed,
    PostingSignals,
    balanced_cut,
    confident_level,
    fit_platt,
    mixed_rule,
    posting_signals,
)
from rolecli.classifier import load_scorer
from rolecli.datasets import Example, load_examples
from rolecli.decision import decide
from rolecli.text import hybrid_role_spans

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "postings_dev.csv"
SHIPPED = ROOT / "models" / "default"
TEAM_DATA = {"data/article.csv", "data/responsibilities.csv", "data/offtopic.csv"}

# (name, grounds calibrate may use); the rule rolecli ships is the last.
ALTERNATIVES: tuple[tuple[str, frozenset[str]], ...] = (
    ("P(scientist) band around 0.5", frozenset({"band"})),
    ("named as the job, body not confident", frozenset({"named"})),
    ("split job lines", frozenset({"split"})),
    ("named or band", frozenset({"named", "band"})),
    ("named or split", frozenset({"named", "split"})),
    ("named, split or band (rolecli calibrate)", frozenset({"named", "split", "band"})),
)


@dataclass
class Tally:
    mixed: int = 0
    mixed_called: int = 0
    clear: int = 0
    clear_called: int = 0

    def add(self, label: str, called: bool) -> None:
        if label == "mixed":
            self.mixed += 1
            self.mixed_called += called
        elif label in ("engineer", "scientist"):
            self.clear += 1
            self.clear_called += called

    def cells(self) -> str:
        recall = self.mixed_called / self.mixed if self.mixed else float("nan")
        false = self.clear_called / self.clear if self.clear else float("nan")
        return (f"{recall:.3f} ({self.mixed_called}/{self.mixed}) | "
                f"{false:.3f} ({self.clear_called}/{self.clear})")


def calibrated(
    rows: list[tuple[Example, PostingSignals]], fit_on: list[int]
) -> list[tuple[str, Fixed]]:
    """Every row under the Platt map fitted on the rows `fit_on` (as calibrate fits it)."""
    binary = [(rows[i][1].raw, int(rows[i][0].label == "scientist"))
              for i in fit_on if rows[i][0].label in ("engineer", "scientist")]
    a, _ = fit_platt([z for z, _ in binary], [t for _, t in binary])
    b = -a * balanced_cut([z for z, _ in binary], [t for _, t in binary])
    return [(e.label, s.calibrated(a, b)) for e, s in rows]


def fold_report(
    dev: list[Example],
    model_for: Callable[[str], Path],
    titles: dict[str, str] | None = None,
) -> tuple[dict[str, Tally], dict[str, list[str]]]:
    """Pooled held-out tallies per alternative, and the rule each fold chose."""
    tallies = {name: Tally() for name, _ in ALTERNATIVES}
    tallies["a hybrid role named anywhere (the previous rule)"] = Tally()
    chosen: dict[str, list[str]] = {}
    for source in sorted({e.group for e in dev}):
        scorer = load_scorer(model_for(source))
        signals = [(e, posting_signals(scorer, e.text, (titles or {}).get(e.id))) for e in dev]
        train = [i for i, e in enumerate(dev) if e.group != source]
        held_out = [i for i, e in enumerate(dev) if e.group == source]
        fixed = calibrated(signals, train)
        confident = confident_level([fixed[i] for i in train])
        for name, grounds in ALTERNATIVES:
            rule = mixed_rule([fixed[i] for i in train], confident, grounds)
            thresholds = {"off_topic": {"min_p_on_topic": 0.0}, "confident": {"min_p": confident},
                          "mixed": rule}
            for label, row in (fixed[i] for i in held_out):
                tallies[name].add(label, decide(row, thresholds).label == "mixed")
            chosen.setdefault(name, []).append(f"{source}: confident {confident}, {rule}")
        for example in (e for e in dev if e.group == source):
            tallies["a hybrid role named anywhere (the previous rule)"].add(
                example.label, bool(hybrid_role_spans(example.text))
            )
    return tallies, chosen


def shipped_saw_no_posting() -> bool:
    card = load_scorer(SHIPPED).card
    return {item["path"] for item in card.get("training_data", [])} <= TEAM_DATA


def per_fold_models(dev: list[Example], work: Path) -> Callable[[str], Path]:
    sys.path.insert(0, str(Path(__file__).parent))
    from quality import postings_trained

    cache: dict[str, Path] = {}

    def model_for(source: str) -> Path:
        if source not in cache:
            folder = work / source
            folder.mkdir()
            cache[source] = postings_trained([e for e in dev if e.group != source], folder)
        return cache[source]

    return model_for


def dev_titles() -> dict[str, str]:
    with DEV.open(newline="", encoding="utf-8") as handle:
        return {row["id"]: row["title"] for row in csv.DictReader(handle)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", choices=("auto", "shipped", "per-fold"), default="auto")
    args = parser.parse_args(argv)
    if not DEV.is_file():
        print(f"skipped: {DEV} is absent (the dev postings live outside the repository)")
        return 0
    csv.field_size_limit(sys.maxsize)
    dev = load_examples(DEV)
    mode = args.models
    if mode == "auto":
        mode = "shipped" if shipped_saw_no_posting() else "per-fold"
    with tempfile.TemporaryDirectory() as tmp:
        model_for = (lambda _source: SHIPPED) if mode == "shipped" else per_fold_models(
            dev, Path(tmp))
        body, chosen = fold_report(dev, model_for)
        titled, _ = fold_report(dev, model_for, dev_titles())
    print(f"mixed benchmark, dev postings {DEV.name}: {len(dev)} rows, "
          f"{sum(e.label == 'mixed' for e in dev)} mixed; leave-one-source-out over "
          f"{len({e.group for e in dev})} sources; models: {mode}; "
          f"false-alarm budget in each fit {CLEAR_CALLED_MIXED_BUDGET:.0%}")
    print("| rule | true mixed called mixed | clear postings called mixed |")
    print("|---|---|---|")
    for name, tally in body.items():
        print(f"| {name} | {tally.cells()} |")
    final = ALTERNATIVES[-1][0]
    print(f"| {final}, titles given | {titled[final].cells()} |")
    print("\nthresholds chosen per held-out source (rolecli calibrate's search):")
    for line in chosen[final]:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
