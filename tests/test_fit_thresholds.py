"""Threshold fitting (`rolecli calibrate`, tasks/fit_thresholds.py) on constructed score sets:
each fitted threshold moves the way its data asks, stays within its budget, and bad input
is refused. The postings' signals are built here, so each case says exactly what it tests."""

from __future__ import annotations

import pytest
from conftest import labelled_csv

from rolecli.errors import UsageError
from rolecli.model.card import DEFAULT_THRESHOLDS, Thresholds
from rolecli.tasks.fit_thresholds import (
    CLEAR_CALLED_MIXED_BUDGET,
    Labelled,
    PostingSignals,
    fit_data_roles,
    fit_mixed,
    fit_short_text,
    fit_title,
    threshold_settings,
)
from rolecli.verdict.decision import decide


def signals(p: float, *, families: dict[str, float] | None = None,
            excerpts: tuple[tuple[int, float], ...] = ()) -> PostingSignals:
    """A clearly on-topic posting with plenty of text whose body model says P(scientist) p."""
    return PostingSignals(p_scientist=p, p_on_topic=0.99, known_words=300, names_ml_work=True,
                          describes_job=True,
                          families=families, named=(), job_lines=(), excerpts=excerpts)


def no_mixed(thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Thresholds:
    return thresholds._replace(mixed=thresholds.mixed._replace(
        min_balance=None, band=None, named_band=None))


def clear_rows(n: int = 20) -> list[Labelled]:
    return ([Labelled("engineer", signals(0.03 + 0.01 * (i % 5))) for i in range(n)]
            + [Labelled("scientist", signals(0.97 - 0.01 * (i % 5))) for i in range(n)])


# -- the mixed rule ---------------------------------------------------------------------------


def test_mixed_postings_near_even_get_a_band_that_calls_them_mixed():
    rows = clear_rows() + [Labelled("mixed", signals(p)) for p in (0.42, 0.47, 0.5, 0.53, 0.58)]
    rule, report = fit_mixed(rows, DEFAULT_THRESHOLDS.mixed)
    assert rule.band is not None and rule.band >= 0.08
    assert report["mixed_called_mixed"] == 1.0 and report["clear_called_mixed"] == 0.0
    fitted = DEFAULT_THRESHOLDS._replace(mixed=rule)
    assert all(decide(r.signals, fitted).label == r.label for r in rows)


def test_clear_postings_near_even_narrow_the_band_to_the_budget():
    mixed = [Labelled("mixed", signals(p)) for p in (0.42, 0.47, 0.5, 0.53, 0.58)]
    near = [Labelled("engineer", signals(0.44)), Labelled("scientist", signals(0.56))]
    wide, _ = fit_mixed(clear_rows(10) + mixed, DEFAULT_THRESHOLDS.mixed)
    rule, report = fit_mixed(clear_rows(10) + near * 3 + mixed, DEFAULT_THRESHOLDS.mixed)
    assert report["clear_called_mixed"] <= CLEAR_CALLED_MIXED_BUDGET
    assert wide.band is not None and rule.band is not None
    assert rule.band < 0.06 < wide.band  # 0.44 and 0.56 stay clear, and so do 0.42 and 0.58
    assert report["mixed_called_mixed"] == 0.6


def test_no_mixed_rows_keep_the_rule_and_say_so():
    rule, report = fit_mixed(clear_rows(), DEFAULT_THRESHOLDS.mixed)
    assert rule == DEFAULT_THRESHOLDS.mixed
    assert report == {"note": "no mixed and clear postings to fit on: kept"}


# -- the title check --------------------------------------------------------------------------


def _title_rows(contrary_p: float) -> list[Labelled]:
    """20 engineer bodies, 3 of which the model reads as scientist with P = contrary_p."""
    return ([Labelled("engineer", signals(0.1)) for _ in range(17)]
            + [Labelled("engineer", signals(contrary_p)) for _ in range(3)]
            + [Labelled("scientist", signals(0.9)) for _ in range(20)])


@pytest.mark.parametrize(("contrary_p", "level"), [(0.58, 0.6), (0.68, 0.7), (0.78, 0.8)])
def test_the_contradiction_level_rises_above_bodies_that_contradict_their_own_title(
        contrary_p, level):
    base = no_mixed()
    rows = _title_rows(contrary_p)
    title, report = fit_title(rows, rows, base)
    # 3 of 40 rows (7.5%) would flag their own title below `contrary_p`: over the 5% budget.
    assert title.contradicts_min_p == level
    assert report["levels"][str(level)]["swap_own_title_flagged"] == 0.0
    assert report["levels"]["0.55"]["swap_own_title_flagged"] == 0.075


# -- the short-text level ---------------------------------------------------------------------


def _short_rows(right_from: int) -> list[Labelled]:
    """Clear postings whose excerpts under `right_from` known words read as the other role."""
    levels = (5, 10, 15, 20, 25, 30, 40, 50)
    rows = []
    for label, p, wrong in (("engineer", 0.1, 0.8), ("scientist", 0.9, 0.2)):
        excerpts = tuple((level, p if level >= right_from else wrong) for level in levels)
        rows += [Labelled(label, signals(p, excerpts=excerpts)) for _ in range(5)]
    return rows


@pytest.mark.parametrize("right_from", [10, 20, 40])
def test_the_short_text_level_is_the_fewest_words_excerpts_get_right(right_from):
    level, report = fit_short_text(_short_rows(right_from), DEFAULT_THRESHOLDS.short_text)
    assert level.max_known_words == right_from == report["chosen"]
    assert report["whole_postings"] == 1.0


def test_no_clear_postings_keep_the_short_text_level():
    rows = [Labelled("mixed", signals(0.5))]
    level, report = fit_short_text(rows, DEFAULT_THRESHOLDS.short_text)
    assert level == DEFAULT_THRESHOLDS.short_text and "kept" in report["note"]


# -- the data roles ---------------------------------------------------------------------------


@pytest.mark.parametrize(("p_data_engineer", "level"), [(0.47, 0.45), (0.33, 0.3), (0.12, 0.1)])
def test_the_data_engineering_level_drops_until_data_engineers_read_as_engineers(
        p_data_engineer, level):
    families = {"ml": 1.0 - p_data_engineer, "data_engineer": p_data_engineer}
    data_engineers = [signals(0.9, families=families) for _ in range(10)]
    fitted, report = fit_data_roles(data_engineers, no_mixed())
    assert fitted.engineering_min_p == level == report["chosen"]
    assert report["data_engineers_called_scientist"][str(level)] == 0.0


def test_data_engineers_the_family_head_misses_keep_the_level():
    data_engineers = [signals(0.9, families={"ml": 0.99, "data_engineer": 0.01})] * 4
    fitted, report = fit_data_roles(data_engineers, DEFAULT_THRESHOLDS)
    assert fitted == DEFAULT_THRESHOLDS.data_roles and "kept" in report["note"]


# -- bad input --------------------------------------------------------------------------------


def test_threshold_settings_need_both_roles(tmp_path):
    only = labelled_csv(tmp_path / "engineers.csv", [
        ("Deploy models to Kubernetes and keep the serving API under 50 ms", "engineer"),
        ("Own the feature pipelines and the model registry in production", "engineer"),
    ])
    with pytest.raises(UsageError, match="calibration needs both engineer and scientist rows"):
        threshold_settings(only)


def test_threshold_settings_refuse_a_missing_file(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        threshold_settings(tmp_path / "absent.csv")
