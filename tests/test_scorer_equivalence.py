"""The compiled scorer reproduces the scikit-learn pipeline exactly, and loads safely."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from collections import Counter

import pytest
from conftest import EXAMPLES, MODEL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def pipelines():
    from rolecli.model.directory import DOMAIN_FILE, load_pipeline

    return load_pipeline(MODEL), load_pipeline(MODEL, DOMAIN_FILE)  # the shipped model


@pytest.fixture(scope="module")
def scorer():
    from rolecli.model.scorer import Scorer

    return Scorer.load(MODEL)


def _assert_equal(scorer, pipelines, texts):
    from rolecli.model.scorer import sigmoid

    role, domain = pipelines
    expected_role = role.predict_proba(texts)[:, 1]
    expected_domain = domain.predict_proba(texts)[:, 1]
    for text, p_role, p_domain in zip(texts, expected_role, expected_domain):
        role_logit, domain_logit = scorer.logits(scorer.weigh(scorer.term_counts(text)))
        assert abs(sigmoid(role_logit) - p_role) <= TOLERANCE, text[:80]
        assert abs(sigmoid(domain_logit) - p_domain) <= TOLERANCE, text[:80]


def _vectorizer_terms(pipelines):
    """The terms of the pipeline's vectorizer, without the n-grams holding a line or sentence
    break (its token pattern yields each break as a one-character token, which no term of
    the vocabulary holds)."""
    analyzer = pipelines[0].named_steps["tfidf"].build_analyzer()
    return lambda text: [t for t in analyzer(text) if WORDS.fullmatch(t)]


WORDS = re.compile(r"\w\w+(?: \w\w+)*")


def test_analyzer_matches_vectorizer_on_examples(scorer, pipelines):
    analyzer = _vectorizer_terms(pipelines)
    for path in EXAMPLES.glob("*.txt"):
        text = path.read_text()
        assert scorer.analyzer.terms(text) == analyzer(text)


def test_no_ngram_runs_across_a_line_or_sentence(scorer):
    terms = scorer.analyzer.terms(
        "12 paid holidays\n- Paid parental leave. All qualified applicants: Python; SQL\r\n"
        "node.js, scikit-learn and 3.5 stay whole!\tNext"
    )
    assert {"paid holidays", "parental leave", "qualified applicants", "node js",
            "scikit learn"} <= set(terms)
    assert not {"holidays paid", "leave qualified", "applicants python", "python sql",
                "sql node", "whole next"} & set(terms)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab XY_.!?;:,-\n\r\t\x0b\x0c\x01\x02\x03’•")),
                    max_size=120))
def test_fast_and_regex_paths_find_the_same_terms(scorer, text):
    # A non-ASCII word character (here alone, so no token) sends text down the regex path.
    assert scorer.analyzer.terms(text) == scorer.analyzer.terms(text + "\né")


def test_examples_match_pipeline(scorer, pipelines):
    _assert_equal(scorer, pipelines, [p.read_text() for p in sorted(EXAMPLES.glob("*.txt"))])


def test_every_dev_posting_matches_pipeline(scorer, pipelines, dev_postings):
    _assert_equal(scorer, pipelines, [row["text"] for row in dev_postings])


TRICKY = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(
        list("aZ _-.,;:!?'\"\n\r\t\x0b\x01\x03İıßΣσςﬁ0123456789’•–\u200b½")), max_size=200),
    st.lists(
        st.sampled_from(
            [
                "machine",
                "learning",
                "Kubernetes",
                "A/B",
                "PhD",
                "ML",
                "the",
                "statistics",
                "deploy",
                "ΣΑΣ",
                "x" * 300,
                "...",
                "end.\n",
                "now:",
                "--",
                "\u00a0",
                # Non-ASCII non-word characters split words like spaces; word ones do not.
                "’s",
                "•",
                "–",
                "\u200b",
                "café",
                "e\u0301",
                "中文",
                "½",
            ]
        ),
        max_size=60,
    ).map(" ".join),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=TRICKY)
def test_generated_text_matches_pipeline(scorer, pipelines, text):
    analyzer = _vectorizer_terms(pipelines)
    assert scorer.analyzer.terms(text) == analyzer(text)
    vocabulary = pipelines[0].named_steps["tfidf"].vocabulary_
    expected = {t: c for t, c in Counter(analyzer(text)).items() if t in vocabulary}
    counts = {scorer.term(slot): count for slot, count in scorer.term_counts(text).items()}
    assert counts == expected
    assert list(counts) == list(expected)  # first-occurrence order, as scikit-learn meets them
    _assert_equal(scorer, pipelines, [text])


def test_scorer_file_is_plain_data_without_code():
    """Magic bytes, a JSON header and packed numbers: nothing in it can run."""
    from rolecli.model.scorer_file import SCORER_FILE, decode, split_file

    raw = (MODEL / SCORER_FILE).read_bytes()
    header, _ = split_file(raw)
    assert header["format"] == "rolecli-scorer" and header["format_version"] == 5
    data = decode(raw)
    assert len(data.terms) == len(data.idf) == len(data.role_coef) == len(data.domain_coef)
    assert data.family_classes is not None and data.family_coef is not None
    assert "ml" in data.family_classes and len(data.family_coef) == len(data.family_classes)
    assert all(len(column) == len(data.terms) for column in data.family_coef)
    assert data.family_intercepts is not None and len(data.family_intercepts) == len(
        data.family_classes)
    assert len(data.terms) == header["terms"]
    assert all(math.isfinite(x) for x in data.role_coef + data.domain_coef + data.idf)


def test_scorer_round_trips_through_its_writer():
    from rolecli.model.scorer_file import SCORER_FILE, decode, encode

    raw = (MODEL / SCORER_FILE).read_bytes()
    assert encode(decode(raw)) == raw


def test_scorer_matches_the_pipelines_weights_exactly(pipelines):
    """The packed arrays hold scikit-learn's float64 values bit for bit, column by column."""
    from rolecli.model.scorer_file import SCORER_FILE, decode

    data = decode((MODEL / SCORER_FILE).read_bytes())
    role, domain = pipelines
    vectorizer = role.named_steps["tfidf"]
    assert data.terms == sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    assert data.idf == vectorizer.idf_.tolist()
    assert data.role_coef == role.named_steps["clf"].coef_[0].tolist()
    assert data.domain_coef == domain.named_steps["clf"].coef_[0].tolist()


def test_hash_table_and_dict_agree_on_every_dev_posting(dev_postings):
    """A single posting probes the file's hash table; batch builds a dict. Same slots."""
    from rolecli.model.scorer import Scorer

    scorer = Scorer.load(MODEL)
    vocabulary = scorer.vocabulary
    vocabulary.check()  # builds the dict and probes every term to its own slot
    index = vocabulary.index
    low, high = scorer.analyzer.ngram_range
    for row in dev_postings:
        tokens = scorer.analyzer.tokens(row["text"])
        for n in range(low, high + 1):
            for i in range(len(tokens) - n + 1):
                gram = tokens[i] if n == 1 else tuple(tokens[i : i + n])
                term = gram if n == 1 else " ".join(gram)
                assert vocabulary.probe(term) == index.get(gram, 0), term


def test_probing_switches_to_the_dict_with_the_same_counts():
    """The first postings are looked up by probing, later ones in the dict: same counts."""
    from rolecli.model.scorer import Scorer

    texts = [p.read_text() for p in sorted(EXAMPLES.glob("*.txt"))]
    fresh = Scorer.load(MODEL)
    first = [fresh.term_counts(text) for text in texts]
    assert fresh.vocabulary.index is None  # a handful of postings never builds the dict
    while fresh.vocabulary.index is None:
        fresh.term_counts(texts[0])
    for text, counts in zip(texts, first):
        again = fresh.term_counts(text)
        assert again == counts and list(again) == list(counts)


def test_classify_never_imports_sklearn_scipy_numpy_or_pandas():
    code = (
        "import sys, json\n"
        "from rolecli.cli.main import run\n"
        f"sys.argv = ['rolecli', 'classify', {str(EXAMPLES / 'ml-engineer.txt')!r}, '-f', 'json']\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sklearn', 'scipy', 'pandas', 'numpy', 'joblib'})\n"
        "sys.stderr.write(json.dumps(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []
    assert json.loads(result.stdout)["label"] == "engineer"


def test_help_never_imports_sklearn():
    code = (
        "import sys\nfrom rolecli.cli.main import run\nsys.argv = ['rolecli', '--help']\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "assert not any(m.split('.')[0] in {'sklearn', 'scipy', 'pandas'} for m in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_load_pipeline_refuses_tampered_pickle(tmp_path):
    from rolecli.errors import ModelError
    from rolecli.model.directory import load_pipeline

    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    blob = bytearray((model / "pipeline.joblib").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (model / "pipeline.joblib").write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="sha256"):
        load_pipeline(model, trusted=True)


@pytest.mark.parametrize("damage", ["truncate", "delete", "bad_version", "not_json_card"])
def test_damaged_model_directory_exits_4(rolecli, tmp_path, damage):
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    if damage == "truncate":
        data = (model / "scorer.bin").read_bytes()
        (model / "scorer.bin").write_bytes(data[: len(data) // 3])
    elif damage == "delete":
        (model / "scorer.bin").unlink()
    elif damage == "bad_version":
        card = json.loads((model / "card.json").read_text())
        card["card_format_version"] = 999
        (model / "card.json").write_text(json.dumps(card))
    else:
        (model / "card.json").write_text("{not json")
    result = rolecli("classify", EXAMPLES / "ml-engineer.txt", "--model", model)
    assert result.returncode == 4
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "rolecli train" in lines[0]


def test_scorer_with_hash_matching_but_bad_content_exits_4(rolecli, tmp_path):
    """A consistent but incompatible scorer (as from a future version) is refused clearly."""
    import hashlib

    from rolecli.model.scorer_file import join_file, split_file

    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    header, body = split_file((model / "scorer.bin").read_bytes())
    header["format_version"] = 99
    raw = join_file(header, bytes(body))
    (model / "scorer.bin").write_bytes(raw)
    card = json.loads((model / "card.json").read_text())
    card["files"]["scorer.bin"] = hashlib.sha256(raw).hexdigest()
    (model / "card.json").write_text(json.dumps(card))
    result = rolecli("classify", EXAMPLES / "ml-engineer.txt", "--model", model)
    assert result.returncode == 4
    assert b"unsupported scorer format" in result.stderr
