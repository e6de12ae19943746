"""rolecli leaves the process's library state as it found it: importing it sets no logging
level, csv limit or warnings filter, and a parser quietened for a call is loud again after."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import EXAMPLES

from rolecli.errors import InputError
from rolecli.quiet import quiet

LIBRARY_LOGGERS = ("pypdf", "python_multipart", "docx", "charset_normalizer", "starlette",
                   "uvicorn", "distributed", "sklearn")

STATE = f"""
import csv, logging, warnings
def state():
    return ([logging.getLogger(n).level for n in {LIBRARY_LOGGERS!r}],
            logging.getLogger().level, csv.field_size_limit(), list(warnings.filters))
"""


def test_importing_every_module_changes_no_library_state():
    src = Path(__file__).resolve().parents[1] / "src" / "rolecli"
    modules = sorted(
        ".".join(("rolecli", *p.relative_to(src).with_suffix("").parts)).removesuffix(".__init__")
        for p in src.rglob("*.py") if p.name != "__main__.py"
    )
    code = STATE + (
        "before = state()\n"
        "import importlib\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "after = state()\n"
        "assert after == before, (before, after)\n"
        f"print({len(modules)})\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(modules) > 40


def test_a_damaged_pdf_logs_nothing_and_leaves_pypdf_logging_as_it_was(tmp_path, caplog):
    from rolecli.io.documents import read_document

    path = tmp_path / "damaged.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")  # "EOF marker not found"
    caplog.set_level(logging.WARNING, logger="pypdf")
    with pytest.raises(InputError, match="unreadable PDF"):
        read_document(path)
    assert [r for r in caplog.records if r.name.startswith("pypdf")] == []
    assert logging.getLogger("pypdf").level == logging.WARNING
    logging.getLogger("pypdf._reader").warning("the caller's own record")
    assert [r.getMessage() for r in caplog.records] == ["the caller's own record"]


def test_batch_scoring_leaves_pypdf_logging_as_it_was(caplog):
    from rolecli.batch.items import Item, Scoring
    from rolecli.tasks.classify import load_scorer

    caplog.set_level(logging.WARNING, logger="pypdf")
    path = next(EXAMPLES.glob("*.txt"))
    assert Scoring(load_scorer()).row(Item(path.name, path=str(path)))["status"] == "ok"
    assert logging.getLogger("pypdf").getEffectiveLevel() == logging.WARNING


def test_quiet_blocks_overlapping_in_threads_restore_the_level_once_all_end():
    logger = logging.getLogger("rolecli-test-quiet")
    logger.setLevel(logging.INFO)
    inside, release = threading.Barrier(2), threading.Event()
    levels: list[int] = []

    def call() -> None:
        with quiet(logger.name):
            inside.wait(timeout=10)
            release.wait(timeout=10)
            levels.append(logger.getEffectiveLevel())

    first = threading.Thread(target=call)
    first.start()
    with quiet(logger.name):
        inside.wait(timeout=10)  # both blocks are open
        assert logger.getEffectiveLevel() == logging.ERROR
    assert logger.getEffectiveLevel() == logging.ERROR  # the thread's block is still open
    release.set()
    first.join(timeout=10)
    assert levels == [logging.ERROR]
    assert logger.level == logging.INFO


def test_quiet_keeps_a_level_already_stricter():
    logger = logging.getLogger("rolecli-test-strict")
    logger.setLevel(logging.CRITICAL)
    with quiet(logger.name):
        assert logger.level == logging.CRITICAL
    assert logger.level == logging.CRITICAL
