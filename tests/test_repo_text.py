"""The repository holds no line of the shared postings: tests, examples and docs use text of
their own (the postings are third-party text, read from ../shared/data only)."""

from __future__ import annotations

import re
from collections import Counter

from conftest import DEV_POSTINGS, ROOT, shared_rows

SHARED_FILES = ("postings_dev.csv", "postings_more.csv", "offtopic_dev.csv", "adjacent_dev.csv")
# A line this long found in one or two postings is theirs, not a stock phrase (job titles
# and "Equal Employment Opportunity" are shorter, or found in many postings).
MIN_CHARS = 36
MAX_POSTINGS = 2
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def _normalised(line: str) -> str:
    line = " ".join(line.translate(_QUOTES).lower().split())
    return line.strip(" -*•#:;,.\"'")


def _posting_lines() -> Counter[str]:
    """Each normalised line of the shared postings, counted once per posting."""
    found: Counter[str] = Counter()
    for name in SHARED_FILES:
        if not (DEV_POSTINGS.parent / name).is_file():
            continue
        for row in shared_rows(name):
            lines = {_normalised(line) for value in row.values() for line in
                     (value or "").splitlines()}
            found.update(line for line in lines if len(line) >= MIN_CHARS)
    return found


def _repository_texts() -> list[tuple[str, str]]:
    paths = [*sorted((ROOT / "tests").glob("*.py")), *sorted((ROOT / "examples").iterdir()),
             *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs" / "inputs").iterdir()),
             ROOT / "README.md"]
    return [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")) for p in paths
            if p.is_file() and p.suffix in (".py", ".md", ".txt", ".csv", ".jsonl", ".json")]


def test_no_line_of_a_shared_posting_is_in_the_repository():
    shared_rows()  # skips, naming the file, without ../shared/data
    posting_lines = _posting_lines()
    copied = []
    for name, text in _repository_texts():
        # Lines of the file, and the lines inside its string literals ("...\n...").
        for piece in re.split(r'\n|\\n|"', text):
            line = _normalised(piece)
            if len(line) >= MIN_CHARS and 0 < posting_lines[line] <= MAX_POSTINGS:
                copied.append(f"{name}: {piece.strip()[:80]}")
    assert not copied, "text copied from a shared posting:\n" + "\n".join(copied)
