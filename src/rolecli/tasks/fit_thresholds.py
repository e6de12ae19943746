"""Fitting the label thresholds (`rolecli calibrate`): the mixed rule, the title check and
the short-text level, on labelled postings, saved as JSON.

`rolecli train` folds them into the model it builds when they were fitted for the same
base model, so the shipped model is reproducible from data/ without the postings
themselves. (The shipped ones are fitted by `python bench/quality.py --save-calibration`
with these same functions, on what careful readers say the postings' bodies describe; the
probability map, Platt scaling, is `model.platt`'s. The settings file, data/calibration.json
by default, is read back by `model.training.load_threshold_settings`.)

Each threshold is chosen against the labels, never against the titles (real postings are
labelled from their titles):
  - the mixed rule: the grounds and numbers with the largest share of mixed postings
    called mixed minus the share of clear ones called mixed, calling at most
    CLEAR_CALLED_MIXED_BUDGET of the clear ones mixed;
  - the title check: the lowest confidence from which a body contradicts its title that
    flags at most TITLE_FALSE_ALARM_BUDGET of the postings whose title names their own
    role, both under their real titles (when known) and in the title-swap check (each
    posting under a title naming its own role, and under one naming the other);
  - the short-text level: the fewest known words from which verdicts on excerpts of the
    postings are right at least SHORT_TEXT_RELATIVE_ACCURACY as often as the verdicts on
    the whole postings.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..io.labelled import load_examples, sha256_file
from ..model.card import (
    DataRoleThresholds,
    MixedThresholds,
    ShortTextThresholds,
    Thresholds,
    TitleThresholds,
)
from ..model.scorer import Scorer, sigmoid
from ..verdict.decision import Verdict, decide, names_hybrid, title_grade
from ..verdict.evidence import gather
from .classify import load_scorer

CLEAR_CALLED_MIXED_BUDGET = 0.10
TITLE_FALSE_ALARM_BUDGET = 0.05
# A text is short while verdicts on excerpts that size are right less often than this share
# of the time the whole postings' verdicts are.
SHORT_TEXT_RELATIVE_ACCURACY = 0.9
DATA_ENGINEER_AS_SCIENTIST_BUDGET = 0.03  # the target is 5%: a margin for unseen sources
# Candidates, strictest first where it matters (ties keep the earlier one).
CONTRADICTS_LEVELS = (0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85)  # <= "high" confidence (0.85)
STRONG_SHARES = (0.02, 0.025, 0.03, 0.035, 0.04, 0.05)
MIN_LINES = (2, 3)  # "both kinds of work substantial": one strong line a side is not
MIN_BALANCES = (0.45, 0.4, 0.36, 0.33, 0.3)
# No wider than P 0.03 to 0.97: wider bands fitted better in sample but called more clear
# postings mixed on held-out sources (bench/quality.py), and every posting in the band has
# its lines read, which is most of what scoring one costs.
SPLIT_BANDS = ((0.2, 0.8), (0.1, 0.9), (0.05, 0.95), (0.03, 0.97))
BAND_WIDTHS: tuple[float | None, ...] = (None, 0.05, 0.1, 0.15, 0.2)
NAMED_BANDS: tuple[float | None, ...] = (None, 0.2, 0.3, 0.45)
SHORT_LEVELS = (5, 10, 15, 20, 25, 30, 40, 50)
ENGINEERING_LEVELS = (0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1)  # least intrusive first


@dataclass(frozen=True)
class PostingSignals:
    """What the label rule reads from one posting (decision.Signals), computed once, with
    the verdicts of its excerpts (for the short-text level)."""

    p_scientist: float
    p_on_topic: float
    known_words: int
    names_ml_work: bool
    describes_job: bool
    families: dict[str, float] | None
    named: tuple[str, ...]  # labels of the roles named as the job
    job_lines: tuple[float, ...]  # each job line's evidence, in logit units
    excerpts: tuple[tuple[int, float], ...]  # (known words, P(scientist)) of excerpts
    ml_colleagues: str | None = None  # the ML roles it names only as colleagues
    names_ml_work_in_job: bool = True  # ML work named outside its About section

    def names_hybrid(self) -> bool:
        return names_hybrid(list(self.named))

    def strong_lines(self, strong_share: float) -> tuple[int, int]:
        cut = strong_share * math.fsum(abs(c) for c in self.job_lines)
        if not cut:
            return 0, 0
        return (sum(-c >= cut for c in self.job_lines), sum(c >= cut for c in self.job_lines))


def posting_signals(
    scorer: Scorer, text: str, title: str | None = None, with_excerpts: bool = True
) -> PostingSignals:
    """The signals of one posting. `calibrate` passes no title: the labels of real postings
    come from their titles, so a fit that read them would learn the labels back."""
    evidence = gather(scorer, text, title)
    job = [line for line in evidence.lines if line.job]
    return PostingSignals(
        evidence.p_scientist, evidence.p_on_topic, evidence.known_words,
        evidence.names_ml_work, evidence.describes_job, evidence.families,
        tuple(evidence.named_labels()),
        tuple(line.contribution for line in job),
        excerpts(scorer, [text[line.start : line.end] for line in job]) if with_excerpts else (),
        evidence.ml_colleagues, evidence.names_ml_work_in_job,
    )


def excerpts(scorer: Scorer, lines: list[str]) -> tuple[tuple[int, float], ...]:
    """(known words, P(scientist)) of excerpts of the posting's job lines, taken one at a
    time from its middle line on (wrapping round), until each of SHORT_LEVELS known words
    is reached: what a verdict on that little text would have said. The middle, not the
    top, where a posting's opening often names its role. (N-grams stop at line breaks, so
    the lines' counts add up.)"""
    found: list[tuple[int, float]] = []
    levels = iter(SHORT_LEVELS)
    level = next(levels)
    counts: dict[int, int] = {}
    middle = len(lines) // 2
    for line in lines[middle:] + lines[:middle]:
        for slot, n in scorer.term_counts(line).items():
            counts[slot] = counts.get(slot, 0) + n
        known = scorer.known_words(counts)
        while level and known >= level:
            found.append((level, sigmoid(scorer.logits(scorer.weigh(counts))[0])))
            level = next(levels, 0)
    return tuple(found)


@dataclass(frozen=True)
class Labelled:
    """A posting to fit on: what its body is (engineer, scientist, mixed), its signals, and
    the role its real title names, when known."""

    label: str
    signals: PostingSignals
    title: str | None = None


def threshold_settings(
    data: str | Path | Sequence[str | Path],
    model: str | Path | None = None,
    text_column: str = "text",
    label_column: str = "label",
) -> dict[str, Any]:
    """The mixed rule, title check and short-text level for a model, fitted on the labelled
    postings in `data` (one or more files; the off-topic and data-role thresholds stay
    those of the model's card)."""
    paths = [Path(data)] if isinstance(data, (str, Path)) else [Path(p) for p in data]
    loaded = [[e for e in load_examples(path, text_column, label_column) if e.text is not None]
              for path in paths]
    examples = [e for rows in loaded for e in rows]
    names = ", ".join(str(path) for path in paths)
    if not examples:
        raise UsageError(f"{names}: calibration needs posting texts (count rows have none)")
    if not {"engineer", "scientist"} <= {e.label for e in examples}:
        raise UsageError(f"{names}: calibration needs both engineer and scientist rows")
    scorer = load_scorer(model)
    rows = [Labelled(e.label, posting_signals(scorer, e.text or "")) for e in examples]
    thresholds, report = fit_thresholds(rows, scorer.thresholds)
    return {
        "training_fingerprint": scorer.card["training_fingerprint"],
        "thresholds": thresholds.as_dict(),
        "fitted": report,
        "fitted_on": [
            {"file": path.name, "sha256": sha256_file(path) if path.is_file() else None,
             "rows": len(rows)}
            for path, rows in zip(paths, loaded)
        ],
    }


def fit_thresholds(
    rows: Sequence[Labelled], base: Thresholds, swap: Sequence[Labelled] | None = None,
    short: Sequence[Labelled] | None = None,
) -> tuple[Thresholds, dict[str, Any]]:
    """(thresholds, what each was chosen on): the mixed rule on `rows`, the title check on
    `rows` under their real titles and on the title swap of `swap` (default: `rows`), and
    the short-text level on the excerpts of `short` (default: `rows`)."""
    mixed, mixed_report = fit_mixed(rows, base.mixed)
    fitted = base._replace(mixed=mixed)
    title, title_report = fit_title(rows, swap if swap is not None else rows, fitted)
    level, short_report = fit_short_text(short if short is not None else rows, base.short_text)
    fitted = fitted._replace(title=title, short_text=level)
    return fitted, {"mixed": mixed_report, "title": title_report, "short_text": short_report}


# -- the mixed rule ---------------------------------------------------------------------------


def _bits(flags: Iterable[bool]) -> int:
    """A set of row numbers as the bits of an int."""
    return sum(1 << i for i, flag in enumerate(flags) if flag)


def fit_mixed(
    rows: Sequence[Labelled], base: MixedThresholds,
    budget: float = CLEAR_CALLED_MIXED_BUDGET,
) -> tuple[MixedThresholds, dict[str, Any]]:
    """The mixed rule with the largest recall minus false-alarm rate within the budget.

    Every candidate ground is a set of rows (the bits of an int), so the thousands of
    combinations cost a few integer operations each."""
    mixed_bits = _bits(row.label == "mixed" for row in rows)
    clear_bits = _bits(row.label in ("engineer", "scientist") for row in rows)
    n_mixed, n_clear = mixed_bits.bit_count(), clear_bits.bit_count()
    if not n_mixed or not n_clear:
        return base, {"note": "no mixed and clear postings to fit on: kept"}
    signals = [row.signals for row in rows]
    p = [s.p_scientist for s in signals]
    hybrid = [s.names_hybrid() for s in signals]

    def band(width: float | None, only: list[bool] | None = None) -> int:
        if width is None:
            return 0
        return _bits(abs(x - 0.5) <= width and (only is None or only[i])
                     for i, x in enumerate(p))

    splits: list[tuple[dict[str, Any], int]] = [({"min_balance": None}, 0)]
    for share in STRONG_SHARES:
        strong = [s.strong_lines(share) for s in signals]
        for lines, balance, (low, high) in itertools.product(MIN_LINES, MIN_BALANCES, SPLIT_BANDS):
            mask = _bits(min(n) >= lines and min(n) >= balance * sum(n) and low <= x <= high
                         for n, x in zip(strong, p))
            splits.append(({"strong_share": share, "min_lines": lines, "min_balance": balance,
                            "split_p_low": low, "split_p_high": high}, mask))
    best: tuple[tuple[float, float], MixedThresholds, int] | None = None
    for (width, band_mask), (named, named_mask), (split, split_mask) in itertools.product(
        [(w, band(w)) for w in BAND_WIDTHS], [(w, band(w, hybrid)) for w in NAMED_BANDS], splits
    ):
        called = band_mask | named_mask | split_mask
        false_rate = (called & clear_bits).bit_count() / n_clear
        if false_rate > budget:
            continue
        recall = (called & mixed_bits).bit_count() / n_mixed
        score = (recall - false_rate, -false_rate)
        if best is None or score > best[0]:
            rule = base._replace(**split, band=width, named_band=named)
            best = (score, rule, called)
    if best is None:
        return base._replace(min_balance=None, band=None, named_band=None), {
            "note": "no rule within the budget: mixed is off"}
    _, rule, called = best
    return rule, {
        "mixed_called_mixed": round((called & mixed_bits).bit_count() / n_mixed, 4),
        "clear_called_mixed": round((called & clear_bits).bit_count() / n_clear, 4),
        "mixed": n_mixed, "clear": n_clear, "budget": budget,
    }


# -- the title check --------------------------------------------------------------------------

OTHER_ROLE = {"engineer": "scientist", "scientist": "engineer"}


def fit_title(
    rows: Sequence[Labelled], swap: Sequence[Labelled], thresholds: Thresholds,
    budget: float = TITLE_FALSE_ALARM_BUDGET,
) -> tuple[TitleThresholds, dict[str, Any]]:
    """The lowest contradiction level within the false-alarm budget on both checks."""
    real = [(row.label, row.title, _verdict(row, thresholds)) for row in rows
            if row.label in OTHER_ROLE and row.title in OTHER_ROLE]
    clear = [row for row in swap if row.label in OTHER_ROLE]
    swapped = [(row.label, _verdict(row, thresholds)) for row in clear]
    report: dict[str, Any] = {}
    chosen = CONTRADICTS_LEVELS[-1]
    for level in CONTRADICTS_LEVELS:
        at = thresholds._replace(title=TitleThresholds(level))

        def contradicts(title: str, verdict: Verdict, at: Thresholds = at) -> bool:
            return title_grade(title, verdict, at) == "contradicts"

        figures = {
            "swap_own_title_flagged": _rate([contradicts(label, v) for label, v in swapped]),
            "swap_other_title_flagged": _rate([contradicts(OTHER_ROLE[label], v)
                                               for label, v in swapped]),
        }
        if real:
            figures["matching_titles_flagged"] = _rate(
                [contradicts(title, v) for label, title, v in real if title == label])
            figures["mismatched_titles_flagged"] = _rate(
                [contradicts(title, v) for label, title, v in real if title != label])
        report[str(level)] = figures
        alarms = [figures["swap_own_title_flagged"], figures.get("matching_titles_flagged")]
        if all(rate is None or rate <= budget for rate in alarms):
            chosen = level
            break
    return TitleThresholds(chosen), {"chosen": chosen, "budget": budget, "levels": report}


def _verdict(row: Labelled, thresholds: Thresholds) -> Verdict:
    return decide(row.signals, thresholds)


def _rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


# -- the short-text level ---------------------------------------------------------------------


def fit_short_text(
    rows: Sequence[Labelled], base: ShortTextThresholds
) -> tuple[ShortTextThresholds, dict[str, Any]]:
    """The fewest known words from which excerpts' verdicts are right nearly as often as the
    whole postings' verdicts."""
    clear = [row for row in rows if row.label in OTHER_ROLE]
    whole = _rate([(row.signals.p_scientist >= 0.5) == (row.label == "scientist")
                   for row in clear])
    if whole is None:
        return base, {"note": "no engineer or scientist postings: kept"}
    target = round(SHORT_TEXT_RELATIVE_ACCURACY * whole, 4)
    accuracy: dict[str, float | None] = {}
    chosen = None
    for level in SHORT_LEVELS:
        right = [(p >= 0.5) == (row.label == "scientist")
                 for row in clear for known, p in row.signals.excerpts if known == level]
        accuracy[str(level)] = _rate(right)
        if chosen is None and right and sum(right) >= target * len(right):
            chosen = level
    report = {"whole_postings": whole, "target": target, "excerpts": accuracy}
    if chosen is None:
        return base, {"note": "no level accurate enough: kept", **report}
    return ShortTextThresholds(chosen), {"chosen": chosen, **report}


# -- the data roles ---------------------------------------------------------------------------


def fit_data_roles(
    data_engineers: Sequence[PostingSignals], thresholds: Thresholds,
    budget: float = DATA_ENGINEER_AS_SCIENTIST_BUDGET,
) -> tuple[DataRoleThresholds, dict[str, Any]]:
    """The highest P(data engineering) from which a posting is never ML science that leaves
    at most `budget` of real data-engineering postings called ML scientist."""
    rates: dict[str, float | None] = {}
    for level in ENGINEERING_LEVELS:
        at = thresholds._replace(data_roles=DataRoleThresholds(level))
        rates[str(level)] = _rate([decide(s, at).label == "scientist" for s in data_engineers])
        rate = rates[str(level)]
        if rate is not None and rate <= budget:
            return DataRoleThresholds(level), {"chosen": level, "budget": budget,
                                               "data_engineers_called_scientist": rates}
    return thresholds.data_roles, {"note": "no level within the budget: kept",
                                   "data_engineers_called_scientist": rates}


def save_threshold_settings(settings: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n", encoding="utf-8")
