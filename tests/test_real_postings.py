"""Real postings as text-free counts: the format, `rolecli data build`, training and
evaluating on count rows, what the shipped count file may hold, and the off-topic and
boilerplate behaviour the real negatives teach."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from conftest import EXAMPLES, OFFTOPIC_DIR, ROOT, one_line
from hypothesis import given, settings
from hypothesis import strategies as st

from rolecli.io import counts as count_form

DATA = ROOT / "data"
SHIPPED_COUNTS = DATA / "postings.counts.jsonl.gz"
# The data-role postings that name ML work: their job family is known, their topic is not.
FAMILY_COUNTS = DATA / "adjacent-family.counts.jsonl.gz"
# How docs/training-data.md builds each count file from ../shared/data.
BUILDS = {
    SHIPPED_COUNTS: (["postings_dev.csv", "postings_more.csv", "offtopic_dev.csv",
                      "adjacent_dev.csv"],
                     ["--default-label", "off_topic", "--where", "names_ml=0"]),
    FAMILY_COUNTS: (["adjacent_dev.csv"], ["--default-label", "family_only", "--where",
                                           "names_ml=1"]),
}
SHARED = ROOT.parent / "shared" / "data"

# Postings written for these tests: five sources, each with its own one-off sentence.
COMMON_ENGINEER = "Deploy models to Kubernetes, build CI/CD pipelines and keep serving latency low."
COMMON_SCIENTIST = "Design experiments, fit statistical models and publish research findings."
COMMON_BENEFITS = "Benefits: health insurance and paid parental leave."


def _postings(tmp_path: Path) -> Path:
    path = tmp_path / "postings.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "source", "title", "label", "text"])
        for s in range(5):
            for i in range(4):
                unique = f"Contact zebrafinch{s}{i} at quokka{s}{i}@example.org today."
                writer.writerow([f"s{s}:{i}", f"source{s}", "Machine Learning Engineer",
                                 "engineer", f"{COMMON_ENGINEER}\n{unique}\n{COMMON_BENEFITS}"])
                writer.writerow([f"s{s}:{i + 4}", f"source{s}", "Data Scientist",
                                 "scientist", f"{COMMON_SCIENTIST}\n{unique}\n{COMMON_BENEFITS}"])
    return path


def _rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_data_build_keeps_only_common_ngrams_and_no_text(rolecli, tmp_path):
    output = tmp_path / "mine.counts.jsonl.gz"
    result = rolecli("data", "build", _postings(tmp_path), "-o", output)
    assert result.returncode == 0, result.stderr
    header, *rows = _rows(output)
    assert header["format"] == "rolecli-counts" and header["min_postings"] == 5
    assert len(rows) == 40
    assert all(set(row) == {"label", "source", "family", "terms", "counts", "boilerplate"}
               for row in rows)
    terms = set(header["terms"])
    assert {"kubernetes", "statistical models", "health insurance"} <= terms
    # Each count says how much of it stands in boilerplate lines: all of the benefits
    # line's, none of the work's.
    for row in rows:
        named = dict(zip((header["terms"][i] for i in row["terms"]),
                         zip(row["counts"], row["boilerplate"])))
        assert named["health insurance"] == (1, 1)
        work = named.get("kubernetes") or named["statistical models"]
        assert work == (1, 0)
    # Names, addresses and the one-off sentences are gone; so are titles and ids.
    raw = gzip.decompress(output.read_bytes()).decode()
    for gone in ("zebrafinch", "quokka", "Machine Learning Engineer", "s0:1"):
        assert gone.lower() not in raw.lower()
    manifest = json.loads((tmp_path / "mine.manifest.json").read_text())
    assert manifest["rows"] == 40 and manifest["thresholds"] == {"min_postings": 5,
                                                                 "min_sources": 2}
    assert manifest["by_source"]["source0"] == {"engineer": 4, "scientist": 4}
    assert len(manifest["inputs"][0]["sha256"]) == 64


def test_data_build_is_deterministic(rolecli, tmp_path):
    postings = _postings(tmp_path)
    a, b = tmp_path / "a.counts.jsonl.gz", tmp_path / "b.counts.jsonl.gz"
    for output in (a, b):
        assert rolecli("data", "build", postings, "-o", output).returncode == 0
    assert a.read_bytes() == b.read_bytes()


def test_data_build_refuses_a_table_without_labels_unless_given_one(rolecli, tmp_path):
    table = tmp_path / "other.csv"
    table.write_text("source,text\nx,Registered nurse for a busy ward\n"
                     "x,Registered nurse for a night ward\n", encoding="utf-8")
    result = rolecli("data", "build", table, "-o", tmp_path / "o.counts.jsonl.gz")
    assert result.returncode == 2
    assert "no column 'label'" in one_line(result.stderr)
    ok = rolecli("data", "build", table, "-o", tmp_path / "o.counts.jsonl.gz",
                 "--default-label", "off_topic", "--min-postings", "2", "--min-sources", "1")
    assert ok.returncode == 0, ok.stderr  # "registered nurse" and "ward" are in both


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"not gzip at all", "not a readable gzip count file"),
        (gzip.compress(b'{"format": "other"}\n'), "not a rolecli count file"),
        (gzip.compress(b"[" * 100_000 + b"]" * 100_000 + b"\n"), "not valid JSON"),
        (gzip.compress(json.dumps({"format": "rolecli-counts", "format_version": 9}).encode()
                       + b"\n"), "count format version 9"),
    ],
)
def test_a_broken_count_file_is_one_error_line(rolecli, tmp_path, content, reason):
    path = tmp_path / "bad.counts.jsonl.gz"
    path.write_bytes(content)
    result = rolecli("evaluate", path)
    assert result.returncode == 3
    assert reason in one_line(result.stderr)


def test_a_count_row_pointing_past_the_terms_is_refused(rolecli, tmp_path):
    good = tmp_path / "good.counts.jsonl.gz"
    assert rolecli("data", "build", _postings(tmp_path), "-o", good).returncode == 0
    header, row, *_ = _rows(good)
    row["terms"] = [len(header["terms"]) + 7]
    row["counts"] = [1]
    bad = tmp_path / "bad.counts.jsonl.gz"
    bad.write_bytes(gzip.compress((json.dumps(header) + "\n" + json.dumps(row) + "\n").encode()))
    result = rolecli("evaluate", bad)
    assert result.returncode == 3
    assert "line 2: terms and counts must be matching lists" in one_line(result.stderr)


@pytest.mark.parametrize("boilerplate", [None, [], "1", [-1], [99], [True]])
def test_a_count_row_with_a_wrong_boilerplate_list_is_refused(rolecli, tmp_path, boilerplate):
    good = tmp_path / "good.counts.jsonl.gz"
    assert rolecli("data", "build", _postings(tmp_path), "-o", good).returncode == 0
    header, row, *_ = _rows(good)
    row["terms"], row["counts"], row["boilerplate"] = [0], [2], boilerplate
    bad = tmp_path / "bad.counts.jsonl.gz"
    bad.write_bytes(gzip.compress((json.dumps(header) + "\n" + json.dumps(row) + "\n").encode()))
    result = rolecli("evaluate", bad)
    assert result.returncode == 3
    assert "line 2: boilerplate must list" in one_line(result.stderr)


def test_terms_mostly_in_boilerplate_lines_are_not_features():
    """What the postings say mostly in benefits, equal-opportunity, about-the-company and
    how-to-apply lines cannot tilt a verdict: the shipped model has no weight for it."""
    from rolecli.tasks.classify import load_scorer

    total: Counter[str] = Counter()
    in_boilerplate: Counter[str] = Counter()
    for row in count_form.read(SHIPPED_COUNTS).rows:
        total.update(row.counts)
        in_boilerplate.update(row.boilerplate)
    mostly = {t for t, n in total.items() if n >= 50 and in_boilerplate[t] >= 0.9 * n}
    assert {"health insurance", "equal opportunity", "parental leave"} <= mostly
    vocabulary = set(load_scorer().vocabulary.terms())
    assert {"python", "learning", "statistics"} <= vocabulary
    assert not mostly & vocabulary


@pytest.mark.parametrize("path", sorted(BUILDS), ids=lambda p: p.name)
def test_shipped_counts_hold_only_common_ngrams_from_several_sources(path):
    counts = count_form.read(path)
    assert path.stat().st_size < 20 * 1024 * 1024
    postings: Counter[str] = Counter()
    sources: defaultdict[str, set[str]] = defaultdict(set)
    for row in counts.rows:
        for term in row.counts:
            postings[term] += 1
            sources[term].add(row.source)
    assert set(postings) == set(counts.terms)  # no term the rows never use
    assert min(postings.values()) >= counts.min_postings == 5
    assert min(len(s) for s in sources.values()) >= counts.min_sources == 2
    manifest = json.loads(_manifest(path).read_text())
    assert manifest["rows"] == len(counts.rows)
    assert [i["file"] for i in manifest["inputs"]] == BUILDS[path][0]


def _manifest(counts: Path) -> Path:
    return counts.with_name(counts.name[: -len(count_form.SUFFIX)] + ".manifest.json")


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(BUILDS), ids=lambda p: p.name)
def test_shipped_counts_are_rebuilt_byte_for_byte_from_shared(rolecli, tmp_path, path):
    if not (SHARED / "adjacent_dev.csv").is_file():
        pytest.skip(f"{SHARED} is absent (the real postings live outside the repository)")
    inputs, options = BUILDS[path]
    output = tmp_path / path.name
    result = rolecli("data", "build", *[SHARED / name for name in inputs], *options,
                     "-o", output, timeout=600)
    assert result.returncode == 0, result.stderr
    assert output.read_bytes() == path.read_bytes()
    assert json.loads(_manifest(output).read_text()) == json.loads(_manifest(path).read_text())


def test_train_and_evaluate_on_count_rows(rolecli, tmp_path):
    model = tmp_path / "model"
    trained = rolecli("train", "--data", SHIPPED_COUNTS, "--output", model, timeout=300)
    assert trained.returncode == 0, trained.stderr
    card = json.loads((model / "card.json").read_text())
    assert any(entry["path"].endswith(count_form.SUFFIX) for entry in card["training_data"])
    assert card["rows_by_source"]["jobspy_nl"]["scientist"] > 100
    report = rolecli("evaluate", SHIPPED_COUNTS, "--model", model, "-f", "json", timeout=300)
    assert report.returncode == 0, report.stderr
    figures = json.loads(report.stdout)
    assert figures["rows"] == len(count_form.read(SHIPPED_COUNTS).rows)
    assert figures["engineer_vs_scientist"]["roc_auc"] > 0.9  # in-sample: a sanity check


def test_gibberish_is_off_topic_with_its_reason(rolecli):
    result = rolecli("classify", "-f", "json", input=b"xyzzy plugh\n")
    assert result.returncode == 3
    verdict = json.loads(result.stdout)
    assert verdict["label"] is None and verdict["off_topic"] is True
    assert "almost none of the words" in verdict["reasons"][0]


@pytest.mark.parametrize("name", ["job-dba-01.txt", "job-qa-tester-01.txt",
                                  "job-it-support-01.txt", "job-frontend-developer-01.txt"])
def test_software_jobs_without_ml_are_off_topic_as_software_jobs(rolecli, name):
    result = rolecli("classify", OFFTOPIC_DIR / name, "-f", "json")
    assert result.returncode == 3
    verdict = json.loads(result.stdout)
    assert verdict["label"] is None and verdict["off_topic_family"] == "software"
    assert verdict["reasons"][0].startswith("It reads as a software or IT job without ML work")


@pytest.mark.parametrize("name", ["job-nurse-01.txt", "job-sales-01.txt", "recipe-01.txt",
                                  "job-marketing-coordinator-01.txt", "code-python-01.txt"])
def test_other_texts_are_off_topic(rolecli, name):
    result = rolecli("classify", OFFTOPIC_DIR / name, "-f", "json")
    assert result.returncode == 3
    assert json.loads(result.stdout)["label"] is None


BENEFITS = (
    "\n\nWhat we offer\n- Medical, dental and vision coverage\n- 401(k) plan with matching\n"
    "- Generous PTO and paid holidays\n- Paid parental leave\n",
    "\n\nWe are an equal opportunity employer and value diversity. All qualified applicants "
    "will receive consideration without regard to race, religion, sex, national origin, age, "
    "disability or veteran status. To apply, send your resume and a short cover letter.\n",
)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.txt")
                                        if p.name != "not-a-job.txt"))
def test_a_benefits_block_does_not_move_the_verdict(name):
    from rolecli import classify

    text = (EXAMPLES / name).read_text(encoding="utf-8")
    p = classify(text)["probabilities"]["scientist"]
    for block in BENEFITS:
        assert abs(classify(text + block)["probabilities"]["scientist"] - p) <= 0.03


_PIECES = ["Benefits:", "- 401(k) with a 5% match", "- Free snacks", "Deploy models to Kubernetes.",
           "Fit statistical models.", "We are an equal opportunity employer.", "\n", " ",
           "Apply now.", "Requirements", "About us", "Health insurance and PTO"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=30)), max_size=25)
       .map("".join))
def test_boilerplate_counts_are_part_of_the_counts(text):
    from rolecli.model.vocabulary import training_analyzer

    counts, boilerplate = count_form.posting_counts(text, training_analyzer())
    assert all(0 < n <= counts[term] for term, n in boilerplate.items())
