"""The shipped model on real postings and on the team's off-topic texts.

The dev postings trained the shipped model (as counts), so the figures on them here are
in-sample sanity checks only; the quality figures are leave-one-source-out, from
bench/quality.py, which the slow test at the end runs on a few held-out sources.
"""

from __future__ import annotations

import json

import pytest
from conftest import DEV_POSTINGS, MODEL, OFFTOPIC_DIR, shared_rows


@pytest.fixture(scope="module")
def dev_report():
    from rolecli.tasks.evaluate import evaluate

    shared_rows()  # skips with a reason when ../shared/data is absent
    return evaluate(DEV_POSTINGS, MODEL), evaluate(DEV_POSTINGS, MODEL, mask=True)


def test_engineer_vs_scientist_targets(dev_report):
    plain, _ = dev_report
    binary = plain["engineer_vs_scientist"]
    assert binary["roc_auc"] >= 0.97
    assert binary["balanced_accuracy"] >= 0.90
    assert binary["ece"] <= 0.05


def test_reads_responsibilities_not_role_words(dev_report):
    plain, masked = dev_report
    for key in ("roc_auc", "balanced_accuracy"):
        assert masked["engineer_vs_scientist"][key] >= (0.95 if key == "roc_auc" else 0.90)
        assert (
            abs(masked["engineer_vs_scientist"][key] - plain["engineer_vs_scientist"][key]) <= 0.02
        )


def test_mixed_targets(dev_report):
    plain, _ = dev_report
    assert plain["mixed"]["true_mixed_called_mixed"] >= 0.40
    assert plain["mixed"]["clear_called_mixed"] <= 0.10


def test_few_real_postings_are_called_off_topic(dev_report):
    plain, _ = dev_report
    assert plain["off_topic_rate"] <= 0.01


def test_team_off_topic_texts_are_flagged(rolecli):
    files = sorted(OFFTOPIC_DIR.glob("*.txt"))
    kinds = {f.name.rsplit("-", 1)[0] for f in files if f.name.startswith("job-")}
    assert len(files) >= 60 and len(kinds) >= 15
    from rolecli import classify

    flagged = [f.name for f in files if classify(f.read_text(encoding="utf-8"))["off_topic"]]
    assert len(flagged) / len(files) >= 0.95, sorted(set(f.name for f in files) - set(flagged))


def test_evaluate_cli_json_carries_every_figure(invoke, tmp_path):
    data = tmp_path / "labelled.csv"
    import csv

    from conftest import EXAMPLES

    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for name, label in (
            ("ml-engineer.txt", "engineer"),
            ("data-scientist.txt", "scientist"),
            ("research-scientist.txt", "scientist"),
            ("ranking-scientist-engineer.txt", "mixed"),
            ("llm-platform-engineer.txt", "engineer"),
        ):
            writer.writerow([(EXAMPLES / name).read_text(), label])
    result = invoke("evaluate", data, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 5
    assert report["accuracy"] == 1.0
    assert report["engineer_vs_scientist"]["roc_auc"] == 1.0
    assert report["mixed"]["true_mixed_called_mixed"] == 1.0
    assert report["confusion"]["labels"] == ["engineer", "scientist", "mixed"]
    text = invoke("evaluate", data)
    assert "confusion" in text.stdout and "ROC AUC" in text.stdout


def test_evaluate_label_folder_and_column_options(invoke, tmp_path):
    from conftest import EXAMPLES

    for label, name in (("engineer", "ml-engineer.txt"), ("scientist", "data-scientist.txt")):
        (tmp_path / "set" / label).mkdir(parents=True)
        (tmp_path / "set" / label / name).write_text((EXAMPLES / name).read_text())
    result = invoke("evaluate", tmp_path / "set", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] == 1.0

    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text(
        json.dumps({"body": (EXAMPLES / "ml-engineer.txt").read_text(), "role": "engineer"}) + "\n"
    )
    ok = invoke("evaluate", jsonl, "--text-column", "body", "--label-column", "role", "-f", "json")
    assert ok.exit_code == 0, ok.output
    missing = invoke("evaluate", jsonl)
    assert missing.exit_code == 2


@pytest.mark.slow
def test_leave_one_source_out_on_held_out_sources():
    """bench/quality.py itself, holding out three sources with both roles."""
    import re
    import subprocess
    import sys

    from conftest import ROOT

    shared_rows()
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "quality.py"), "--sources",
         "glassdoor_us_2023", "indeed_ca_2021", "jobspy_il_2026"],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    row = re.search(r"^\| rolecli \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \|", result.stdout, re.M)
    assert row, result.stdout
    auc, balanced, ece = map(float, row.groups())
    assert auc >= 0.93 and balanced >= 0.85 and ece <= 0.1
    flagged = re.search(r"off-topic: ([0-9.]+) of", result.stdout)
    assert flagged and float(flagged.group(1)) <= 0.02
