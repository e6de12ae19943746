"""Training is deterministic, the card is truthful, and the shipped model is what `train` builds."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import EXAMPLES, MODEL, ROOT, labelled_csv, one_line

# card.json too: it holds no timestamp, so the same data gives the same card.
MODEL_FILES = ("pipeline.joblib", "domain.joblib", "family.joblib", "scorer.bin", "card.json")


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_card_hashes_match_files():
    card = json.loads((MODEL / "card.json").read_text())
    files = {p.name for p in MODEL.iterdir() if p.name != "card.json"}
    assert set(card["files"]) == files
    for name, digest in card["files"].items():
        assert _sha(MODEL / name) == digest, name
    for entry in card["training_data"]:
        assert _sha(ROOT / entry["path"]) == entry["sha256"], entry["path"]


def test_card_records_what_a_model_card_should():
    card = json.loads((MODEL / "card.json").read_text())
    for key in (
        "model_id",
        "training_data",
        "hyperparameters",
        "libraries",
        "thresholds",
        "metrics",
        "calibration",
        "files",
    ):
        assert key in card
    assert {"scikit-learn", "numpy", "python"} <= set(card["libraries"])
    assert card["metrics"]["out_of_fold"]["roc_auc"] > 0.5
    for entry in card["training_data"]:
        assert entry["rows"] == sum(entry["labels"].values())


@pytest.fixture(scope="module")
def two_trainings(tmp_path_factory):
    """Two runs of the installed `rolecli train`, each in a fresh process as a user runs it.

    (In a long-lived process, pickle's memo can share a string object one run and not the
    next, which changes the bytes but not the model; a fresh process is what users get.)
    """
    import os
    import subprocess

    from conftest import rolecli_executable

    out = tmp_path_factory.mktemp("train")
    env = {k: v for k, v in os.environ.items() if k != "ROLECLI_MODEL"}
    for name in ("a", "b"):
        result = subprocess.run(
            [rolecli_executable(), "train", "--output", str(out / name)],
            capture_output=True, text=True, env=env, timeout=600,
        )
        assert result.returncode == 0, result.stderr
    return out / "a", out / "b"


@pytest.mark.slow
def test_training_twice_gives_identical_files(two_trainings):
    a, b = two_trainings
    for name in MODEL_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.slow
def test_retrained_model_equals_shipped_model(two_trainings):
    """The shipped model is exactly what `rolecli train` produces from data/."""
    a, _ = two_trainings
    for name in MODEL_FILES:
        assert (a / name).read_bytes() == (MODEL / name).read_bytes(), name


@pytest.mark.slow
def test_retrained_model_scores_examples_like_shipped(two_trainings, invoke):
    a, _ = two_trainings
    for example in sorted(EXAMPLES.glob("*.txt")):
        shipped = invoke("classify", example, "-f", "json")
        retrained = invoke("classify", example, "-f", "json", "--model", a)
        assert (
            json.loads(shipped.stdout)["probabilities"]
            == json.loads(retrained.stdout)["probabilities"]
        )


def test_train_on_user_folder_and_jsonl(tmp_path, invoke):
    """--data takes label folders and JSONL, mixed with the shipped data."""
    folder = tmp_path / "mine"
    for label, line in (
        ("engineer", "Deploy models to Kubernetes and keep the serving API fast"),
        ("scientist", "Run A/B tests and present statistical insights to leaders"),
    ):
        (folder / label).mkdir(parents=True)
        for i in range(3):
            (folder / label / f"{i}.txt").write_text(f"{line} {i}")
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(json.dumps({"text": "Causal inference research", "label": "scientist"}) + "\n")
    result = invoke(
        "train",
        "--data",
        folder,
        "--data",
        jsonl,
        "--with-shipped-data",
        "--output",
        tmp_path / "model",
        "--cv",
        "3",
    )
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "model" / "card.json").read_text())
    paths = [entry["path"] for entry in card["training_data"]]
    assert "mine" in paths and "more.jsonl" in paths
    classified = invoke(
        "classify", EXAMPLES / "ml-engineer.txt", "-f", "json", "--model", tmp_path / "model"
    )
    assert classified.exit_code == 0


def test_train_rejects_unknown_label(tmp_path, invoke):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nsome text,astronaut\n")
    result = invoke("train", "--data", bad, "--output", tmp_path / "m")
    assert result.exit_code == 3
    assert "unknown label" in result.output


def test_label_folders_are_walked_as_batch_walks(tmp_path, invoke):
    """Hidden files are skipped and a symlink loop is safe in label folders, as in batch."""
    folder = tmp_path / "labelled"
    for label, names in (("engineer", ("ml-engineer", "llm-platform-engineer")),
                         ("scientist", ("research-scientist", "data-scientist"))):
        (folder / label / "more").mkdir(parents=True)
        for name in names:
            (folder / label / f"{name}.txt").write_bytes((EXAMPLES / f"{name}.txt").read_bytes())
    (folder / "engineer" / ".draft.txt").write_text("not a posting", encoding="utf-8")
    (folder / "engineer" / "more" / "loop").symlink_to("..")
    result = invoke("evaluate", folder, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["labels"] == {"engineer": 2, "scientist": 2}
    assert report["errors"] == []


def test_train_replaces_a_model_directory_whole(tmp_path, invoke):
    """The new model takes the old one's place by renames: no old file lingers, no staging
    directory is left beside it."""
    from rolecli.model.scorer_file import LEGACY_SCORER_FILE

    output = tmp_path / "model"
    output.mkdir()
    (output / LEGACY_SCORER_FILE).write_text("an older model's scorer", encoding="utf-8")
    refused = invoke("train", "--output", output, "--cv", "2")
    assert refused.exit_code == 2
    assert "already holds a model; pass --force to replace it" in refused.stderr
    assert (output / LEGACY_SCORER_FILE).read_text(encoding="utf-8") == "an older model's scorer"
    result = invoke("train", "--output", output, "--cv", "2", "--force")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert sorted(p.name for p in output.iterdir()) == sorted(MODEL_FILES)


def test_train_refuses_a_directory_that_is_not_a_model(tmp_path, invoke):
    output = tmp_path / "mine"
    output.mkdir()
    (output / "notes.txt").write_text("keep me", encoding="utf-8")
    result = invoke("train", "--output", output)
    assert result.exit_code == 2
    assert "not a model's (notes.txt)" in result.stderr
    assert (output / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_role_model_reads_as_an_estimator(tmp_path):
    """Parameters verbatim from __init__, learned state set by fit, the defaults read-only,
    and save writes what compile gives."""
    from dataclasses import FrozenInstanceError

    from rolecli.model.directory import save_model
    from rolecli.model.hyperparameters import DEFAULT_HYPERPARAMETERS
    from rolecli.model.scorer_file import SCORER_FILE, encode
    from rolecli.model.training import RoleModel
    from rolecli.tasks.train import default_data_files, load_training_data

    model = RoleModel(folds=2)
    assert model.hyperparameters is DEFAULT_HYPERPARAMETERS and model.folds == 2
    assert not hasattr(model, "role_")
    with pytest.raises(FrozenInstanceError):
        DEFAULT_HYPERPARAMETERS.role.C = 10.0  # type: ignore[misc]
    examples, infos = load_training_data(default_data_files())
    assert model.fit(examples) is model
    card = save_model(model, tmp_path / "model", infos, examples)
    assert (tmp_path / "model" / SCORER_FILE).read_bytes() == encode(model.compile())
    assert card["hyperparameters"]["role"]["C"] == 2.0
    assert card["metrics"]["out_of_fold"]["folds"] == 2


def test_train_refuses_too_few_rows_and_points_to_shipped_data(tmp_path, invoke):
    small = labelled_csv(tmp_path / "small.csv", [
        ("Deploy models to Kubernetes and keep the serving API fast", "engineer"),
        ("Run A/B tests and present statistical insights to leaders", "scientist"),
    ] * 7)
    result = invoke("train", "--data", small, "--output", tmp_path / "m")
    assert result.exit_code == 3
    assert one_line(result.stderr) == (
        "rolecli: error: too little data for a model: 7 engineer and 7 scientist rows (at "
        "least 20 of each role are needed); add rows, or pass --with-shipped-data to train "
        "on yours and the shipped data"
    )
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_train_refuses_labels_it_cannot_learn(tmp_path, invoke):
    """Random labels over the same words: the out-of-fold AUC is near chance, so no model."""
    import random

    rng = random.Random(1)
    words = ["model", "data", "pipeline", "deploy", "analysis", "statistics", "kubernetes",
             "experiment", "serving", "research", "python", "sql", "team", "build"]
    noise = labelled_csv(tmp_path / "noise.csv", [
        (" ".join(rng.choice(words) for _ in range(30)), rng.choice(["engineer", "scientist"]))
        for _ in range(60)
    ])
    result = invoke("train", "--data", noise, "--output", tmp_path / "m")
    assert result.exit_code == 3
    assert "little better than chance: out-of-fold ROC AUC" in one_line(result.stderr)
    assert not (tmp_path / "m").exists()


def test_library_warnings_become_one_plain_line_per_kind():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from rolecli.tasks.train import plain_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            warnings.warn("Liblinear failed to converge,\n increase the number of iterations.",
                          ConvergenceWarning, stacklevel=1)
    assert plain_warnings(caught) == [
        "Liblinear failed to converge, increase the number of iterations. "
        "(ConvergenceWarning, 3 times)"
    ]


def test_train_help_explains_the_column_options(invoke):
    shown = " ".join(invoke("train", "--help").stdout.split())
    assert "--text-column COLUMN Column holding the posting text." in shown
    assert "--label-column COLUMN Column holding the label" in shown


def test_hyperparameters_refuse_unknown_names_and_keep_the_card_shape():
    """As fastText's read_args refuses an unknown option: a misspelt name is an error that
    lists the known ones, never silently ignored; the card's JSON is the shipped card's."""
    import json

    from rolecli.model.hyperparameters import DEFAULT_HYPERPARAMETERS, Hyperparameters
    from rolecli.paths import shipped_model_dir

    shipped = json.loads((shipped_model_dir() / "card.json").read_text(encoding="utf-8"))
    assert DEFAULT_HYPERPARAMETERS.to_json() == shipped["hyperparameters"]
    assert Hyperparameters.from_mapping(shipped["hyperparameters"]) == DEFAULT_HYPERPARAMETERS
    changed = Hyperparameters.from_mapping({"role": {"C": 1.5}, "ngram_range": [1, 3]})
    assert changed.role.C == 1.5 and changed.role.solver == "liblinear"
    assert changed.ngram_range == (1, 3) and changed.domain == DEFAULT_HYPERPARAMETERS.domain
    with pytest.raises(ValueError, match=r"hyperparameters: unknown setting 'ngram' \(known: "):
        Hyperparameters.from_mapping({"ngram": [1, 2]})
    with pytest.raises(ValueError, match=r"hyperparameters\.role: unknown setting 'c' "
                                         r"\(known: C, boilerplate_copies, "):
        Hyperparameters.from_mapping({"role": {"c": 1.0}})
    with pytest.raises(ValueError, match="weighting is a description of a fixed rule"):
        Hyperparameters.from_mapping({"weighting": "uniform"})


def test_library_errors_name_parameters_and_only_the_cli_names_flags(tmp_path, invoke):
    """A Python caller of train() is told about its parameters; the CLI's line (the hint,
    printed by cli/boundary.py alone) names the flags, as it always has."""
    from rolecli import train
    from rolecli.errors import ModelError, UsageError

    output = tmp_path / "model"
    output.mkdir()
    (output / "card.json").write_text("{}", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        train(output=output)
    assert str(caught.value) == (
        f"output {output} already holds a model; pass force=True to replace it")
    assert caught.value.cli_line() == (
        f"--output {output} already holds a model; pass --force to replace it")
    result = invoke("train", "--output", output)
    assert result.exit_code == 2
    assert one_line(result.stderr) == "rolecli: error: " + caught.value.cli_line()
    with pytest.raises(UsageError, match=r"^no output directory: pass output$"):
        train()
    broken = ModelError("card.json: unreadable")
    assert str(broken) == "card.json: unreadable"
    assert broken.cli_line() == (
        "card.json: unreadable (rebuild it with `rolecli train`, or pass --model DIR)")


def test_a_missing_extra_is_one_check_naming_the_extra(monkeypatch):
    from rolecli.errors import UsageError
    from rolecli.extras import EXTRAS, Extra, require_extra

    monkeypatch.setitem(EXTRAS, "dask", Extra(("rolecli_no_such_module",), "the optional extra"))
    with pytest.raises(UsageError) as caught:
        require_extra("dask", "--engine dask")
    assert caught.value.message == (
        "--engine dask needs the optional extra: pip install 'rolecli[dask]'")
    require_extra("train", "rolecli train")  # installed here: no error
