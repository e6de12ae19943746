"""Mixed from the posting's own role (verdict/decision.py, verdict/evidence.py): colleague
mentions never make a posting mixed; the role named as the job, and lines split between
the two kinds of work, do."""

from __future__ import annotations

import json

import pytest
from conftest import one_line
from hypothesis import given, settings
from hypothesis import strategies as st
from recruiter_postings import COLLEAGUES, ENGINEER_BODY, SCIENTIST_BODY, _json

from rolecli import classify, explain
from rolecli.text.title import named_roles

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
