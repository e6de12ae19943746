"""What the body says (issue #25): the graded title check, mixed from the body, the data roles
next to ML, words that name the work, short texts and the exact what-if, through the real
CLI on postings written for these tests (tests/data/verdicts/)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolecli import classify, explain
from rolecli.tasks.classify import load_scorer
from rolecli.text.title import blank
from rolecli.verdict.decision import CONFIDENCE_WORDS

VERDICTS = Path(__file__).parent / "data" / "verdicts"
RESEARCH = VERDICTS / "research-body.txt"
MIXED = VERDICTS / "mixed-body.txt"
DATA_ENGINEERING = VERDICTS / "data-engineering.txt"
# A data-engineering posting whose only ML is its colleagues ("our data scientists").
DATA_ENGINEERING_COLLEAGUES = VERDICTS / "data-engineering-colleagues.txt"
# A data-engineering posting whose only ML is what it says about the company ("AI-powered").
DATA_ENGINEERING_AI_COMPANY = VERDICTS / "data-engineering-ai-company.txt"
ONE_LINE = VERDICTS / "one-line-ml.txt"
HIGH = CONFIDENCE_WORDS[0][0]


def _json(text: str) -> dict:
    return json.loads(text)


def _decisive(data: dict, sign: int) -> list[dict]:
    """The decisive job lines toward one side (what the explain view lists)."""
    return [s for s in data["sentences"] if s["decisive"] and s["section"] != "title"
            and s["contribution"] * sign > 0]


def _stated(sentence: str, role: str) -> float:
    return float(re.search(rf"P\({role}\) ([01]\.\d\d)", sentence).group(1))


# --- the title check ---------------------------------------------------------------------


def test_a_research_body_under_an_engineer_title_is_flagged(invoke):
    result = invoke("explain", RESEARCH, "--title", "Machine Learning Engineer", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = _json(result.stdout)
    assert data["label"] == "scientist"
    assert data["title"] == {"text": "Machine Learning Engineer", "label": "engineer",
                             "agrees": False, "grade": "contradicts"}
    check = data["title_check"]
    assert check.startswith("Titled “Machine Learning Engineer” (ML engineer), but the body "
                            "reads as ML scientist")
    # Its numbers are the verdict's, and its line count the lines the view lists.
    assert _stated(check, "scientist") == round(data["probabilities"]["scientist"], 2)
    assert data["confidence"] >= load_scorer().thresholds.title.contradicts_min_p
    counted = re.search(r"(\d+) of the (\d+) lines|all (\d+) lines", check, re.IGNORECASE)
    toward = int(counted.group(1) or counted.group(3))
    total = int(counted.group(2) or counted.group(3))
    assert toward == len(_decisive(data, +1))
    assert total == len(_decisive(data, +1)) + len(_decisive(data, -1))
    assert "research" in check  # papers, new methods: named as research, not data science


def test_the_same_body_under_its_own_title_agrees(invoke):
    data = _json(invoke("classify", RESEARCH, "--title", "Research Scientist", "-f", "json")
                 .stdout)
    assert data["title"]["grade"] == "agrees" and data["title"]["agrees"] is True
    assert "and the body agrees" in data["title_check"]


def test_a_body_leaning_the_other_way_is_graded_leans_and_says_so():
    # Research lines and production lines: mixed, so a one-role title is only partly right.
    data = classify(MIXED.read_text(encoding="utf-8"), title="Machine Learning Engineer")
    assert data["label"] == "mixed"
    assert data["title"]["grade"] == "leans" and data["title"]["agrees"] is True
    assert "the body mixes both roles" in data["title_check"]


def test_batch_counts_each_grade(invoke, tmp_path):
    table = tmp_path / "postings.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "text"])
        writer.writerow(["a", "Machine Learning Engineer", RESEARCH.read_text(encoding="utf-8")])
        writer.writerow(["b", "Research Scientist", RESEARCH.read_text(encoding="utf-8")])
        writer.writerow(["c", "ML Engineer", MIXED.read_text(encoding="utf-8")])
        writer.writerow(["d", "", MIXED.read_text(encoding="utf-8")])
    result = invoke("batch", table, "--title-column", "title", "--id-column", "id",
                    "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert [rows[i]["title.grade"] for i in "abcd"] == ["contradicts", "agrees", "leans", ""]
    assert [rows[i]["title.agrees"] for i in "abcd"] == ["false", "true", "true", ""]
    assert "; titles against their body: 1 agree, 1 lean the other way, 1 contradict" in \
        " ".join(result.stderr.split())


# --- mixed from the body -----------------------------------------------------------------


def test_a_body_with_both_kinds_of_work_is_mixed_without_a_title(rolecli):
    result = rolecli("explain", MIXED, "-f", "json")
    assert result.returncode == 0, result.stderr
    data = _json(result.stdout)
    assert data["title"]["text"] is None
    assert data["label"] == "mixed" and "split" in data["mixed_grounds"]
    reason = data["reasons"][0]
    found = re.search(r"of the (\d+) lines that decide it, (\d+) read as engineering \((.+?)\) "
                      r"and (\d+) as (data science|research) \((.+?)\)", reason)
    assert found, reason
    engineering, science = _decisive(data, -1), _decisive(data, +1)
    assert int(found.group(2)) == len(engineering) and int(found.group(4)) == len(science)
    assert int(found.group(1)) == len(engineering) + len(science)
    text = MIXED.read_text(encoding="utf-8")
    for quoted in re.findall(r"“([^”]+)”", reason):  # the posting's own words, each side
        assert quoted in text


# --- the data roles next to ML -------------------------------------------------------------


def test_a_data_engineering_posting_without_ml_is_off_topic_naming_the_family(rolecli):
    result = rolecli("classify", DATA_ENGINEERING, "-f", "json")
    assert result.returncode == 3
    data = _json(result.stdout)
    assert data["off_topic"] is True and data["label"] is None
    assert data["off_topic_family"] == "data_engineer"
    assert data["reasons"][0].startswith("It reads as a data-engineering job without ML work")
    assert "reads as a data-engineering job without ML work" in data["title_check"]
    panel = rolecli("classify", DATA_ENGINEERING)
    assert "data-engineering job without ML work" in " ".join(
        panel.stdout.decode().replace("│", " ").split())


def test_a_data_engineering_posting_naming_ml_only_as_colleagues_is_off_topic(rolecli):
    result = rolecli("classify", DATA_ENGINEERING_COLLEAGUES, "-f", "json")
    assert result.returncode == 3, result.stdout
    data = _json(result.stdout)
    assert data["off_topic_family"] == "data_engineer"
    reason = data["reasons"][0]
    assert reason.startswith("It reads as a data-engineering job without ML work")
    assert "the only ML it names is colleagues (“data science teams”)" in reason


def test_a_data_engineering_posting_naming_ml_only_about_the_company_is_off_topic(rolecli):
    result = rolecli("classify", DATA_ENGINEERING_AI_COMPANY, "-f", "json")
    assert result.returncode == 3, result.stdout
    data = _json(result.stdout)
    assert data["off_topic_family"] == "data_engineer"
    assert "it names ML only in what it says about the company" in data["reasons"][0]
    # The same job with ML work of its own in its responsibilities is an ML job.
    text = DATA_ENGINEERING_AI_COMPANY.read_text().replace(
        "- Own data quality checks", "- Build the feature pipelines our machine learning models "
        "train on\n- Own data quality checks")
    assert classify(text)["label"] == "engineer"
    # So is one whose About section hires for ML ("Are you a data scientist?").
    hiring = DATA_ENGINEERING_AI_COMPANY.read_text().replace(
        "plan their routes.", "plan their routes. Are you a machine learning engineer?")
    assert classify(hiring)["off_topic"] is False


@pytest.mark.parametrize(("text", "own"), [
    ("Collaborate with data scientists and analysts on the warehouse.", False),
    ("Support the Data Science team and our ML engineers with clean tables.", False),
    ("We are looking for data scientists to join our pricing team.", True),
    ("As one of our Data Scientists, you will own the churn work.", True),
    ("Join our growing Data Science team as its analytics lead.", True),
    ("You will lead a team of five data scientists.", True),
    ("Build the pipelines our data scientists read from.", False),
    ("Data Scientist", True),
    ("Work with our data scientists to put machine learning models in production.", True),
])
def test_ml_roles_named_as_colleagues_are_not_ml_work_of_the_job(text, own):
    from rolecli.text.work import ml_colleagues, names_ml_work

    assert names_ml_work(text) is own
    assert (ml_colleagues(text) is None) is own


DATA_PLATFORM_FOR_ML = """\
Responsibilities
- Build the feature pipelines that feed our machine learning models, in Spark and Airflow
- Run the feature store that serves model features online, with freshness monitoring
- Maintain the training data pipelines and the model registry our data scientists use
- Own the Kafka streaming jobs behind real-time inference, and their on-call rota
Requirements
- Strong Python, SQL and Spark; Airflow, dbt and Snowflake
- Experience with feature stores and ML pipelines in production
"""


def test_a_data_engineering_posting_that_builds_for_models_is_never_ml_science():
    data = classify(DATA_PLATFORM_FOR_ML, title="Data Engineer")
    assert data["label"] == "engineer"
    assert data["off_topic"] is False


ANALYST = """\
Responsibilities
- Build monthly Tableau dashboards for the finance leadership team
- Write SQL queries against the warehouse to reconcile revenue and cost reports
- Maintain Excel models for budget tracking and variance analysis
- Prepare the quarterly board pack and answer ad hoc reporting requests
Requirements
- 3+ years in a finance or business analyst role; advanced Excel, SQL and Tableau
"""


def test_a_reporting_analyst_posting_is_off_topic_and_never_called_research():
    data = classify(ANALYST)
    assert data["off_topic"] is True
    assert data["off_topic_family"] == "data_analyst"
    assert "data-analyst job" in data["reasons"][0]
    assert not any("research" in reason for reason in data["reasons"])


# --- words that name the work --------------------------------------------------------------


def test_reporting_tools_are_never_quoted_as_science():
    # A data-science posting that also writes SQL and dashboards: the science is named and
    # quoted from its analysis words, never from SQL, Excel or Tableau.
    text = ("Responsibilities\n"
            "- Design A/B tests and analyse them with statistical methods\n"
            "- Build forecasting models for demand and present the insights to stakeholders\n"
            "- Write SQL against the warehouse and keep the Tableau dashboards current\n"
            "- Run causal analyses of pricing experiments\n")
    data = classify(text)
    assert data["label"] == "scientist"
    quoted = {q.lower() for reason in data["reasons"] for q in re.findall(r"“([^”]+)”", reason)}
    assert not quoted & {"sql", "tableau", "excel", "dashboards"}
    assert "read as data science" in data["reasons"][0]


# --- short text --------------------------------------------------------------------------


def test_a_one_line_ml_posting_gets_a_low_confidence_verdict(rolecli):
    result = rolecli("classify", ONE_LINE, "-f", "json")
    assert result.returncode == 0, result.stderr
    data = _json(result.stdout)
    assert data["label"] == "engineer" and data["off_topic"] is False
    assert data["short_text"] is True
    assert data["confidence"] < CONFIDENCE_WORDS[1][0]  # below "medium"
    assert data["confidence_text"].startswith("low: a short text (")
    assert data["reasons"][0].startswith("A short text (")
    # One answer, one story: nothing beside it says "not an ML job" or "high".
    said = " ".join([data["confidence_text"], *data["reasons"]])
    assert "not an ML" not in said and "high" not in said


def test_a_short_text_naming_no_ml_work_says_too_little_to_tell():
    data = classify("Team player, flexible hours.")
    assert data["off_topic"] is True and data["short_text"] is True
    assert data["confidence_text"].startswith("low: too little text to tell")
    assert "P(" not in data["reasons"][0]  # no probability for what it could not read


@pytest.mark.parametrize("text", [
    "I love machine learning and pizza.",
    "Machine learning is overhyped!",
    "AI AI AI",
])
def test_a_short_text_naming_ml_but_no_job_is_no_job_description(rolecli, text):
    result = rolecli("classify", "-", "-f", "json", input=text.encode())
    assert result.returncode == 3, result.stderr  # not an ML job description
    data = _json(result.stdout)
    assert data["off_topic"] is True and data["label"] is None and data["short_text"] is True
    assert data["reasons"][0].startswith("It names machine learning but no role or work")


@pytest.mark.parametrize("text", [
    "Train and evaluate ML models for search ranking.",
    "Hiring: machine learning engineer, Berlin.",
    "ML research on new methods; publish at NeurIPS.",
])
def test_a_short_text_naming_ml_and_a_role_or_work_gets_a_verdict(text):
    data = classify(text)
    assert data["off_topic"] is False and data["short_text"] is True


# --- what would change it ----------------------------------------------------------------


def _without(text: str, lines: list[dict]) -> str:
    for line in lines:
        text = blank(text, (line["start"], line["end"]))
    return text


RANKING = Path(__file__).parents[1] / "examples" / "ranking-scientist-engineer.txt"


@pytest.mark.parametrize("path", [MIXED, RANKING], ids=lambda p: p.stem)
def test_the_what_if_is_exact(rolecli, tmp_path, path):
    text = path.read_text(encoding="utf-8")
    data = _json(rolecli("classify", path, "-f", "json").stdout)
    what_if = data["what_if"]
    assert what_if["changed"] is True and what_if["lines"]
    assert what_if["label"] != data["label"]
    edited = tmp_path / "without.txt"
    edited.write_text(_without(text, what_if["lines"]), encoding="utf-8")
    again = _json(rolecli("classify", edited, "-f", "json").stdout)
    assert again["label"] == what_if["label"]
    assert again["probabilities"] == what_if["probabilities"]
    count = len(what_if["lines"])
    lines = "this line" if count == 1 else f"these {count} lines"
    assert what_if["sentence"].startswith(f"Without {lines} it reads as ")
    role = what_if["label"] if what_if["label"] in ("engineer", "scientist") else "scientist"
    assert _stated(what_if["sentence"], role) == round(again["probabilities"][role], 2)


def test_a_what_if_that_changes_nothing_says_so_exactly(rolecli, tmp_path):
    # Research through and through: even without its 8 strongest lines it reads as science.
    text = RESEARCH.read_text(encoding="utf-8")
    data = _json(rolecli("classify", RESEARCH, "-f", "json").stdout)
    what_if = data["what_if"]
    assert what_if["changed"] is False and what_if["label"] == data["label"] == "scientist"
    assert what_if["sentence"].startswith(f"Even without the {len(what_if['lines'])} lines that "
                                          "pull most toward research it still reads as")
    edited = tmp_path / "without.txt"
    edited.write_text(_without(text, what_if["lines"]), encoding="utf-8")
    again = _json(rolecli("classify", edited, "-f", "json").stdout)
    assert again["probabilities"] == what_if["probabilities"]


def test_the_what_if_is_shown_in_explain_and_the_html_report(invoke, tmp_path):
    view = " ".join(invoke("explain", MIXED).stdout.split())
    sentence = classify(MIXED.read_text(encoding="utf-8"))["what_if"]["sentence"]
    assert sentence in view
    assert invoke("explain", MIXED, "--html", tmp_path / "r.html").exit_code == 0
    assert sentence in (tmp_path / "r.html").read_text(encoding="utf-8")


LINES = st.sampled_from([
    "- Publish papers on new methods and present them at conferences",
    "- Run statistical analysis of experiments and A/B tests",
    "- Deploy models to production behind low-latency inference services",
    "- Build and operate the data pipelines and CI/CD for model training",
    "- Monitor the serving stack and take part in on-call",
    "- Forecast demand with time series models and share insights",
    "- Collaborate with product managers on the roadmap",
])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, min_size=2, max_size=9))
def test_every_what_if_statement_holds_when_rescored(lines):
    text = "Responsibilities\n" + "\n".join(lines) + "\n"
    data = classify(text)
    what_if = data["what_if"]
    again = classify(_without(text, what_if["lines"])) if what_if["lines"] else data
    assert again["probabilities"] == what_if["probabilities"]
    assert (again["label"] != data["label"]) == what_if["changed"]
    if what_if["changed"]:
        assert again["label"] == what_if["label"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, min_size=1, max_size=9), st.sampled_from(
    [None, "Machine Learning Engineer", "Data Scientist", "Research Engineer"]))
def test_the_confidence_text_never_contradicts_its_grade_or_number(lines, title):
    data = classify("\n".join(lines), title=title)
    word = data["confidence_text"].split(":")[0].split(" ")[0]
    expected = next(w for floor, w in CONFIDENCE_WORDS if data["confidence"] >= floor)
    if data["label"] != "mixed":
        assert word == expected
    if data["short_text"]:
        assert data["confidence"] < HIGH and "high" not in data["confidence_text"]
    grade = data["title"]["grade"]
    if grade == "leans" and data["title"]["label"] != "mixed" and data["label"] != "mixed":
        # "Leans" beside a high confidence would say two things at once.
        assert "not clearly enough to contradict" in data["title_check"]
        assert data["confidence"] < HIGH
    if grade == "contradicts":
        assert data["confidence"] >= load_scorer().thresholds.title.contradicts_min_p


def test_explain_lists_the_lines_the_reasons_count():
    data = explain(RESEARCH.read_text(encoding="utf-8"))
    reason = data["reasons"][0]
    found = re.search(r"(?:All (\d+)|(\d+) of the (\d+)) lines that decide it", reason)
    total = int(found.group(1) or found.group(3))
    assert total == len(_decisive(data, +1)) + len(_decisive(data, -1))
