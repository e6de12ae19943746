"""Mixed-verdict benchmark: each way of calling a posting `mixed`, leave-one-source-out.

For every source of ../shared/data/postings_dev.csv in turn, the thresholds of each
alternative are fitted on the other sources exactly as `rolecli calibrate` fits them
(Platt map, confident level, then the best recall minus false-alarm rate within the
budget), and the alternative is scored on the held-out source. The figures are pooled
over the held-out sources: the share of the true mixed postings called mixed, and the
share of clear (engineer or scientist) postings called mixed. `rolecli calibrate` makes
the same comparison between its rule sets to choose the one it ships.

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
from collections.abc import Callable, Sequence
from pathlib import Path

from rolecli.classifier import load_scorer
from rolecli.decision import GROUNDS
from rolecli.io.labelled import Example, load_examples
from rolecli.model.analyzer import hybrid_role_spans
from rolecli.thresholds import (
    CLEAR_CALLED_MIXED_BUDGET,
    GROUND_SETS,
    PostingSignals,
    Tally,
    best_grounds,
    held_out,
    posting_signals,
)

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "postings_dev.csv"
SHIPPED = ROOT / "models" / "default"
TEAM_DATA = {"data/article.csv", "data/responsibilities.csv", "data/offtopic.csv"}
NAMES = {
    frozenset({"band"}): "P(scientist) band around 0.5",
    frozenset({"split"}): "split job lines",
    frozenset({"named"}): "named as the job, body not confident",
    frozenset({"named", "band"}): "named or band",
    frozenset({"named", "split"}): "named or split",
    frozenset(GROUNDS): "named, split or band",
}
ALTERNATIVES = (frozenset({"band"}), frozenset({"split"}), *GROUND_SETS)


def cells(tally: Tally) -> str:
    return (f"{tally.recall:.3f} ({tally.mixed_called}/{tally.mixed}) | "
            f"{tally.false_alarms:.3f} ({tally.clear_called}/{tally.clear})")


def signals_by_fold(
    dev: list[Example], model_for: Callable[[str], Path], titles: dict[str, str] | None
) -> Callable[[str], Sequence[PostingSignals]]:
    cache: dict[Path, list[PostingSignals]] = {}

    def signals_for(source: str) -> Sequence[PostingSignals]:
        model = model_for(source)
        if model not in cache:
            scorer = load_scorer(model)
            cache[model] = [posting_signals(scorer, e.text, (titles or {}).get(e.id))
                            for e in dev]
        return cache[model]

    return signals_for


def previous_rule(dev: list[Example]) -> Tally:
    """A hybrid role named anywhere in the text, whatever P (the rule before this one)."""
    tally = Tally()
    for example in dev:
        tally.add(example.label, bool(hybrid_role_spans(example.text)))
    return tally


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
        body = held_out(dev, signals_by_fold(dev, model_for, None), ALTERNATIVES)
        titled = held_out(dev, signals_by_fold(dev, model_for, dev_titles()), GROUND_SETS)
    assert body is not None and titled is not None, "the dev postings have several sources"
    print(f"mixed benchmark, dev postings {DEV.name}: {len(dev)} rows, "
          f"{sum(e.label == 'mixed' for e in dev)} mixed; leave-one-source-out over "
          f"{len({e.group for e in dev})} sources; models: {mode}; "
          f"false-alarm budget in each fit {CLEAR_CALLED_MIXED_BUDGET:.0%}")
    print("| rule | true mixed called mixed | clear postings called mixed |")
    print("|---|---|---|")
    for grounds, tally in zip(ALTERNATIVES, body):
        print(f"| {NAMES[grounds]} | {cells(tally)} |")
    print(f"| a hybrid role named anywhere (the previous rule) | {cells(previous_rule(dev))} |")
    chosen = best_grounds(GROUND_SETS, body[-len(GROUND_SETS):])
    print(f"| {NAMES[chosen]}, titles given | {cells(titled[GROUND_SETS.index(chosen)])} |")
    print(f"\nrolecli calibrate chooses: {NAMES[chosen]} (the largest held-out recall minus "
          "false-alarm rate with at most 5% of clear postings called mixed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
