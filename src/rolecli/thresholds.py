"""The label thresholds (`rolecli calibrate`): the confidence level and the mixed rule,
fitted on labelled postings and saved as JSON.

`rolecli train` folds them into the model it builds when they were fitted for the same
base model, so the shipped model is reproducible from data/ without the postings
themselves. The probability map (Platt scaling) is `model.calibration`'s.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .classifier import load_scorer
from .decision import DEFAULT_THRESHOLDS, GROUNDS, is_confident, mixed_grounds, names_hybrid
from .errors import UsageError
from .evidence import gather
from .io.labelled import Example, load_examples, sha256_file
from .model.scorer import Scorer

# Budgets the thresholds are chosen under (targets, with a safety margin: at most 5% of
# clear postings called mixed on postings from sources the fit never saw).
CLEAR_CALLED_MIXED_BUDGET = 0.04


def calibrate(
    data: str | Path | Sequence[str | Path],
    model: str | Path | None = None,
    text_column: str = "text",
    label_column: str = "label",
) -> dict[str, Any]:
    """The confidence level and mixed rule for a model, fitted on the postings in `data`
    (one or more files; the off-topic thresholds stay those of the model's card)."""
    paths = [Path(data)] if isinstance(data, (str, Path)) else [Path(p) for p in data]
    loaded = [[e for e in load_examples(path, text_column, label_column) if e.text is not None]
              for path in paths]
    examples = [e for rows in loaded for e in rows]
    names = ", ".join(str(path) for path in paths)
    if not examples:
        raise UsageError(f"{names}: calibration needs posting texts (count rows have none)")
    scorer = load_scorer(model)
    signals = [posting_signals(scorer, example.text or "") for example in examples]
    if not {"engineer", "scientist"} <= {e.label for e in examples}:
        raise UsageError(f"{names}: calibration needs both engineer and scientist rows")
    thresholds, held_out = fit_thresholds(examples, signals, scorer.thresholds["off_topic"])
    return {
        "training_fingerprint": scorer.card["training_fingerprint"],
        "thresholds": thresholds,
        "mixed_grounds": held_out,
        "fitted_on": [
            {"file": path.name, "sha256": sha256_file(path) if path.is_file() else None,
             "rows": len(rows)}
            for path, rows in zip(paths, loaded)
        ],
    }


def fit_thresholds(
    examples: Sequence[Example], signals: Sequence[PostingSignals], off_topic: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(thresholds, how each mixed rule set did on held-out sources) fitted on postings."""
    labelled = labelled_signals(examples, signals)
    confident = confident_level(labelled)
    grounds, held_out = choose_grounds(examples, signals)
    thresholds = {
        "off_topic": off_topic,
        "confident": {"min_p": confident},
        "mixed": mixed_rule(labelled, confident, grounds),
    }
    return thresholds, {"chosen": sorted(grounds, key=GROUNDS.index), "held_out": held_out}


def labelled_signals(
    examples: Sequence[Example], signals: Sequence[PostingSignals]
) -> list[tuple[str, PostingSignals]]:
    return [(e.label, s) for e, s in zip(examples, signals)]


# The mixed rules calibrate chooses between ("named" is in each: a posting that names a
# role that is both as the job is the strongest evidence there is).
GROUND_SETS = (
    frozenset({"named"}), frozenset({"named", "band"}), frozenset({"named", "split"}),
    frozenset(GROUNDS),
)
CLEAR_CALLED_MIXED_TARGET = 0.05


@dataclass
class Tally:
    """Held-out postings of each kind, and how many of them were called mixed."""

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

    @property
    def recall(self) -> float:
        return self.mixed_called / self.mixed if self.mixed else 0.0

    @property
    def false_alarms(self) -> float:
        return self.clear_called / self.clear if self.clear else 0.0


def held_out(
    examples: Sequence[Example],
    signals_for: Callable[[str], Sequence[PostingSignals]],
    ground_sets: Sequence[frozenset[str]],
    budget: float = CLEAR_CALLED_MIXED_BUDGET,
) -> list[Tally] | None:
    """For each set of grounds, the mixed rule fitted (as calibrate fits it) on all sources
    but one and scored on that one, pooled over the sources; None with fewer than two
    sources whose other sources hold mixed and clear postings. `signals_for(source)` are
    the postings' signals under the model that fold uses."""
    sources = sorted({e.group for e in examples})
    tallies = [Tally() for _ in ground_sets]
    folds = 0
    for source in sources:
        train = [i for i, e in enumerate(examples) if e.group != source]
        labels = {examples[i].label for i in train}
        if not {"engineer", "scientist", "mixed"} <= labels:
            continue
        folds += 1
        fixed = labelled_signals(examples, signals_for(source))
        confident = confident_level([fixed[i] for i in train])
        for tally, grounds in zip(tallies, ground_sets):
            rule = mixed_rule([fixed[i] for i in train], confident, grounds, budget)
            thresholds = {"confident": {"min_p": confident}, "mixed": rule}
            for label, row in (fixed[i] for i, e in enumerate(examples) if e.group == source):
                tally.add(label, bool(mixed_grounds(row, thresholds)))
    return tallies if folds >= 2 else None


def choose_grounds(
    examples: Sequence[Example], signals: Sequence[PostingSignals]
) -> tuple[frozenset[str], dict[str, dict[str, float]]]:
    """The rule set calibrate ships (best_grounds on the held-out sources), and each set's
    held-out figures. Without sources to hold out: every ground."""
    tallies = held_out(examples, lambda _source: signals, GROUND_SETS)
    if tallies is None:
        return frozenset(GROUNDS), {}
    report = {
        "+".join(sorted(g, key=GROUNDS.index)): {
            "recall": round(t.recall, 4), "false_alarms": round(t.false_alarms, 4)
        }
        for g, t in zip(GROUND_SETS, tallies)
    }
    return best_grounds(GROUND_SETS, tallies), report


def best_grounds(
    ground_sets: Sequence[frozenset[str]], tallies: Sequence[Tally]
) -> frozenset[str]:
    """The set with the largest held-out recall minus false-alarm rate, among those calling
    at most CLEAR_CALLED_MIXED_TARGET of held-out clear postings mixed (ties: fewer grounds)."""
    scores = {
        grounds: (t.recall - t.false_alarms, -len(grounds))
        for grounds, t in zip(ground_sets, tallies)
        if t.false_alarms <= CLEAR_CALLED_MIXED_TARGET
    }
    return max(scores, key=scores.__getitem__) if scores else ground_sets[0]


@dataclass(frozen=True)
class PostingSignals:
    """What the label rule reads from one posting (decision.Signals, computed once)."""

    p_scientist: float
    p_on_topic: float
    named: tuple[str, ...]  # labels of the roles named as the job
    job_lines: tuple[float, ...]  # each job line's evidence, in logit units

    def names_hybrid(self) -> bool:
        return names_hybrid(list(self.named))

    def split(self, strong_line: float) -> float:
        if not self.job_lines:
            return 0.0
        engineer = sum(c <= -strong_line for c in self.job_lines)
        scientist = sum(c >= strong_line for c in self.job_lines)
        return min(engineer, scientist) / len(self.job_lines)


def posting_signals(scorer: Scorer, text: str, title: str | None = None) -> PostingSignals:
    """The signals of one posting. `calibrate` passes no title: the labels of real postings
    come from their titles, so a fit that read them would learn the labels back."""
    evidence = gather(scorer, text, title)
    return PostingSignals(
        evidence.p_scientist,
        evidence.p_on_topic,
        tuple(evidence.named_labels()),
        tuple(line.contribution for line in evidence.lines if line.job),
    )


# A verdict is confident from the lowest of these P at which the clear postings scored
# at least that high are right CONFIDENT_ACCURACY of the time (and at least
# CONFIDENT_MIN_ROWS of them are): the level at which this model is seldom wrong.
CONFIDENT_LEVELS = (0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)
CONFIDENT_ACCURACY = 0.995
CONFIDENT_MIN_ROWS = 30


def confident_level(rows: list[tuple[str, PostingSignals]]) -> float:
    clear = [(label, s.p_scientist) for label, s in rows if label in ("engineer", "scientist")]
    for level in CONFIDENT_LEVELS:
        above = [(label, p) for label, p in clear if max(p, 1.0 - p) >= level]
        right = sum((p >= 0.5) == (label == "scientist") for label, p in above)
        if len(above) >= CONFIDENT_MIN_ROWS and right >= CONFIDENT_ACCURACY * len(above):
            return level
    return CONFIDENT_LEVELS[-1]


BAND_WIDTHS = (0.0, 0.05, 0.1, 0.15, 0.2)
SPLIT_SHARES = (0.4, 0.3, 0.25, 0.2, 0.15, 0.1)  # strictest first
SPLIT_BANDS = ((0.2, 0.8), (0.1, 0.9), (0.05, 0.95), (0.03, 0.97), (0.01, 0.99), (0.0, 1.0))
# Strong-line cut-offs tried: these percentiles of the job lines' evidence (in logit units
# of this model) over the calibration postings.
STRONG_LINE_PERCENTILES = (50, 60, 70, 80)
SPLIT_OFF = 1.01  # min_split above 0.5: the split ground never holds


def mixed_rule(
    rows: list[tuple[str, PostingSignals]],
    confident: float,
    grounds: frozenset[str] = frozenset(GROUNDS),
    budget: float = CLEAR_CALLED_MIXED_BUDGET,
) -> dict[str, float]:
    """The mixed thresholds that best separate true mixed rows from clear ones within the
    false-alarm budget, trying only the given grounds ("named" is on whenever given).

    Each candidate ground is a set of rows (a bit mask), so the thousands of combinations
    cost a few integer operations each.
    """
    mixed_bits = _bits(label == "mixed" for label, _ in rows)
    clear_bits = _bits(label in ("engineer", "scientist") for label, _ in rows)
    n_mixed, n_clear = mixed_bits.bit_count(), clear_bits.bit_count()
    if not n_mixed or not n_clear:
        return dict(DEFAULT_THRESHOLDS["mixed"])
    signals = [s for _, s in rows]
    thresholds = {"confident": {"min_p": confident}}
    named = _bits(
        not is_confident(s.p_scientist, thresholds) and s.names_hybrid()
        for s in signals
    ) if "named" in grounds else 0
    bands = [(w, _bits(abs(s.p_scientist - 0.5) <= w for s in signals))
             for w in (BAND_WIDTHS if "band" in grounds else (0.0,))]
    splits: list[tuple[dict[str, float], int]] = [
        ({"strong_line": DEFAULT_THRESHOLDS["mixed"]["strong_line"], "min_split": SPLIT_OFF,
          "split_p_low": 0.0, "split_p_high": 1.0}, 0)
    ]
    if "split" in grounds:
        for strong in _strong_lines(signals):
            values = [s.split(strong) for s in signals]
            for share, (low, high) in itertools.product(SPLIT_SHARES, SPLIT_BANDS):
                mask = _bits(
                    v >= share and low <= s.p_scientist <= high for v, s in zip(values, signals)
                )
                splits.append((
                    {"strong_line": strong, "min_split": share,
                     "split_p_low": low, "split_p_high": high}, mask,
                ))
    best: tuple[float, float, dict[str, float]] | None = None
    for (width, band), (split, split_mask) in itertools.product(bands, splits):
        called = band | named | split_mask
        false_rate = (called & clear_bits).bit_count() / n_clear
        if false_rate > budget:
            continue
        recall = (called & mixed_bits).bit_count() / n_mixed
        # Youden's J (recall minus false-alarm rate): a ground earns its place only if it
        # finds a larger share of mixed postings than of clear ones it mislabels; ties keep
        # the earlier (narrower, stricter) rule.
        if best is None or (recall - false_rate, -false_rate) > best[:2]:
            rule = {"p_low": round(0.5 - width, 6), "p_high": round(0.5 + width, 6), **split}
            best = (recall - false_rate, -false_rate, rule)
    return best[2] if best else dict(DEFAULT_THRESHOLDS["mixed"])


def _bits(flags: Iterable[bool]) -> int:
    """A set of row numbers as the bits of an int."""
    return sum(1 << i for i, flag in enumerate(flags) if flag)


def _strong_lines(signals: list[PostingSignals]) -> list[float]:
    magnitudes = sorted(abs(c) for s in signals for c in s.job_lines if c)
    if not magnitudes:
        return []
    return sorted({
        round(magnitudes[min(len(magnitudes) - 1, len(magnitudes) * q // 100)], 4)
        for q in STRONG_LINE_PERCENTILES
    })


def save_calibration(settings: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n", encoding="utf-8")
