"""Quality benchmark: the shipped model, an article-only model, and leave-one-source-out models.

Reads ../shared/data/postings_dev.csv (real postings; never copied into the repo) and
tests/data/offtopic/ (the team's own off-topic texts). Usage:
    python bench/quality.py [--skip-loso]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any

from rolecli.calibration import calibrate, save_calibration
from rolecli.classifier import classify, load_scorer
from rolecli.datasets import Example, load_examples
from rolecli.evaluation import evaluate
from rolecli.model import train

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "postings_dev.csv"
OFFTOPIC = ROOT / "tests" / "data" / "offtopic"
DATA = ROOT / "data"

COLUMNS = (
    ("AUC", lambda r: r["engineer_vs_scientist"]["roc_auc"]),
    ("bal.acc", lambda r: r["engineer_vs_scientist"]["balanced_accuracy"]),
    ("AUC masked", lambda r: r["masked"]["engineer_vs_scientist"]["roc_auc"]),
    ("bal.acc masked", lambda r: r["masked"]["engineer_vs_scientist"]["balanced_accuracy"]),
    ("ECE", lambda r: r["engineer_vs_scientist"]["ece"]),
    ("mixed→mixed", lambda r: r["mixed"]["true_mixed_called_mixed"]),
    ("clear→mixed", lambda r: r["mixed"]["clear_called_mixed"]),
    ("off-topic (postings)", lambda r: r["off_topic_rate"]),
    ("off-topic texts flagged", lambda r: r["offtopic_flagged"]),
)


def offtopic_flagged(model: Path) -> float:
    scorer = load_scorer(model)
    files = sorted(OFFTOPIC.glob("*.txt"))
    return sum(classify(f.read_text(encoding="utf-8"), scorer)["off_topic"] for f in files) / len(
        files
    )


def report(model: Path, examples: list[Example]) -> dict[str, Any]:
    result = evaluate(examples, model)
    result["masked"] = evaluate(examples, model, mask=True)
    result["offtopic_flagged"] = offtopic_flagged(model)
    return result


def write_csv(rows: list[Example], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label", "text", "source"])
        for e in rows:
            writer.writerow([e.id, e.label, e.text, e.group])
    return path


def postings_trained(train_rows: list[Example], work: Path) -> Path:
    """The documented workflow: train on postings + data/, calibrate on them, retrain."""
    postings = write_csv(train_rows, work / "train.csv")
    shipped = sorted(DATA.glob("*.csv"))
    base = train([*shipped, postings], work / "base", calibration=None, cv=3).output
    settings = calibrate(postings, base)
    save_calibration(settings, work / "calibration.json")
    return train(
        [*shipped, postings], work / "model", calibration=work / "calibration.json", cv=3
    ).output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--skip-loso", action="store_true", help="Skip the leave-one-source-out models."
    )
    args = parser.parse_args()
    if not DEV.is_file():
        print(f"skipped: {DEV} is absent (the dev postings live outside the repository)")
        return
    dev = load_examples(DEV)
    rows: list[tuple[str, str, dict[str, Any]]] = []
    rows.append(
        (
            "shipped model (data/ only)",
            f"all dev ({len(dev)})",
            report(ROOT / "models" / "default", dev),
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        article = train(
            [DATA / "article.csv", DATA / "offtopic.csv"], work / "article", None, 3
        ).output
        rows.append(("article bullets only", f"all dev ({len(dev)})", report(article, dev)))
        if not args.skip_loso:
            for source in sorted({e.group for e in dev}):
                held_out = [e for e in dev if e.group == source]
                folder = work / source
                folder.mkdir()
                model = postings_trained([e for e in dev if e.group != source], folder)
                rows.append(
                    (
                        f"postings + data/, without {source}",
                        f"{source} ({len(held_out)})",
                        report(model, held_out),
                    )
                )

    print(f"rolecli quality benchmark, {dt.date.today().isoformat()}, dev postings: {DEV.name}")
    header = ["model", "evaluated on", *[name for name, _ in COLUMNS]]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, scope, result in rows:
        cells = [_fmt(get(result)) for _, get in COLUMNS]
        print("| " + " | ".join([name, scope, *cells]) + " |")
    print(
        "\nAUC/bal.acc/ECE: engineer-vs-scientist rows; masked: engineer(s)/scientist(s)/"
        "engineering blanked out; mixed→mixed: true mixed rows called mixed; "
        "clear→mixed: clear rows called mixed."
    )
    if not args.skip_loso:
        import mixed  # bench/mixed.py: each way of calling `mixed`, leave-one-source-out

        print()
        mixed.main([])


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
