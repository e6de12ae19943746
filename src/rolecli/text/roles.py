"""Every word list about roles, and the labels: one home, so that a new noun or label is
added once. Lists that differ do so on purpose; each name says what its list is for.

The nouns come as regular-expression fragments (for the title and role-phrase rules) and
as plain words (for substring tests on lowercased text).
"""

from __future__ import annotations

import re
from typing import Final, Literal

# The two roles the body model scores, and the labels a verdict gives (off-topic is no label:
# its label is null).
Role = Literal["engineer", "scientist"]
Label = Literal["engineer", "scientist", "mixed"]
ROLES: Final[tuple[Role, Role]] = ("engineer", "scientist")
ROLE_NAMES: Final[dict[str, str]] = {
    "engineer": "ML engineer", "scientist": "ML scientist", "mixed": "mixed"}

# Labels of labelled data (training, `evaluate`, `calibrate`, count files). family_only: a
# posting whose job family is known (its `family` column) but not whether it describes ML
# work, such as a data-engineering posting that mentions data scientists: it teaches the
# job-family head only.
DataLabel = Literal["engineer", "scientist", "mixed", "off_topic", "family_only"]
FAMILY_ONLY: Final = "family_only"
DATA_LABELS: Final[tuple[DataLabel, ...]] = (
    "engineer", "scientist", "mixed", "off_topic", FAMILY_ONLY)
# What `evaluate` counts a verdict as: a label, or off_topic.
PREDICTED: Final = ("engineer", "scientist", "mixed", "off_topic")

# Role nouns, as regex fragments: a title or a role phrase names the scientist or the
# engineer role with one of these.
SCIENTIST_NOUNS: Final = r"(?:scientists?|researchers?|statisticians?)"
ENGINEER_NOUNS: Final = r"(?:engineers?|developers?|mlops)"
# Nouns that make a short first line a job title even when they carry no role label.
JOB_TITLE_NOUNS: Final = (
    rf"\b(?:{SCIENTIST_NOUNS}|{ENGINEER_NOUNS}|analysts?|architects?|managers?|leads?|"
    r"specialists?|consultants?|interns?|internship|programmers?|directors?|head of|officers?)\b"
)
# The same role nouns as plain stems, for quick substring tests on lowercased text before a
# rule's regex runs.
ENGINEER_STEMS: Final = ("engineer", "developer", "mlops")
SCIENTIST_STEMS: Final = ("scientist", "researcher", "statistician")
ROLE_STEMS: Final = (
    "engineer", "scientist", "researcher", "statistician", "developer", "mlops")

# Words that name the role rather than describe the work: training weighs the terms that
# hold them down (model/training.py, "role_words"), so the work described decides. Whole
# tokens of the model's vocabulary, so no "developer": the model has learnt from it as work.
WEIGHTED_DOWN_ROLE_WORDS: Final = frozenset(
    {"engineer", "engineers", "engineering", "scientist", "scientists"})
# What `evaluate --mask-role-words` blanks out: the words above plus "science", so that
# neither "data science" nor a role's name is left to give the label away.
MASKED_ROLE_WORD: Final = re.compile(
    r"\b(engineer|engineers|engineering|scientist|scientists|science)\b", re.IGNORECASE)
