#!/usr/bin/env python3
"""Coverage-guided fuzzing of model loading with atheris: card.json and scorer.bin bytes.

Each input is a target byte (card or scorer) and the file's bytes. The card goes through
`strict_json` and `parse_card`; the scorer through `Scorer.from_bytes` (the hash check is
skipped, as for a file whose card was rewritten to match it). Either must end in a
ModelError, or in a model that keeps its promises: the decision rule runs on its
thresholds; the scorer classifies a posting and random text with probabilities in [0, 1]
by probing and by its dict alike, and its per-term check passes or is a ModelError.

Seeds (the shipped card, a small scorer written by rolecli's own writer, and mutants of
both) are written to the corpus folder when it is empty: `fuzz/run.sh 300 model`.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["rolecli"]):
    from rolecli.errors import ModelError
    from rolecli.model.card import load_card, parse_card, strict_json
    from rolecli.model.scorer import Scorer
    from rolecli.model.scorer_file import SCORER_FILE, ScorerData, decode, encode
    from rolecli.verdict.decision import decide

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "default"
CARD = load_card(MODEL)
POSTING = (ROOT / "examples" / "ml-engineer.txt").read_text(encoding="utf-8")
TARGETS = (b"c", b"s")  # first byte: which file the rest is


class _Signals:
    p_scientist = 0.5
    p_on_topic = 0.9

    def split(self) -> float:
        return 0.7

    def names_hybrid_role(self) -> bool:
        return True


def check_card(raw: bytes) -> None:
    try:
        card = parse_card(strict_json(raw), Path("card.json"))
    except (ModelError, ValueError):
        return
    decide(_Signals(), card.thresholds.as_dict())  # every key the rule reads is there


def check_scorer(raw: bytes, texts: list[str]) -> None:
    try:
        scorer = Scorer.from_bytes(raw, CARD, "0" * 64, Path(SCORER_FILE))
        # Probing the file's table: a slot or its term, never an exception but ModelError.
        grams = [gram for text in texts for gram in scorer.analyzer.terms(text)]
        probed = {gram: scorer.vocabulary.probe(gram) for gram in grams}
        for text in texts:
            role, domain = scorer.logits(scorer.term_counts(text))
            for z in (role, domain):
                p = 1.0 / (1.0 + math.exp(-max(min(z, 700.0), -700.0)))
                assert 0.0 <= p <= 1.0 and not math.isnan(z), (role, domain)
        scorer.check()
    except ModelError:
        return
    # A scorer that passes every check finds each n-gram in its table as in its dict.
    index = scorer.vocabulary.index
    assert index is not None
    for gram, slot in probed.items():
        key = gram if " " not in gram else tuple(gram.split(" "))
        assert slot == index.get(key, 0), (gram, slot, index.get(key))


def test_one_input(data: bytes) -> None:
    # Byte 0: the target (c: card, else scorer); byte 1: the length of a text to score; the
    # text (decoded leniently); the file's bytes. Plain slicing keeps seeds' files intact.
    if len(data) < 2:
        return
    length = data[1]
    text, raw = data[2 : 2 + length].decode("utf-8", "replace"), data[2 + length :]
    if data[:1] == b"c":
        check_card(raw)
    else:
        check_scorer(raw, [POSTING, text])


def small_scorer() -> bytes:
    """A 60-term scorer cut from the shipped one (seeds must be small)."""
    data = decode((MODEL / SCORER_FILE).read_bytes())
    keep = [i for i, term in enumerate(data.terms) if data.role_coef[i]][:60]
    return encode(ScorerData(
        data.analyzer, data.classes, [data.terms[i] for i in keep],
        [data.idf[i] for i in keep], [data.role_coef[i] for i in keep],
        [data.domain_coef[i] for i in keep], data.role_intercept, data.domain_intercept,
    ))


def write_seeds(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        return
    card = (MODEL / "card.json").read_bytes()
    scorer = small_scorer()
    seeds = {
        "card": b"c\x00" + card,
        "scorer": b"s\x0e" + b"data pipelines" + scorer,
        "scorer-other-text": b"s\x20" + "Café — modèles, A/B tests ½".encode() + scorer,
    }
    for name, seed in seeds.items():
        (folder / f"seed-{name}").write_bytes(seed)


def main() -> None:
    corpus = next((Path(a) for a in sys.argv[1:] if not a.startswith("-")), None)
    if corpus is not None and (corpus.is_dir() or not corpus.exists()):  # not a replay
        write_seeds(corpus)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
