"""Quality benchmark: leave-one-source-out on the real postings in ../shared/data.

For each source S of postings_dev.csv, postings_more.csv and offtopic_dev.csv, the whole
training run is repeated without S: its postings (and the data-role postings of
adjacent_dev.csv that name no ML work) are turned into count rows (the same filter
`rolecli data build` applies, recomputed without S), the team's texts in data/ are added, a
model is fitted, and S's postings are scored from their raw text. A plain scikit-learn
baseline (TF-IDF + logistic regression, as issue #11 defines it) is trained on the same
postings of each fold and printed beside it. Nothing here is in-sample.

Then each held-out source is judged with thresholds fitted, as the shipped ones are, on the
other sources' held-out scores: the mixed rule and the title check on what two careful
readers say the bodies describe (body_labels_dev.csv, the rows where they agree, each
posting under its real title), the title check also on the title swap (every posting under
a title naming its own role and the other), the short-text level on excerpts, and the
data-role rule on adjacent_dev.csv's data-engineering postings.

Reports, pooled over the held-out sources: what the body verdict, the title check and the
mixed rule say against the readers (beside the figures of the build before them,
bench/quality_before.json); the data-role postings; engineer-vs-scientist ROC AUC,
balanced accuracy and calibration error, the same with the role words masked, off-topic
flags (of ML postings, and of non-ML postings per job family), and how much a typical
benefits block moves P(scientist). Usage:
    python bench/quality.py [--sources S ...] [--save-calibration data/calibration.json]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import pickle
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rolecli.io import counts as count_form
from rolecli.io.labelled import Example, load_examples
from rolecli.model.card import Thresholds
from rolecli.model.directory import save_model
from rolecli.model.training import RoleModel
from rolecli.model.vocabulary import training_analyzer
from rolecli.tasks.classify import load_scorer
from rolecli.tasks.evaluate import Scored, mask_role_words, metrics, roc_auc
from rolecli.tasks.fit_thresholds import (
    Labelled,
    PostingSignals,
    fit_data_roles,
    fit_thresholds,
    posting_signals,
    save_threshold_settings,
)
from rolecli.text.roles import FAMILY_ONLY
from rolecli.text.title import title_label
from rolecli.verdict.decision import decide, title_grade
from rolecli.verdict.evidence import gather

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ML_FILES = ("postings_dev.csv", "postings_more.csv")
OFFTOPIC_FILE = "offtopic_dev.csv"
ADJACENT_FILE = "adjacent_dev.csv"
BODY_FILE = "body_labels_dev.csv"
TEAM_FILES = sorted((ROOT / "data").glob("*.csv"))
BEFORE = Path(__file__).with_name("quality_before.json")
csv.field_size_limit(1 << 30)

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


@dataclass
class Data:
    """The real postings, with what the readers and the adjacent file say of them."""

    ml: list[Example]
    off: list[Example]
    adjacent: list[Example]  # every data-role posting (those naming no ML also train)
    titles: dict[str, str]  # id -> scraped title
    readers: dict[str, str]  # id -> the body label both readers gave (rows they agree on)
    names_ml: dict[str, bool]  # adjacent id -> names_ml

    def training_rows(self) -> list[Example]:
        """As data/ holds them: the data-role postings naming no ML work are off-topic, the
        others teach the job-family head only (family_only)."""
        return self.ml + self.off + [
            replace(e, label=FAMILY_ONLY) if self.names_ml[e.id] else e for e in self.adjacent]


def _column(name: str, column: str) -> dict[str, str]:
    with (SHARED / name).open(newline="", encoding="utf-8") as handle:
        return {row["id"]: row[column] for row in csv.DictReader(handle)}


def load_data() -> Data:
    ml = [e for name in ML_FILES for e in load_examples(SHARED / name)]
    off = [replace(e, id=f"off:{e.id}")
           for e in load_examples(SHARED / OFFTOPIC_FILE, default_label="off_topic")]
    adjacent = [replace(e, id=f"adj:{e.id}")
                for e in load_examples(SHARED / ADJACENT_FILE, default_label="off_topic")]
    titles = {k: v for name in ML_FILES for k, v in _column(name, "title").items()}
    with (SHARED / BODY_FILE).open(newline="", encoding="utf-8") as handle:
        readers = {row["id"]: row["reader_1"] for row in csv.DictReader(handle)
                   if row["reader_1"] == row["reader_2"]}
    names_ml = {f"adj:{k}": v == "1" for k, v in _column(ADJACENT_FILE, "names_ml").items()}
    return Data(ml, off, adjacent, titles, readers, names_ml)


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
    rows = [row for file in (False, True)  # data/ holds the family-only rows in a file of their own
            for row in count_form.common(
                [count_form.CountRow(e.label, e.group, e.family, *counted[e.id])
                 for e in train if (e.label == FAMILY_ONLY) == file],
                settings, count_form.MIN_POSTINGS, count_form.MIN_SOURCES).rows]
    examples = team + [Example(f"count:{i}", None, r.label, r.source, r.family, r.counts,
                               settings, r.boilerplate) for i, r in enumerate(rows)]
    save_model(RoleModel().fit(examples), work, [], examples)
    return work


def boilerplate_share(scorer: Any, postings: list[Example]) -> list[tuple[str, float]]:
    """(label, share of the evidence |contribution| in boilerplate lines) of each posting:
    how much of a verdict comes from benefits, equal-opportunity, about-the-company,
    how-to-apply and job-detail lines."""
    from rolecli.text.sections import BOILERPLATE

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


@dataclass
class Fold:
    """A held-out source's postings as the model trained without it scores them."""

    thresholds: Thresholds  # the fold model's card (off-topic, data-role defaults)
    ml: dict[str, PostingSignals] = field(default_factory=dict)  # no title, with excerpts
    masked: dict[str, PostingSignals] = field(default_factory=dict)  # role words masked
    readers: dict[str, PostingSignals] = field(default_factory=dict)  # under their titles
    adjacent: dict[str, PostingSignals] = field(default_factory=dict)
    off: dict[str, PostingSignals] = field(default_factory=dict)


def fit_for(folds: dict[str, Fold], data: Data, sources: Sequence[str],
            base: Thresholds) -> tuple[Thresholds, dict[str, Any]]:
    """Thresholds fitted, as the shipped ones are, on these sources' held-out signals."""
    by_id = {e.id: e for e in data.ml}
    readers = [Labelled(data.readers[i], folds[s].readers[i],
                        title_label(data.titles.get(i, "")))
               for s in sources for i in folds[s].readers]
    titled = [Labelled(by_id[i].label, signals)
              for s in sources for i, signals in folds[s].ml.items()]
    thresholds, report = fit_thresholds(readers, base, swap=titled, short=titled)
    family = {e.id: e.family for e in data.adjacent}
    data_engineers = [signals for s in sources for i, signals in folds[s].adjacent.items()
                      if family[i] == "data_engineer"]
    data_roles, report["data_roles"] = fit_data_roles(data_engineers, thresholds)
    return thresholds._replace(data_roles=data_roles), report


def _f(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _share(flags: list[bool]) -> tuple[float | None, str]:
    return (sum(flags) / len(flags) if flags else None), f"{sum(flags)}/{len(flags)}"


@dataclass
class Scores:
    """What pass 1 measures: each held-out source's signals, the baseline and the benefits
    and boilerplate figures. Pass 2 needs nothing else, so --keep can store it."""

    folds: dict[str, Fold] = field(default_factory=dict)
    baseline: list[tuple[int, float, float]] = field(default_factory=list)  # y, P, P masked
    shifts: list[tuple[float, float]] = field(default_factory=list)
    boiler: list[tuple[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def score_folds(data: Data, sources: list[str]) -> Scores:
    """Pass 1: a model per held-out source, and the signals of that source's postings."""
    started = time.perf_counter()
    team = [e for path in TEAM_FILES for e in load_examples(path)]
    analyzer = training_analyzer()
    counted = {e.id: count_form.posting_counts(e.text or "", analyzer)
               for e in data.ml + data.off + data.adjacent}
    scores = Scores()
    with tempfile.TemporaryDirectory() as tmp:
        for source in sources:
            train = [e for e in data.training_rows() if e.group != source]
            scorer = load_scorer(fold_model(train, counted, team, Path(tmp) / source))
            fold = scores.folds[source] = Fold(scorer.thresholds)
            for e in data.ml:
                if e.group == source:
                    fold.ml[e.id] = posting_signals(scorer, e.text or "")
                    fold.masked[e.id] = posting_signals(
                        scorer, mask_role_words(e.text or ""), with_excerpts=False)
                    if e.id in data.readers:
                        fold.readers[e.id] = posting_signals(
                            scorer, e.text or "", data.titles.get(e.id), with_excerpts=False)
            for kind, rows in (("adjacent", data.adjacent), ("off", data.off)):
                for e in rows:
                    if e.group == source:
                        getattr(fold, kind)[e.id] = posting_signals(
                            scorer, e.text or "", with_excerpts=False)
            clear = [e for e in data.ml if e.group == source
                     and e.label in ("engineer", "scientist")]
            if clear:
                plain, plain_masked = baseline_scores(train, clear)
                scores.baseline += [(int(e.label == "scientist"), float(p), float(m))
                                    for e, p, m in zip(clear, plain, plain_masked)]
                scores.shifts += benefits_shift(scorer, clear)
                scores.boiler += boilerplate_share(scorer, clear)
            print(f"  model without {source}", file=sys.stderr, flush=True)
    scores.seconds = time.perf_counter() - started
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", nargs="*", help="hold out only these sources")
    parser.add_argument(
        "--save-calibration", type=Path, metavar="FILE",
        help="also fit the label thresholds on every source's held-out postings and save them "
        "for the shipped model (data/calibration.json; then run `rolecli train`)",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="FILE",
        help="keep the held-out scores (pass 1) in FILE, or read them from it when it exists: "
        "the thresholds are then fitted and judged again without training the folds",
    )
    args = parser.parse_args()
    if not all((SHARED / name).is_file() for name in (*ML_FILES, OFFTOPIC_FILE, ADJACENT_FILE,
                                                      BODY_FILE)):
        print(f"skipped: {SHARED} is absent (the dev postings live outside the repository)")
        return 0
    data = load_data()
    sources = sorted({e.group for e in data.ml + data.off})
    if args.sources:
        sources = [s for s in sources if s in args.sources]
    if args.keep and args.keep.is_file():
        scores = pickle.loads(args.keep.read_bytes())
        sources = [s for s in sources if s in scores.folds]
    else:
        scores = score_folds(data, sources)
        if args.keep:
            args.keep.write_bytes(pickle.dumps(scores))
    folds = scores.folds
    if args.save_calibration:
        shipped = load_scorer(ROOT / "models" / "default")
        thresholds, fitted = fit_for(folds, data, sources, shipped.thresholds)
        save_threshold_settings({
            "training_fingerprint": shipped.card["training_fingerprint"],
            "thresholds": thresholds.as_dict(),
            "fitted": fitted,
            "fitted_on": [{
                "files": [*ML_FILES, BODY_FILE, ADJACENT_FILE], "rows": len(data.ml),
                "signals": "each posting scored by a model trained without its source "
                           "(python bench/quality.py --save-calibration)"}],
        }, args.save_calibration)
        print(f"saved {args.save_calibration}: {json.dumps(thresholds.as_dict())}",
              file=sys.stderr)
    # Pass 2: each source judged with thresholds fitted on the other sources.
    base = next(iter(folds.values())).thresholds
    judged = judge(folds, data, sources, base)
    report(judged, scores, len(sources))
    return 0


@dataclass
class Judged:
    scored: list[Scored] = field(default_factory=list)
    masked: list[Scored] = field(default_factory=list)
    flagged_off: list[tuple[str, bool]] = field(default_factory=list)
    per_source: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)
    # (reader label, title label, verdict label, grade, short) of the readers' postings
    readers: list[tuple[str, str | None, str | None, str | None]] = field(default_factory=list)
    swap: list[tuple[bool, bool]] = field(default_factory=list)  # own / other title flagged
    adjacent: list[tuple[str, bool, str | None]] = field(default_factory=list)
    chosen: list[dict[str, Any]] = field(default_factory=list)


def judge(folds: dict[str, Fold], data: Data, sources: list[str], base: Thresholds) -> Judged:
    by_id = {e.id: e for e in data.ml + data.adjacent + data.off}
    judged = Judged()
    for source in sources:
        fold = folds[source]
        thresholds, _ = fit_for(folds, data, [s for s in sources if s != source], base)
        judged.chosen.append({"title": thresholds.title.contradicts_min_p,
                              "mixed": thresholds.mixed._asdict(),
                              "short": thresholds.short_text.max_known_words,
                              "data": thresholds.data_roles.engineering_min_p})
        scored = [Scored(by_id[i], s.p_scientist, decide(s, thresholds).label or "off_topic")
                  for i, s in fold.ml.items()]
        judged.scored += scored
        judged.masked += [Scored(by_id[i], s.p_scientist,
                                 decide(s, thresholds).label or "off_topic")
                          for i, s in fold.masked.items()]
        judged.flagged_off += [(by_id[i].family or "?", decide(s, thresholds).off_topic)
                               for i, s in fold.off.items()]
        judged.per_source.append((source, metrics(scored) if scored else {}, len(fold.off)))
        for i, signals in fold.readers.items():
            verdict = decide(signals, thresholds)
            title = title_label(data.titles.get(i, ""))
            judged.readers.append((data.readers[i], title, verdict.label,
                                   title_grade(title, verdict, thresholds)))
        for i, signals in fold.ml.items():
            label = by_id[i].label
            if label in ("engineer", "scientist"):
                verdict = decide(signals, thresholds)
                other = "scientist" if label == "engineer" else "engineer"
                judged.swap.append((title_grade(label, verdict, thresholds) == "contradicts",
                                    title_grade(other, verdict, thresholds) == "contradicts"))
        for i, signals in fold.adjacent.items():
            verdict = decide(signals, thresholds)
            judged.adjacent.append((str(by_id[i].family), data.names_ml[i],
                                    "off_topic" if verdict.off_topic else verdict.label))
    return judged


def body_figures(judged: Judged) -> dict[str, tuple[float | None, str]]:
    """The figures the readers' labels give (rows both readers agree on)."""
    clear = [r for r in judged.readers if r[0] in ("engineer", "scientist")]
    mixed = [r for r in judged.readers if r[0] == "mixed"]
    not_ml = [r for r in judged.readers if r[0] == "not_ml"]
    mismatched = [r for r in clear if r[1] in ("engineer", "scientist") and r[1] != r[0]]
    matching = [r for r in clear if r[1] == r[0]]
    de = [a for a in judged.adjacent if a[0] == "data_engineer"]
    figures = {
        "clear bodies matched": _share([r[2] == r[0] for r in clear]),
        "title mismatches flagged contradicts": _share([r[3] == "contradicts" for r in mismatched]),
        "matching titles flagged contradicts": _share([r[3] == "contradicts" for r in matching]),
        "mixed bodies called mixed": _share([r[2] == "mixed" for r in mixed]),
        "clear bodies called mixed": _share([r[2] == "mixed" for r in clear]),
        "not-ML bodies called off-topic": _share([r[2] is None for r in not_ml]),
        "swap: own title flagged contradicts": _share([own for own, _ in judged.swap]),
        "swap: other role's title flagged contradicts": _share([o for _, o in judged.swap]),
        "data engineers called ML scientist": _share([a[2] == "scientist" for a in de]),
    }
    for family in ("data_engineer", "data_analyst"):
        for names in (False, True):
            rows = [a for a in judged.adjacent if a[0] == family and a[1] == names]
            figures[f"{family}, names_ml={int(names)}, off-topic"] = _share(
                [a[2] == "off_topic" for a in rows])
    return figures


TARGETS = {
    "clear bodies matched": ">= 0.85",
    "title mismatches flagged contradicts": ">= 0.70",
    "matching titles flagged contradicts": "<= 0.05",
    "mixed bodies called mixed": ">= 0.50",
    "clear bodies called mixed": "<= 0.10",
    "data engineers called ML scientist": "<= 0.05",
    "data_engineer, names_ml=0, off-topic": ">= 0.95",
    "data_analyst, names_ml=0, off-topic": ">= 0.95",
}


def report(judged: Judged, scores: Scores, n_sources: int) -> None:
    print(f"rolecli quality benchmark, {dt.date.today().isoformat()}: leave-one-source-out over "
          f"{n_sources} sources ({scores.seconds:.0f} s)")
    before = json.loads(BEFORE.read_text(encoding="utf-8")) if BEFORE.is_file() else {}
    print("\nWhat the body says, against two careful readers (body_labels_dev.csv, rows they "
          "agree on, each posting under its real title) and on the data-role postings "
          f"(adjacent_dev.csv); 'before': {before.get('build', 'n/a')}:")
    print("| figure | target | before | now |")
    print("|---|---|---|---|")
    previous = before.get("figures", {})
    for name, (value, counts) in body_figures(judged).items():
        was = f"{_f(previous[name][0])} ({previous[name][1]})" if name in previous else ""
        print(f"| {name} | {TARGETS.get(name, '')} | {was} | {_f(value)} ({counts}) |")
    choices = Counter(json.dumps(c, sort_keys=True) for c in judged.chosen)
    print("\nthresholds the folds chose (on the other sources):")
    for choice, n in choices.most_common():
        print(f"  {n} x {choice}")
    scored_report(judged, scores.baseline, scores.shifts, scores.boiler)


def scored_report(judged: Judged, baseline: list[tuple[int, float, float]],
                  shifts: list[tuple[float, float]], boiler: list[tuple[str, float]]) -> None:
    pooled, pooled_masked = metrics(judged.scored), metrics(judged.masked)
    binary, binary_masked = pooled["engineer_vs_scientist"], pooled_masked["engineer_vs_scientist"]
    base_auc = roc_auc([y for y, _, _ in baseline], [p for _, p, _ in baseline])
    base_masked = roc_auc([y for y, _, _ in baseline], [m for _, _, m in baseline])
    base_bal = statistics.mean([
        statistics.mean(p >= 0.5 for y, p, _ in baseline if y == 1),
        statistics.mean(p < 0.5 for y, p, _ in baseline if y == 0),
    ]) if baseline else None
    print("\nEngineer vs scientist (title labels), pooled over the held-out sources "
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
    print(f"title-labelled mixed postings called mixed: {_f(mixed['true_mixed_called_mixed'])} of "
          f"{pooled['labels'].get('mixed', 0)}; title-labelled clear postings called mixed "
          f"{_f(mixed['clear_called_mixed'])}")
    flagged = [f for _, f in judged.flagged_off]
    print(f"off-topic: {_f(pooled['off_topic_rate'], 4)} of {pooled['rows']} ML postings flagged; "
          f"{_f(statistics.mean(flagged) if flagged else None, 4)} of {len(flagged)} non-ML "
          "postings flagged")
    families: defaultdict[str, list[bool]] = defaultdict(list)
    for family, flag in judged.flagged_off:
        families[family].append(flag)
    print("\nNon-ML postings flagged off-topic, by job family (held out with their source):")
    print("| family | postings | flagged |")
    print("|---|---|---|")
    for family, flags in sorted(families.items(), key=lambda kv: statistics.mean(kv[1])):
        print(f"| {family} | {len(flags)} | {_f(statistics.mean(flags))} |")
    if shifts:
        middle = [moved for p, moved in shifts if 0.1 <= p <= 0.9]
        moved = sorted(m for _, m in shifts)
        print(f"\nA benefits block added to each held-out posting moves P(scientist) by at most "
              f"{_f(moved[-1], 4)} (99th percentile {_f(moved[int(0.99 * len(moved))], 4)}, "
              f"median {_f(statistics.median(moved), 4)}; "
              f"{_f(sum(m > 0.03 for m in moved) / len(moved))} move it over 0.03); on the "
              f"{len(middle)} postings with 0.1 <= P <= 0.9, at most "
              f"{_f(max(middle, default=None), 4)}")
    for label in ("engineer", "scientist"):
        values = [share for lab, share in boiler if lab == label]
        if values:
            print(f"share of the evidence in boilerplate lines (benefits, equal opportunity, "
                  f"about the company, how to apply, job details), {label} postings: mean "
                  f"{_f(statistics.mean(values))}, median {_f(statistics.median(values))}")
    print("\nPer held-out source:")
    print("| source | ML postings | AUC | balanced accuracy | ML flagged off-topic | non-ML |")
    print("|---|---|---|---|---|---|")
    for source, result, n_off in judged.per_source:
        if not result:
            print(f"| {source} | 0 | | | | {n_off} |")
            continue
        b = result["engineer_vs_scientist"]
        print(f"| {source} | {result['rows']} | {_f(b['roc_auc'])} | "
              f"{_f(b['balanced_accuracy'])} | {_f(result['off_topic_rate'])} | {n_off} |")


if __name__ == "__main__":
    sys.exit(main())
