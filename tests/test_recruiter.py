"""What a recruiter reads: the title check, mixed from the posting's own role, plain reasons
and sections, through the real CLI on postings written for these tests."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from conftest import one_line, shared_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from rolecli import classify, explain
from rolecli.text.sections import Sections, heading_kind
from rolecli.text.sentences import sentence_spans
from rolecli.text.title import leading_title, named_roles, title_label

ENGINEER_BODY = """About the team
We run the platform that serves every model in the product.

What you will do
- Deploy machine learning models to production behind low-latency APIs
- Build and operate training and inference pipelines on Kubernetes
- Set up CI/CD, monitoring and alerting for model serving and data drift
- Own on-call for the serving stack and cut inference cost on GPUs

Requirements
- 4+ years building production services in Python or Go
- Experience with Docker, Kubernetes, Terraform and cloud infrastructure
- You have shipped and maintained ML systems in production

Benefits
- 401(k) with a 5% match, medical, dental and vision insurance
- Generous paid time off and parental leave

We are an equal opportunity employer and value diversity.
"""

SCIENTIST_BODY = """Who we are
A small research group studying how people learn from feedback.

Responsibilities
- Design experiments and causal inference studies to test new hypotheses
- Develop novel statistical methods and publish papers at top conferences
- Analyze data with Bayesian models and explain results to stakeholders
- Read the literature, propose research directions and mentor interns

Qualifications
- PhD in statistics, machine learning or a related quantitative field
- A record of peer-reviewed publications and research in causal inference
- Strong R or Python skills for statistical analysis and visualisation

What we offer
- Competitive salary, stock options and a 401(k) match
- Health, dental and vision insurance; paid holidays
"""

COLLEAGUES = [
    "Partner with our research engineers to bring ideas into the product.",
    "You will work with data scientists and ML engineers across the company.",
    "Collaborate closely with our team of Research Engineers and Applied Scientists.",
    "Report to the Head of Research Engineering.",
    "Our data scientists / ML engineers rely on the tools you build.",
    "Join a team of research scientists and engineers.",
    "5+ years of experience as a data scientist or machine learning engineer.",
    "Mentor junior research engineers and data scientists.",
]


def _json(stdout: str | bytes) -> dict:
    return json.loads(stdout)


def quotes(text: str) -> list[str]:
    return re.findall(r"“(.*?)”", text)


# --- the title ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "label"),
    [
        ("Senior Machine Learning Engineer – Search", "engineer"),
        ("MLOps Engineer", "engineer"),
        ("Software Engineer, Machine Learning", "engineer"),
        ("AI/ML Developer", "engineer"),
        ("Data Scientist II", "scientist"),
        ("Senior Research Scientist, NLP", "scientist"),
        ("Applied Scientist", "scientist"),
        ("Statistician", "scientist"),
        ("Machine Learning Research Engineer", "mixed"),
        ("Data Scientist / ML Engineer", "mixed"),
        ("Machine Learning Scientist or Engineer", "mixed"),
        ("Senior Data Analyst", None),
        ("Product Manager, AI", None),
    ],
)
def test_title_rule(title, label):
    assert title_label(title) == label


# First lines written in the layouts real postings open with (markdown, labels, ids,
# locations, levels), and first lines that are not titles.
TITLE_LINES = [
    ("Senior Machine Learning Engineer – Search", "Senior Machine Learning Engineer – Search"),
    ("Job title: Data Scientist", "Data Scientist"),
    ("Job Title : Lead ML Engineer (Remote)", "Lead ML Engineer (Remote)"),
    ("Position: Machine Learning Engineer", "Machine Learning Engineer"),
    ("Role: AI/ML Engineer", "AI/ML Engineer"),
    ("## Staff Data Scientist", "Staff Data Scientist"),
    ("**Applied Scientist, Ads Ranking**", "Applied Scientist, Ads Ranking"),
    ("Principal Data Scientist - (2400001234)", "Principal Data Scientist - (2400001234)"),
    ("Data Scientist, Senior, Austin, TX", "Data Scientist, Senior, Austin, TX"),
    ("Sr. ML Engineer", "Sr. ML Engineer"),
    ("Machine Learning Engineer (m/f/d)", "Machine Learning Engineer (m/f/d)"),
]
NOT_TITLE_LINES = [
    "About Us",
    "Job Description",
    "Responsibilities:",
    "Agencies: please do not send us CVs for this opening.",
    "Acme is seeking a Senior Machine Learning Engineer to join our platform team",
    "AS OUR DATA SCIENTIST, EACH WEEK YOU WILL:",
    "Three or more years spent as a data scientist",
    "You have shipped work as a speech ML engineer or in a like role",
    "Our engineers build the systems behind every search.",
    "Company Overview",
]


@pytest.mark.parametrize(("line", "title"), TITLE_LINES)
def test_leading_title_line_is_recognised(line, title):
    found = leading_title(f"{line}\n\nWe build search.\n- Deploy models\n")
    assert found is not None and found.text(f"{line}\n") == title


@pytest.mark.parametrize("line", NOT_TITLE_LINES)
def test_other_first_lines_are_not_titles(line):
    assert leading_title(f"{line}\n\nWe build search.\n- Deploy models\n") is None


def test_a_labelled_title_on_the_line_after_its_label():
    text = "Position Title\n\nData Scientist / AI Engineer\nLocation: Remote\n"
    found = leading_title(text)
    assert found is not None and found.text(text) == "Data Scientist / AI Engineer"


def test_the_title_line_is_never_scored_with_the_body():
    body = ENGINEER_BODY
    for title in ("Research Scientist, Causal Inference", "Machine Learning Engineer"):
        with_line = classify(f"{title}\n\n{body}")
        given = classify(body, title=title)
        assert with_line["probabilities"] == given["probabilities"]
        assert with_line["title"] == given["title"] | {"text": title}


def test_a_title_that_disagrees_gives_agrees_false_and_the_sentence(invoke, tmp_path):
    posting = tmp_path / "posting.txt"
    posting.write_text(ENGINEER_BODY, encoding="utf-8")
    result = invoke("classify", posting, "--title", "Senior Data Scientist", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = _json(result.stdout)
    assert data["label"] == "engineer"
    assert data["title"] == {"text": "Senior Data Scientist", "label": "scientist",
                             "agrees": False, "grade": "contradicts"}
    sentence = data["title_check"]
    assert sentence.startswith("Titled “Senior Data Scientist” (ML scientist), but the body "
                               "reads as ML engineer: ")
    assert re.search(r"(all \d+|\d+ of the \d+) lines that decide it read as engineering "
                     r"\(P\(engineer\) [01]\.\d\d", sentence), sentence
    shown = " ".join(invoke("explain", posting, "--title", "Senior Data Scientist").stdout.split())
    assert sentence in shown
    wrote = invoke("explain", posting, "--title", "Senior Data Scientist",
                   "--html", tmp_path / "r.html")
    assert wrote.exit_code == 0 and wrote.stdout == ""
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'class="check warn"' in page and "Titled &ldquo;" not in page
    assert "Titled “Senior Data Scientist” (ML scientist), but" in page
    agreeing = _json(invoke("classify", posting, "-t", "ML Engineer", "-f", "json").stdout)
    assert agreeing["title"]["agrees"] is True
    assert "and the body agrees" in agreeing["title_check"]


def test_the_title_check_in_the_classify_panel(invoke, tmp_path):
    posting = tmp_path / "posting.txt"
    posting.write_text(f"Research Scientist\n\n{ENGINEER_BODY}", encoding="utf-8")
    out = " ".join(invoke("classify", posting).stdout.replace("│", " ").split())
    assert "Titled “Research Scientist” (ML scientist), but" in out


def test_no_title_leaves_the_title_object_empty():
    data = classify(ENGINEER_BODY)
    assert data["title"] == {"text": None, "label": None, "agrees": None, "grade": None}
    assert data["title_check"] is None


def test_batch_title_column_and_summary(invoke, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a table wide enough not to fold the title cells
    table = tmp_path / "postings.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["job_id", "job_title", "description"])
        writer.writerow(["a", "Data Scientist", ENGINEER_BODY])
        writer.writerow(["b", "ML Engineer", ENGINEER_BODY])
        writer.writerow(["c", "", SCIENTIST_BODY])
    result = invoke("batch", table, "--text-column", "description", "--id-column", "job_id",
                    "--title-column", "job_title", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    rows = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["a"]["title"] == {"text": "Data Scientist", "label": "scientist", "agrees": False,
                                  "grade": "contradicts"}
    assert rows["b"]["title"]["agrees"] is True
    assert rows["c"]["title"] == {"text": None, "label": None, "agrees": None, "grade": None}
    assert ("; titles against their body: 1 agree, 0 lean the other way, 1 contradict"
            in one_line(result.stderr))
    for row, body, title in (("a", ENGINEER_BODY, "Data Scientist"), ("c", SCIENTIST_BODY, None)):
        assert rows[row]["title"] == classify(body, title=title)["title"]
    as_csv = invoke("batch", table, "--text-column", "description", "--title-column",
                    "job_title", "--format", "csv")
    records = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["title.label"], r["title.agrees"]) for r in records] == [
        ("scientist", "false"), ("engineer", "true"), ("", "")
    ]
    table_view = invoke("batch", table, "--text-column", "description", "--title-column",
                        "job_title", "--format", "table")
    assert "scientist: contradicts" in table_view.stdout
    given = invoke("batch", table, "--text-column", "description", "--title", "Data Scientist",
                   "--format", "jsonl")
    assert [json.loads(r)["title"]["text"] for r in given.stdout.splitlines()] == [
        "Data Scientist"
    ] * 3


def test_a_missing_title_column_is_a_usage_error(invoke, tmp_path):
    table = tmp_path / "postings.csv"
    table.write_text("text\nDeploy models to production\n", encoding="utf-8")
    result = invoke("batch", table, "--title-column", "job_title")
    assert result.exit_code == 2
    assert "job_title" in one_line(result.stderr)


# --- mixed from the posting's own role -----------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    body=st.sampled_from([ENGINEER_BODY, SCIENTIST_BODY]),
    mentions=st.lists(st.sampled_from(COLLEAGUES), min_size=1, max_size=4),
    place=st.integers(min_value=0, max_value=30),
)
def test_a_colleague_mention_never_makes_a_posting_mixed(body, mentions, place):
    lines = body.splitlines()
    at = min(place, len(lines))
    text = "\n".join(lines[:at] + [f"- {m}" for m in mentions] + lines[at:])
    assert named_roles(text) == []
    result = explain(text)
    assert result["label"] != "mixed", result["reasons"]
    assert "named" not in result["mixed_grounds"]


def test_colleague_mentions_through_the_cli(rolecli, tmp_path):
    posting = tmp_path / "posting.txt"
    posting.write_text(ENGINEER_BODY + "\n".join(COLLEAGUES) + "\n", encoding="utf-8")
    result = rolecli("classify", posting, "-f", "json")
    assert result.returncode == 0, result.stderr
    assert _json(result.stdout)["label"] == "engineer"


@pytest.mark.parametrize(
    ("sentence", "named"),
    [
        ("We are hiring a Research Engineer to join the lab.", "Research Engineer"),
        ("Acme is looking for a Data Scientist / ML Engineer who loves shipping.",
         "Data Scientist / ML Engineer"),
        ("As a Machine Learning Research Engineer, you will split your time.",
         "Machine Learning Research Engineer"),
        ("Join us as a Senior Applied Scientist/Engineer and help.",
         "Senior Applied Scientist/Engineer"),
        ("Title: ML Scientist or Engineer\nLocation: Remote", "ML Scientist or Engineer"),
        ("The Applied Research Engineer will own the evaluation stack.",
         "Applied Research Engineer"),
    ],
)
def test_the_role_named_as_the_job(sentence, named):
    roles = named_roles(sentence)
    assert [(r.text(sentence), r.label) for r in roles] == [(named, "mixed")]


def test_half_research_half_production_is_mixed_from_its_lines(invoke):
    # Half research, half production, and no title: the lines split both ways.
    lines = ENGINEER_BODY.split("\n\nRequirements")[0].splitlines()[3:]
    science = SCIENTIST_BODY.split("\n\nQualifications")[0].splitlines()[3:]
    body = "\n".join(["What you will do", *lines, *science])
    data = _json(invoke("explain", "-", "-f", "json", input=body).stdout)
    assert data["label"] == "mixed" and "split" in data["mixed_grounds"]
    assert data["reasons"][0].startswith("Mixed: of the ")
    assert data["confidence_text"].startswith("mixed because its lines split both ways")


def test_naming_a_hybrid_role_never_overrides_a_clear_body():
    text = "We are hiring a Research Engineer.\n\n" + ENGINEER_BODY
    assert explain(text)["label"] == "engineer"
    titled = classify(ENGINEER_BODY, title="Research Engineer")
    assert titled["label"] == "engineer"
    assert titled["title"] == {"text": "Research Engineer", "label": "mixed", "agrees": True,
                               "grade": "leans"}
    assert "the body reads as ML engineer only" in titled["title_check"]


def test_the_thresholds_live_in_the_card():
    from conftest import MODEL

    from rolecli.model.card import DEFAULT_THRESHOLDS

    card = json.loads((MODEL / "card.json").read_text(encoding="utf-8"))
    assert set(card["thresholds"]) == set(DEFAULT_THRESHOLDS.as_dict())
    assert set(card["thresholds"]["mixed"]) == set(DEFAULT_THRESHOLDS.mixed._fields)
    calibration = json.loads((MODEL.parents[1] / "data" / "calibration.json").read_text())
    assert calibration["thresholds"] == card["thresholds"]


def test_a_card_with_the_previous_mixed_thresholds_exits_4(rolecli, tmp_path):
    import shutil

    from conftest import EXAMPLES, MODEL

    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    card = json.loads((model / "card.json").read_text())
    card["thresholds"]["mixed"]["hybrid_p_low"] = 0.0  # the keyword rule's, now gone
    (model / "card.json").write_text(json.dumps(card))
    result = rolecli("classify", EXAMPLES / "ml-engineer.txt", "--model", model)
    assert result.returncode == 4
    assert "hybrid_p_low" in one_line(result.stderr)


# --- reasons ------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "role", "side"), [
    (ENGINEER_BODY, "engineer", "engineering"), (SCIENTIST_BODY, "scientist", "research")
])
def test_reasons_name_the_lines_and_words(invoke, body, role, side):
    data = _json(invoke("classify", "-", "-f", "json", input=body).stdout)
    assert data["label"] == role
    assert 1 <= len(data["reasons"]) <= 3
    first = data["reasons"][0]
    assert re.match(rf"(All \d+|\d+ of the \d+) lines that decide it read as {side}: “",
                    first), first
    assert all(q in body for reason in data["reasons"] for q in quotes(reason))
    assert not re.search(r"\bP\(\w+\) \d", " ".join(data["reasons"][:1]))  # words, not maths


def test_benefits_lines_never_appear_in_the_reasons(invoke):
    # The benefits are written to pull hard toward research ("match", "research" are strong
    # scientist terms); the reasons still cite only the work.
    benefits = ("Benefits\n- 401(k) matching and research sabbaticals\n"
                "- Tuition matching for statistics courses\n"
                "- Matching gifts; experiments with a four-day week\n")
    boilerplate = ("benefits", "equal_opportunity", "about", "how_to_apply", "details")
    only_in_benefits = ["401(k)", "sabbatical", "Tuition", "gifts", "four-day", "dental",
                        "paid time off", "equal opportunity"]
    for body in (ENGINEER_BODY + benefits, SCIENTIST_BODY + benefits):
        data = _json(invoke("explain", "-", "-f", "json", input=body).stdout)
        boiler = [s["text"] for s in data["sentences"] if s["section"] in boilerplate]
        assert any("401(k)" in line for line in boiler)
        said = " ".join(data["reasons"])
        assert not [word for word in only_in_benefits if word.lower() in said.lower()], said
        for reason in data["reasons"]:
            for quoted in quotes(reason):
                assert quoted not in boiler, (quoted, reason)  # no benefits line is quoted
                assert any(quoted in s["text"] for s in data["sentences"]
                           if s["section"] not in boilerplate and not s["heading"])
        decisive = [s for s in data["sentences"] if s["decisive"]]
        assert decisive and not any(s["section"] == "benefits" for s in decisive)


FRAGMENTS = [
    "Deploy models to Kubernetes.", "Run A/B tests and causal inference studies.",
    "Build CI/CD pipelines.", "Publish research papers.", "PhD in statistics.",
    "401(k) match and dental insurance.", "We are an equal opportunity employer.",
    "Responsibilities", "Requirements:", "## Benefits", "About us", "- ", "• ", "1. ",
    "We are hiring a Research Engineer.", "Work with our data scientists.",
    "Serve LLM inference on GPUs with low latency.", "Design experiments; analyse results!",
    "\n", "\n\n", "How to apply: send your CV.", "Location: Remote",
]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=40).map(" ".join),
    st.one_of(st.none(), st.sampled_from(["Data Scientist", "ML Engineer", "Research Engineer"])),
)
def test_every_reason_names_text_that_is_in_the_posting(text, title):
    if not text.strip():
        return
    result = explain(text, title=title)
    assert 1 <= len(result["reasons"]) <= 3
    for reason in result["reasons"]:
        for quoted in quotes(reason):
            assert quoted and quoted in text, (quoted, text)
    if result["title_check"] is not None:
        assert result["title"]["text"] is not None


# --- sections -----------------------------------------------------------------------


def kinds(text: str) -> list[tuple[str, str]]:
    found = Sections(text)
    return [(found.of_line(s, e)[0], text[s:e]) for s, e in sentence_spans(text)]


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("Responsibilities", "responsibilities"), ("Key Responsibilities:", "responsibilities"),
        ("What You'll Do", "responsibilities"), ("In this role, you will:", "responsibilities"),
        ("## Minimum Qualifications", "requirements"), ("**Who you are**", "requirements"),
        ("Requirements", "requirements"), ("Nice to have", "requirements"),
        ("About Us", "about"), ("About Acme Robotics", "about"), ("Who we are", "about"),
        ("About the role", "role"), ("Job Description", "role"),
        ("Benefits & Perks", "benefits"), ("What we offer:", "benefits"),
        ("What's in it for you?", "benefits"), ("Salary", "benefits"),
        ("Equal Employment Opportunity", "equal_opportunity"),
        ("EEO Statement", "equal_opportunity"),
        ("How to apply", "how_to_apply"), ("2. Requirements", "requirements"),
        ("Location", "details"),
    ],
)
def test_headings_in_real_layouts(heading, kind):
    assert heading_kind(heading) == kind


@pytest.mark.parametrize("line", ["- Remote", "* Python", "Data Scientist", "We are hiring",
                                  "Deploy models to production"])
def test_list_items_and_sentences_are_not_headings(line):
    assert heading_kind(line) is None


def test_sections_with_bullets_numbers_and_colons():
    text = (
        "Acme builds robots.\n"
        "Responsibilities:\n"
        "1. Deploy models\n"
        "2) Build pipelines\n"
        "Location: Remote\n"
        "• Monitor drift\n"
        "**Requirements**\n"
        "* 3+ years of Python\n"
        "Benefits\n"
        "- Dental and vision\n"
        "Acme is an equal opportunity employer.\n"
    )
    assert kinds(text) == [
        ("intro", "Acme builds robots."),
        ("responsibilities", "Responsibilities:"),
        ("responsibilities", "1. Deploy models"),
        ("responsibilities", "2) Build pipelines"),
        ("details", "Location: Remote"),  # one detail; the list goes on after it
        ("responsibilities", "• Monitor drift"),
        ("requirements", "**Requirements**"),
        ("requirements", "* 3+ years of Python"),
        ("benefits", "Benefits"),
        ("benefits", "- Dental and vision"),
        ("equal_opportunity", "Acme is an equal opportunity employer."),
    ]


def test_perks_listed_without_a_heading_are_benefits():
    text = (
        "Responsibilities\n"
        "- Train models within a compute budget\n"
        "- Build flexible pipelines for streaming data\n"
        "- Free snacks and catered lunches\n"
        "- An annual learning and development budget\n"
        "- Flexible working hours and a home office allowance\n"
        "- Gym membership and team offsites\n"
    )
    assert [k for k, _ in kinds(text)] == ["responsibilities"] * 3 + ["benefits"] * 4


def test_sections_of_a_one_paragraph_posting():
    text = (
        "Acme is hiring a data scientist to study churn. Responsibilities: build models of "
        "churn and run experiments. Requirements: a degree in statistics and SQL. Benefits: "
        "medical, dental and a 401(k) plan. We are an equal opportunity employer."
    )
    assert [k for k, _ in kinds(text)] == [
        "intro", "responsibilities", "requirements", "benefits", "equal_opportunity"
    ]


def test_explanations_show_the_sections(invoke):
    data = _json(invoke("explain", "-", "-f", "json", input=ENGINEER_BODY).stdout)
    assert [s["kind"] for s in data["sections"]] == [
        "about", "responsibilities", "requirements", "benefits"
    ]
    # A sentence's own words make it boilerplate too, whatever section it stands in.
    assert data["sentences"][-1]["section"] == "equal_opportunity"
    out = " ".join(invoke("explain", "-", input=ENGINEER_BODY).stdout.split())
    assert "sections: about us 1 · responsibilities 4 · requirements 3 · benefits 2 · " in out


def test_the_text_view_without_colour_shows_strength_with_marks(rolecli):
    result = rolecli("explain", "-", "--all-lines", input=ENGINEER_BODY.encode(),
                     env={"NO_COLOR": "1", "COLUMNS": "120"})
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "\x1b[3" not in out  # no colour
    assert "◀◀◀" in out and "◀ toward ML engineer" in out
    assert re.search(r"◀+ │ +-\d\.\d{3} │ responsibilities +│ - Deploy machine learning", out), out
    assert " weak " not in out  # no legend of colour swatches, which would be empty


# --- bounded output -----------------------------------------------------------------


@pytest.mark.slow
def test_explanation_output_is_bounded_on_huge_input(rolecli, tmp_path):
    import resource

    posting = tmp_path / "huge.txt"
    lines = ["- Deploy models", "- Run experiments", "Benefits", "- dental", "ok"]
    posting.write_text("\n".join(lines[i % len(lines)] for i in range(700_000)) + "\n")
    assert posting.stat().st_size < 8 * 1024 * 1024
    assert posting.stat().st_size > 8_000_000 - 2_000_000
    page = tmp_path / "r.html"
    for args in (("--html", page), ("--all-lines", "--html", page), ("-f", "json")):
        result = rolecli("explain", posting, *args, timeout=300)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout) < 3_000_000, (args, len(result.stdout))
        assert page.stat().st_size < 8_000_000
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert children < 1_200_000, f"peak RSS {children} KiB"


def test_explanation_json_sums_every_line_even_when_not_listed():
    from rolecli.tasks.explain import LISTED_LINES

    text = "\n".join(f"- Deploy model {i} to production" for i in range(LISTED_LINES + 500))
    result = explain(text)
    assert len(result["sentences"]) <= LISTED_LINES + 10
    assert result["unlisted_lines"]["count"] >= 490


# --- real postings (read from ../shared/data; skipped without it) ----------------------


def _plain(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())


@pytest.mark.parametrize("name", ["postings_dev.csv", "postings_more.csv"])
def test_the_title_rule_reads_real_titles_as_their_labels_do(name):
    rows = shared_rows(name)
    agree = sum(title_label(r["title"]) == r["label"] for r in rows)
    assert agree / len(rows) >= 0.99


@pytest.mark.parametrize("name", ["postings_dev.csv", "postings_more.csv", "offtopic_dev.csv"])
def test_real_first_lines(name):
    rows = shared_rows(name)
    repeated = [r for r in rows
                if _plain(r["text"].strip().splitlines()[0]) == _plain(r["title"])
                and title_label(r["title"]) is not None]
    found = [leading_title(r["text"]) for r in repeated]
    assert repeated and sum(f is not None for f in found) / len(repeated) >= 0.9
    # A first line that is a heading or a sentence is never taken for the title ("Role:"
    # may label the title on the next line).
    for row in rows:
        text = row["text"]
        first = text.splitlines()[0] if text.splitlines() else ""
        if heading_kind(first) is not None or len(first.split()) > 15:
            found = leading_title(text)
            assert found is None or found.span[0] >= len(first), (first, found)


def test_real_postings_have_their_sections_recognised():
    rows = shared_rows("postings_dev.csv") + shared_rows("postings_more.csv")
    with_work = 0
    boiler_share = []
    for row in rows:
        parts = Sections(row["text"]).parts
        with_work += any(p.kind in ("responsibilities", "requirements") for p in parts)
        boiler_share.append(sum(p.end - p.start for p in parts if p.kind in (
            "about", "benefits", "equal_opportunity", "how_to_apply", "details"
        )) / len(row["text"]))
    assert with_work / len(rows) >= 0.75
    assert sum(boiler_share) / len(rows) < 0.4
