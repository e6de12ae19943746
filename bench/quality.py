"""Quality benchmark: leave-one-source-out on the real postings in ../shared/data.

For each source S of postings_dev.csv, postings_more.csv and offtopic_dev.csv, the whole
training run is repeated without S: its postings are turned into count rows (the same
filter `rolecli data build` applies, recomputed without S), the team's texts in data/ are
added, a model is fitted, and S's postings are scored from their raw text. A plain
scikit-learn baseline (TF-IDF + logistic regression, as issue #11 defines it) is trained
on the same postings of each fold and printed beside it. Nothing here is in-sample.

Reports, pooled over the held-out sources: engineer-vs-scientist ROC AUC, balanced
accuracy and calibration error, the same with the role words masked, the mixed rates,
off-topic flags (of ML postings, and of non-ML postings per job family), and how much a
typical benefits block moves P(scientist). Usage:
    python bench/quality.py [--sources S ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from rolecli import counts as count_form
from rolecli.classifier import load_scorer
from rolecli.evaluation import Scored, mask_role_words, metrics, roc_auc, score_examples
from rolecli.evidence import gather
from rolecli.io.labelled import Example, load_examples
from rolecli.model.training import RoleModel, training_analyzer
from rolecli.thresholds import fit_thresholds, posting_signals

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ML_FILES = ("postings_dev.csv", "postings_more.csv")
OFFTOPIC_FILE = "offtopic_dev.csv"
TEAM_FILES = sorted((ROOT / "data").glob("*.csv"))

# Benefits blocks the team wrote in the style of real postings (no posting text): added to
# a posting, they must not move its verdict.
BENEFITS = (
    "What we offer\n"
    "- Competitive salary and annual bonus\n"
    "- 401(k) with a 5% company match\n"
    "- Medical, dental and vision insurance from day one\n"
    "- Unlimited PTO and 12 paid holidays\n"
    "- Paid parental leave and a wellness stipend\n",
    "Benefits: comprehensive health coverage, generous paid time off, a retirement plan "
    "with employer matching, life and disability insurance, tuition reimbursement, a "
    "commuter allowance and flexible hybrid working.\n"
    "We are an equal opportunity employer. All qualified applicants will receive "
    "consideration for employment without regard to race, color, religion, sex, sexual "
    "orientation, gender identity, national origin, disability or veteran status.\n",
    "Perks & benefits\n"
    "* 30 days of holiday plus bank holidays\n"
    "* Pension scheme with matched contributions\n"
    "* Private medical insurance for you and your family\n"
    "* Learning budget, free lunches and a cycle-to-work scheme\n"
    "How to apply: send your CV and a short cover letter; we review applications on a "
    "rolling basis.\n",
    # No heading, and perks that share words with the work ("learning", "development").
    "- Flexible working hours and a remote-friendly culture\n"
    "- An annual learning and development budget\n"
    "- Private health insurance and a yearly wellbeing allowance\n"
    "- Team offsites, free snacks and a modern office in the city centre\n",
)


def baseline_scores(train: list[Example], test: list[Example]) -> tuple[list[float], list[float]]:
    """The plain baseline of issue #11, fitted on the fold's engineer/scientist postings:
    P(scientist) of the test postings, and of them with the role words masked."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rows = [e for e in train if e.label in ("engineer", "scientist")]
    pipeline = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=3, stop_words="english"),
        LogisticRegression(class_weight="balanced"),
    )
    pipeline.fit([e.text for e in rows], [e.label == "scientist" for e in rows])
    texts = [e.text or "" for e in test]
    return (list(pipeline.predict_proba(texts)[:, 1]),
            list(pipeline.predict_proba([mask_role_words(t) for t in texts])[:, 1]))


def fold_model(
    train: list[Example], counted: dict[str, tuple[Counter[str], Counter[str]]],
    team: list[Example], work: Path,
) -> Path:
    """The shipped model's recipe, run on the fold's postings: counts, team texts, fit, save."""
    settings = count_form.analyzer_settings(training_analyzer())
    rows = count_form.common(
        [count_form.CountRow(e.label, e.group, e.family, *counted[e.id]) for e in train],
        settings, count_form.MIN_POSTINGS, count_form.MIN_SOURCES,
    ).rows
    examples = team + [Example(f"count:{i}", None, r.label, r.source, r.family, r.counts,
                               settings, r.boilerplate) for i, r in enumerate(rows)]
    RoleModel().fit(examples).save(work, [], examples)
    return work


def boilerplate_share(scorer: Any, postings: list[Example]) -> list[tuple[str, float]]:
    """(label, share of the evidence |contribution| in boilerplate lines) of each posting:
    how much of a verdict comes from benefits, equal-opportunity, about-the-company,
    how-to-apply and job-detail lines."""
    from rolecli.sections import BOILERPLATE

    shares = []
    for example in postings:
        lines = gather(scorer, example.text or "").lines
        total = sum(abs(line.contribution) for line in lines)
        boiler = sum(abs(line.contribution) for line in lines if line.kind in BOILERPLATE)
        shares.append((example.label, boiler / total if total else 0.0))
    return shares


def benefits_shift(scorer: Any, postings: list[Example]) -> list[tuple[float, float]]:
    """(P(scientist), largest |change| over the benefits blocks) of each posting."""
    shifts = []
    for example in postings:
        text = example.text or ""
        p = gather(scorer, text).p_scientist
        moved = max(abs(gather(scorer, text + "\n\n" + block).p_scientist - p)
                    for block in BENEFITS)
        shifts.append((p, moved))
    return shifts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", nargs="*", help="hold out only these sources")
    parser.add_argument(
        "--save-calibration", type=Path, metavar="FILE",
        help="also fit the label thresholds on every source's held-out postings and save them "
        "for the shipped model (data/calibration.json; then run `rolecli train`)",
    )
    args = parser.parse_args()
    if not (SHARED / ML_FILES[0]).is_file():
        print(f"skipped: {SHARED} is absent (the dev postings live outside the repository)")
        return 0
    started = time.perf_counter()
    ml = [e for name in ML_FILES for e in load_examples(SHARED / name)]
    off = load_examples(SHARED / OFFTOPIC_FILE, default_label="off_topic")
    # Ids of the fold's own: each posting's counts are computed once, for every fold.
    ml = [replace(e, id=f"ml:{i}") for i, e in enumerate(ml)]
    off = [replace(e, id=f"off:{i}") for i, e in enumerate(off)]
    team = [e for path in TEAM_FILES for e in load_examples(path)]
    analyzer = training_analyzer()
    counted = {e.id: count_form.posting_counts(e.text or "", analyzer) for e in ml + off}
    sources = sorted({e.group for e in ml + off})
    if args.sources:
        sources = [s for s in sources if s in args.sources]

    scored: list[Scored] = []
    masked: list[Scored] = []
    baseline: list[tuple[int, float, float]] = []  # (scientist?, P, P with role words masked)
    flagged_off: list[tuple[str, bool]] = []
    shifts: list[tuple[float, float]] = []
    per_source: list[tuple[str, dict[str, Any], int]] = []
    grounds: dict[str, list[str]] = {}
    boiler: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        # Pass 1: a model per held-out source, and the signals of that source's postings.
        folds = {}
        held_signals: dict[str, list[Any]] = {}
        for source in sources:
            train = [e for e in ml + off if e.group != source]
            scorer = load_scorer(fold_model(train, counted, team, Path(tmp) / source))
            folds[source] = scorer
            held_signals[source] = [posting_signals(scorer, e.text or "")
                                    for e in ml if e.group == source]
            clear = [e for e in ml if e.group == source and e.label in ("engineer", "scientist")]
            if clear:
                plain, plain_masked = baseline_scores(train, clear)
                baseline += [(int(e.label == "scientist"), float(p), float(m))
                             for e, p, m in zip(clear, plain, plain_masked)]
                shifts += benefits_shift(scorer, clear)
                boiler += boilerplate_share(scorer, clear)
            print(f"  model without {source}", file=sys.stderr, flush=True)
        if args.save_calibration:
            save_shipped_calibration(args.save_calibration, ml, held_signals, sources)
        # Pass 2: each source scored with thresholds fitted, as `rolecli calibrate` fits the
        # shipped ones, on the other sources' postings as their own held-out models saw them.
        for source in sources:
            scorer = folds[source]
            others = [s for s in sources if s != source]
            thresholds, chosen = fit_thresholds(
                [e for s in others for e in ml if e.group == s],
                [signal for s in others for signal in held_signals[s]],
                scorer.thresholds["off_topic"],
            )
            grounds[source] = chosen["chosen"]
            held_ml = [e for e in ml if e.group == source]
            held_off = [e for e in off if e.group == source]
            fold = score_examples(scorer, held_ml, thresholds=thresholds)
            scored += fold
            masked += score_examples(scorer, held_ml, mask=True, thresholds=thresholds)
            flagged_off += [(s.example.family or "?", s.label == "off_topic")
                            for s in score_examples(scorer, held_off, thresholds=thresholds)]
            per_source.append((source, metrics(fold) if fold else {}, len(held_off)))
    report(scored, masked, baseline, flagged_off, shifts, per_source,
           time.perf_counter() - started)
    for label in ("engineer", "scientist"):
        values = [share for lab, share in boiler if lab == label]
        print(f"share of the evidence in boilerplate lines (benefits, equal opportunity, about "
              f"the company, how to apply, job details), {label} postings: mean "
              f"{_f(statistics.mean(values))}, median {_f(statistics.median(values))}")
    chosen = Counter("+".join(g) for g in grounds.values())
    print(f"\nmixed rule sets the folds' calibration chose: {dict(chosen)}")
    return 0


def save_shipped_calibration(
    path: Path, ml: list[Example], held_signals: dict[str, list[Any]], sources: list[str]
) -> None:
    """The shipped model's thresholds, fitted on every posting as a model that never saw
    its source scored it (fitting them in-sample would make the model look surer than it
    is on new sources)."""
    import json

    from rolecli.thresholds import save_calibration

    shipped = load_scorer(ROOT / "models" / "default")
    thresholds, grounds = fit_thresholds(
        [e for s in sources for e in ml if e.group == s],
        [signal for s in sources for signal in held_signals[s]],
        shipped.thresholds["off_topic"],
    )
    save_calibration({
        "training_fingerprint": shipped.card["training_fingerprint"],
        "thresholds": thresholds,
        "mixed_grounds": grounds,
        "fitted_on": [
            {"files": list(ML_FILES), "rows": len(ml),
             "signals": "each posting scored by a model trained without its source "
                        "(python bench/quality.py --save-calibration)"}],
    }, path)
    print(f"saved {path}: {json.dumps(thresholds)}", file=sys.stderr)


def _f(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def report(
    scored: list[Scored], masked: list[Scored], baseline: list[tuple[int, float, float]],
    flagged_off: list[tuple[str, bool]], shifts: list[tuple[float, float]],
    per_source: list[tuple[str, dict[str, Any], int]], seconds: float,
) -> None:
    pooled, pooled_masked = metrics(scored), metrics(masked)
    binary, binary_masked = pooled["engineer_vs_scientist"], pooled_masked["engineer_vs_scientist"]
    base_auc = roc_auc([y for y, _, _ in baseline], [p for _, p, _ in baseline])
    base_masked = roc_auc([y for y, _, _ in baseline], [m for _, _, m in baseline])
    base_bal = statistics.mean([
        statistics.mean(p >= 0.5 for y, p, _ in baseline if y == 1),
        statistics.mean(p < 0.5 for y, p, _ in baseline if y == 0),
    ]) if baseline else None
    print(f"rolecli quality benchmark, {dt.date.today().isoformat()}: leave-one-source-out over "
          f"{len(per_source)} sources ({seconds:.0f} s)")
    print("\nEngineer vs scientist, pooled over the held-out sources "
          f"({binary['rows']} postings):")
    print("| model | ROC AUC | balanced accuracy | ECE | AUC, role words masked |")
    print("|---|---|---|---|---|")
    print(f"| rolecli | {_f(binary['roc_auc'])} | {_f(binary['balanced_accuracy'])} | "
          f"{_f(binary['ece'])} | {_f(binary_masked['roc_auc'])} |")
    print(f"| plain TF-IDF + LR baseline | {_f(base_auc)} | {_f(base_bal)} | | "
          f"{_f(base_masked)} |")
    print(f"\nmasking engineer(s)/scientist(s)/engineering/science changes AUC by "
          f"{_f((binary_masked['roc_auc'] or 0) - (binary['roc_auc'] or 0), 4)}; rolecli minus "
          f"baseline AUC {_f((binary['roc_auc'] or 0) - (base_auc or 0), 4)}, both with the role "
          f"words masked {_f((binary_masked['roc_auc'] or 0) - (base_masked or 0), 4)}")
    mixed = pooled["mixed"]
    print(f"mixed (thresholds fitted on the other sources' held-out postings): "
          f"{_f(mixed['true_mixed_called_mixed'])} of "
          f"{pooled['labels'].get('mixed', 0)} true mixed postings called mixed, "
          f"{_f(mixed['clear_called_mixed'])} of clear postings called mixed")
    print(f"off-topic: {_f(pooled['off_topic_rate'], 4)} of {pooled['rows']} ML postings flagged; "
          f"{_f(statistics.mean(f for _, f in flagged_off), 4)} of {len(flagged_off)} non-ML "
          "postings flagged")
    families: defaultdict[str, list[bool]] = defaultdict(list)
    for family, flag in flagged_off:
        families[family].append(flag)
    print("\nNon-ML postings flagged off-topic, by job family (held out with their source):")
    print("| family | postings | flagged |")
    print("|---|---|---|")
    for family, flags in sorted(families.items(), key=lambda kv: statistics.mean(kv[1])):
        print(f"| {family} | {len(flags)} | {_f(statistics.mean(flags))} |")
    middle = [moved for p, moved in shifts if 0.1 <= p <= 0.9]
    moved = sorted(m for _, m in shifts)
    print(f"\nA benefits block added to each held-out posting moves P(scientist) by at most "
          f"{_f(moved[-1], 4)} (99th percentile {_f(moved[int(0.99 * len(moved))], 4)}, median "
          f"{_f(statistics.median(moved), 4)}; {_f(sum(m > 0.03 for m in moved) / len(moved))} "
          f"move it over 0.03); on the {len(middle)} postings with 0.1 <= P <= 0.9, at most "
          f"{_f(max(middle, default=None), 4)}")
    print("\nPer held-out source:")
    print("| source | ML postings | AUC | balanced accuracy | ML flagged off-topic | non-ML |")
    print("|---|---|---|---|---|---|")
    for source, result, n_off in per_source:
        if not result:
            print(f"| {source} | 0 | | | | {n_off} |")
            continue
        b = result["engineer_vs_scientist"]
        print(f"| {source} | {result['rows']} | {_f(b['roc_auc'])} | "
              f"{_f(b['balanced_accuracy'])} | {_f(result['off_topic_rate'])} | {n_off} |")


if __name__ == "__main__":
    sys.exit(main())
