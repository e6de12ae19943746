"""`rolecli explain`, `classify --explain` and `model info` through the real CLI.

The explanation is only worth trusting if it is exact: term contributions plus the
intercept must give the logit the verdict came from, for every posting.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, MODEL, one_line
from hypothesis import given, settings
from hypothesis import strategies as st

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.txt"))
TOLERANCE = 1e-9
REQUIRED_KEYS = {
    "label", "probabilities", "confidence", "confidence_text", "off_topic", "reasons", "title",
    "title_check", "mixed_grounds", "logit", "intercept", "how", "terms", "sentences",
    "unlisted_lines", "sections", "named_roles", "closest_article", "model", "limits",
}
HOSTILE = (
    "Machine Learning Engineer\n"
    "- Deploy models to production <script>window.__pwned=1</script>\n"
    '- Build pipelines <img src=x onerror="window.__pwned=1"> and monitoring\n'
    '- Run experiments "><svg onload=alert(1)> & publish research\n'
    "- Serve PyTorch models behind a low-latency inference API on Kubernetes\n"
    "- Monitor model drift, retrain models and own the CI/CD pipelines for ML services\n"
)


def _json(stdout: str | bytes) -> dict:
    return json.loads(stdout)


def assert_exact(explanation: dict, text: str) -> None:
    """Terms and lines both add up to the logit, and P(scientist) is its sigmoid."""
    logit = explanation["logit"]
    terms = explanation["intercept"] + math.fsum(t["contribution"] for t in explanation["terms"])
    lines = explanation["intercept"] + math.fsum(
        [s["contribution"] for s in explanation["sentences"]]
        + [explanation["unlisted_lines"]["contribution"]]
    )
    assert abs(terms - logit) <= TOLERANCE
    assert abs(lines - logit) <= TOLERANCE
    p = explanation["probabilities"]["scientist"]
    assert abs(p - 1.0 / (1.0 + math.exp(-max(-700.0, logit)))) <= 1e-12
    for sentence in explanation["sentences"]:
        assert text[sentence["start"] : sentence["end"]] == sentence["text"]


# --- exactness ----------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_examples_add_up_exactly(invoke, path):
    result = invoke("explain", path, "--format", "json")
    assert result.exit_code in (0, 3), result.stdout
    assert_exact(_json(result.stdout), path.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_every_dev_posting_adds_up_exactly(invoke, dev_postings):
    checked = 0
    for row in dev_postings:
        if not row["text"].strip():
            continue
        result = invoke("explain", "-", "--format", "json", input=row["text"].encode("utf-8"))
        assert result.exit_code in (0, 3), (row["id"], result.stderr)
        assert_exact(_json(result.stdout), row["text"])
        checked += 1
    assert checked > 1000


WORDS = ["Deploy", "models", "to", "Kubernetes.", "Run", "A/B", "tests", "and", "statistics",
         "\n", "- ", "research", "PhD", "pipelines", "causal", "inference", "LLM", "serving",
         "Research Engineer", "<b>", "&amp;", "É", "ﬁne-tune", "\r\n", "\t", "papers;"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=120).map(" ".join))
def test_generated_postings_add_up_and_both_views_show_the_whole_text(text):
    from rich.console import Console

    from rolecli.render.explain_view import display_text, explanation_view
    from rolecli.render.html import html_report
    from rolecli.tasks.explain import explanation_of

    if not text.strip():
        return
    explained = explanation_of(text)
    explanation = explained.to_json()
    assert_exact(explanation, text)
    # The highlighted posting loses nothing: strip the marks, unescape, and it is the text.
    page = html_report(explained, text, "generated")
    body = re.search(r'<div class="posting">(.*?)</div>', page, re.S)
    assert body is not None
    assert html.unescape(re.sub(r"<[^>]+>", "", body.group(1))) == display_text(text)
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(explanation_view(explained, text, all_lines=True))
    shown = console.export_text()
    assert "every line" in shown and "The exact arithmetic" in shown


# --- JSON shape ---------------------------------------------------------------------


def test_json_schema(invoke):
    path = EXAMPLES / "ranking-scientist-engineer.txt"
    text = path.read_text(encoding="utf-8")
    data = _json(invoke("explain", path, "-f", "json").stdout)
    assert set(data) >= REQUIRED_KEYS
    assert data["label"] in {"engineer", "scientist", "mixed"}
    assert set(data["probabilities"]) == {"engineer", "scientist"}
    assert "P(scientist)" in data["how"]
    contributions = [abs(t["contribution"]) for t in data["terms"]]
    assert contributions == sorted(contributions, reverse=True)
    assert all(c > 0 for c in contributions)
    for term in data["terms"]:
        assert set(term) == {"term", "contribution", "occurrences", "spans"}
        assert len(term["spans"]) == term["occurrences"], term  # a short posting: all listed
        for start, end in term["spans"]:
            assert 0 <= start < end <= len(text)
            words = re.findall(r"\w\w+", text[start:end].lower())
            # An n-gram's span runs from its first token to its last one.
            assert words[0] == term["term"].split()[0] and words[-1] == term["term"].split()[-1]
    for sentence in data["sentences"]:
        assert set(sentence) == {
            "text", "start", "end", "contribution", "decisive", "section", "heading"
        }
    assert any(s["decisive"] and s["contribution"] < 0 for s in data["sentences"])
    assert any(s["decisive"] and s["contribution"] > 0 for s in data["sentences"])
    closest = data["closest_article"]
    assert len(closest) == 3
    assert all(set(b) == {"id", "label", "text", "similarity"} for b in closest)
    assert [b["similarity"] for b in closest] == sorted((b["similarity"] for b in closest),
                                                        reverse=True)
    card = json.loads((MODEL / "card.json").read_text())
    assert data["model"] == {"id": card["model_id"], "sha256": card["files"]["scorer.bin"]}


def test_python_api_matches_cli(invoke):
    from rolecli import explain

    path = EXAMPLES / "data-scientist.txt"
    cli = _json(invoke("explain", path, "-f", "json").stdout)
    assert explain(path.read_text(encoding="utf-8")) == cli


# --- determinism --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_same_input_same_bytes(rolecli, fmt):
    path = EXAMPLES / "ranking-scientist-engineer.txt"
    env = {"FORCE_COLOR": "1", "COLUMNS": "100"}  # styled output, so the shading is compared too
    first = rolecli("explain", path, "--format", fmt, env=env)
    second = rolecli("explain", "-", "--format", fmt, env=env, input=path.read_bytes())
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    if fmt == "text":
        assert b"\x1b[" in first.stdout


def test_same_input_same_html(rolecli, tmp_path):
    path = EXAMPLES / "research-scientist.txt"
    pages = []
    for name in ("one.html", "two.html"):
        result = rolecli("explain", path, "--html", tmp_path / name)
        assert result.returncode == 0, result.stderr
        pages.append((tmp_path / name).read_bytes())
    assert pages[0] == pages[1]


# --- the text view ------------------------------------------------------------------


def test_text_view_has_every_part(invoke):
    path = EXAMPLES / "ranking-scientist-engineer.txt"
    data = _json(invoke("explain", path, "-f", "json").stdout)
    result = invoke("explain", path)
    assert result.exit_code == 0
    out = " ".join(result.stdout.split())  # undo the wrapping at the terminal width
    # What a recruiter reads comes first; the arithmetic after, under its own heading.
    order = ["verdict mixed", "confidence mixed because", "why", "title Titled", "sections:",
             "lines that decided it", "The exact arithmetic", "closest article"]
    places = [out.index(part) for part in order]
    assert places == sorted(places), places
    for reason in data["reasons"]:
        assert " ".join(reason.split()) in out
    assert f"= {data['logit']:+.3f}" in out and "P(scientist) = 1/(1+e^(" in out
    assert "◆" in out and "--all-lines shows every line" in out
    for bullet in data["closest_article"]:
        assert bullet["text"] in out
    assert data["model"]["id"] in out


def test_long_postings_show_their_decisive_lines_unless_all_lines(invoke):
    path = EXAMPLES / "ranking-scientist-engineer.txt"
    data = _json(invoke("explain", path, "-f", "json").stdout)
    decisive = [s for s in data["sentences"] if s["decisive"]]
    quiet = [s for s in data["sentences"] if not s["decisive"] and s["contribution"]]
    assert len(data["sentences"]) > 20 and decisive and quiet
    default = " ".join(invoke("explain", path).stdout.split())
    every = " ".join(invoke("explain", path, "--all-lines").stdout.split())
    assert f"the {len(decisive)} lines that decided it, of {len(data['sentences'])}" in default
    assert f"every line ({len(data['sentences'])})" in every
    probe = " ".join(quiet[0]["text"].split()[:3])  # short enough not to wrap
    assert probe not in default.split("The exact arithmetic")[0]
    assert probe in every


def test_shading_follows_direction(rolecli):
    result = rolecli("explain", EXAMPLES / "ml-engineer.txt",
                     env={"FORCE_COLOR": "1", "COLUMNS": "120"})
    out = result.stdout.decode()
    # Rich writes cyan as 36 and magenta as 35; both directions show up, and reversed for strong.
    assert "\x1b[36m" in out and "\x1b[35m" in out
    assert "\x1b[1;7;36m" in out


def test_classify_explain_shows_the_explanation(invoke):
    result = invoke("classify", EXAMPLES / "research-scientist.txt", "--explain")
    assert result.exit_code == 0
    assert "P(scientist)" in result.stdout
    assert "lines that decided it" in result.stdout
    assert "The exact arithmetic" in result.stdout
    assert "closest article responsibilities" in result.stdout


def test_classify_explain_json_includes_the_explanation(invoke):
    path = EXAMPLES / "research-scientist.txt"
    result = invoke("classify", path, "--explain", "--format", "json")
    assert result.exit_code == 0
    data = _json(result.stdout)
    assert data["explanation"] == _json(invoke("explain", path, "-f", "json").stdout)
    assert {k: v for k, v in data.items() if k != "explanation"} == _json(
        invoke("classify", path, "-f", "json").stdout
    )


def test_top_limits_the_terms_table(invoke, tmp_path):
    path = EXAMPLES / "ml-engineer.txt"
    data = _json(invoke("explain", path, "-f", "json").stdout)
    engineer = [t for t in data["terms"] if t["contribution"] < 0]
    out = invoke("explain", path, "--top", "3", "--html", tmp_path / "r.html", "-f", "text").stdout
    assert "top 3 terms each way" in out
    for term in engineer[:3]:
        assert f"{term['term']} ({term['occurrences']})" in out
    assert f"{engineer[3]['term']} ({engineer[3]['occurrences']})" not in out
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    lists = re.findall(r'<ul class="terms">(.*?)</ul>', page)
    assert [item.count("<li>") for item in lists] == [3, 3]
    assert "top 3 each way" in page


# --- the HTML page (rendering in a browser lives in test_html_browser.py) ------------


def test_html_is_self_contained_and_escaped(rolecli, tmp_path):
    posting, page_path = tmp_path / "hostile.txt", tmp_path / "report.html"
    posting.write_text(HOSTILE, encoding="utf-8")
    result = rolecli("explain", posting, "--html", page_path, "-f", "json")
    assert result.returncode == 0, result.stderr
    page = page_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert (
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    ) in page
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<svg" not in page
    tags = re.findall(r"<[a-zA-Z][^>]*>", page)
    assert not [t for t in tags if re.search(r"\s(src|href|on\w+)=", t)], "nothing loads or runs"
    assert "http://" not in page and "https://" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in page
    assert _json(result.stdout)["label"] in {"engineer", "scientist", "mixed"}


def test_html_and_the_serve_page_style_with_the_package_data_stylesheet(invoke, tmp_path):
    """render/report.css is package data, read through importlib.resources (as an installed
    package reads it: tests/test_packaging.py checks the wheel)."""
    from importlib.resources import files

    from rolecli.serve.page import STYLESHEET

    css = files("rolecli.render").joinpath("report.css").read_text(encoding="utf-8")
    assert css.startswith(":root {") and ".hero" in css
    invoke("explain", EXAMPLES / "ml-engineer.txt", "--html", tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"<style>\n{css}</style>" in page
    assert STYLESHEET.startswith(css)


def test_html_title_attribute_names_term_and_contribution(invoke, tmp_path):
    path = EXAMPLES / "ml-engineer.txt"
    data = _json(invoke("explain", path, "-f", "json").stdout)
    invoke("explain", path, "--html", tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    strongest = data["terms"][0]
    value = f"{strongest['contribution']:+.4f}".replace("-", "\u2212")
    assert f"{strongest['term']}: {value} over {strongest['occurrences']} occurrence" in page
    assert re.search(r'<mark class="[es][123]" title="', page)


# --- model info ---------------------------------------------------------------------


def test_model_info_shows_card_and_top_terms(invoke):
    card = json.loads((MODEL / "card.json").read_text())
    from rolecli.model.scorer_file import SCORER_FILE, decode

    scorer = decode((MODEL / SCORER_FILE).read_bytes())
    coef = dict(zip(scorer.terms, scorer.role_coef, strict=True))
    result = invoke("model", "info")
    assert result.exit_code == 0, result.stdout
    out = result.stdout
    assert card["model_id"] in out
    for item in card["training_data"]:
        assert item["path"] in out and item["sha256"][:12] in out
    assert "thresholds" in out and "min_p_on_topic" in out
    assert "calibration" in out and "metrics" in out
    assert min(coef, key=lambda t: (coef[t], t)) in out
    assert max(coef, key=lambda t: (coef[t], t)) in out


def test_model_info_json(invoke):
    data = _json(invoke("model", "info", "--format", "json").stdout)
    card = json.loads((MODEL / "card.json").read_text())
    assert data["card"] == card
    assert data["model"]["id"] == card["model_id"]
    for role, sign in (("engineer", -1), ("scientist", 1)):
        coefficients = [t["coefficient"] * sign for t in data["top_terms"][role]]
        assert len(coefficients) == 15
        assert all(c > 0 for c in coefficients)
        assert coefficients == sorted(coefficients, reverse=True)


def test_model_info_bad_model_exits_4(rolecli, tmp_path):
    result = rolecli("model", "info", "--model", tmp_path)
    assert result.returncode == 4
    one_line(result.stderr)


# --- exit codes ---------------------------------------------------------------------


def test_missing_file_exits_2(rolecli, tmp_path):
    result = rolecli("explain", tmp_path / "nope.txt")
    assert result.returncode == 2
    assert "no such file" in one_line(result.stderr)


@pytest.mark.parametrize("content", [b"", b" \n\t \n"])
def test_empty_input_exits_3(rolecli, tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    result = rolecli("explain", path, "-f", "json")
    assert result.returncode == 3
    assert result.stdout == b""
    assert "empty" in one_line(result.stderr)


def test_off_topic_prints_json_then_exits_3(rolecli, tmp_path):
    page = tmp_path / "r.html"
    result = rolecli("explain", EXAMPLES / "not-a-job.txt", "-f", "json", "--html", page)
    assert result.returncode == 3
    data = _json(result.stdout)
    assert data["off_topic"] is True and data["label"] is None
    assert result.stderr.decode().splitlines() == [
        f"wrote {page}", f"rolecli: {EXAMPLES / 'not-a-job.txt'}: not an ML job description "
        "(off-topic)"]
    assert "Off-topic" in page.read_text(encoding="utf-8")


def test_bad_model_exits_4(rolecli, tmp_path):
    (tmp_path / "none").mkdir()  # exists, holds no model (a missing one is exit 2)
    result = rolecli("explain", EXAMPLES / "ml-engineer.txt", "--model", tmp_path / "none")
    assert result.returncode == 4
    one_line(result.stderr)


def test_html_over_a_directory_is_refused(rolecli, tmp_path):
    before = sorted(tmp_path.iterdir())
    result = rolecli("explain", EXAMPLES / "ml-engineer.txt", "--html", tmp_path)
    assert result.returncode == 2
    assert "directory" in one_line(result.stderr)
    assert result.stdout == b""
    assert sorted(tmp_path.iterdir()) == before


def test_html_in_a_missing_directory_exits_2(rolecli, tmp_path):
    result = rolecli("explain", EXAMPLES / "ml-engineer.txt", "--html", tmp_path / "no" / "r.html")
    assert result.returncode == 2
    assert "no such directory" in one_line(result.stderr)


def test_top_must_be_positive(rolecli):
    result = rolecli("explain", EXAMPLES / "ml-engineer.txt", "--top", "0")
    assert result.returncode == 2
    one_line(result.stderr)


def test_no_scikit_learn_on_the_explain_path(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from rolecli.cli.main import run; sys.argv = ['rolecli', 'explain', "
        f"{str(EXAMPLES / 'ml-engineer.txt')!r}, '--html', {str(tmp_path / 'r.html')!r}]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "assert 'sklearn' not in sys.modules, 'explain imported scikit-learn'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert result.returncode == 0, result.stderr
    assert Path(tmp_path / "r.html").is_file()
