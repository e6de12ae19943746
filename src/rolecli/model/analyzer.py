"""Tokenisation that reproduces scikit-learn's word analyzer exactly, without importing it
(with BOUNDED_TOKEN_PATTERN, minus the n-grams that run across a line or sentence break).

The compiled scorer and the explanation both go through `Analyzer`, and the
training pipeline is configured from the same settings, so the three agree term
for term.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import filterfalse

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
FAST_TOKEN_PATTERN = r"\w\w+"
# The ends of lines and sentences: a line break, or . ! ; : before ASCII whitespace. ("?" is
# left out: the fast path below reads non-ASCII characters as "?".)
_BREAK = r"[.!;:](?=[ \t\n\r\x0b\x0c])|[\n\r\x0b\x0c]"
# TOKEN_PATTERN that also yields each break, as a one-character token that no term holds,
# so that no n-gram runs across two lines or sentences: "12 paid holidays / Paid parental
# leave" gives no `holidays paid`, a pair that is no phrase of the posting (and let benefits
# lists tilt verdicts, docs/quality.md). scikit-learn's vectorizer takes it as it is.
BOUNDED_TOKEN_PATTERN = TOKEN_PATTERN + "|" + _BREAK

@dataclass(frozen=True)
class Analyzer:
    token_pattern: str = TOKEN_PATTERN
    ngram_range: tuple[int, int] = (1, 2)
    stop_words: frozenset[str] = field(default_factory=frozenset)
    lowercase: bool = True
    # Whether n-grams stop at line and sentence breaks (set from the token pattern).
    bounded: bool = field(init=False, default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # scikit-learn's default pattern finds exactly the maximal runs of two or more word
        # characters, and so does plain \w\w+ (a greedy run always ends and, scanned left to
        # right, always starts at a word boundary) at twice the speed without the \b tests.
        bounded = self.token_pattern == BOUNDED_TOKEN_PATTERN
        default = bounded or self.token_pattern == TOKEN_PATTERN
        pattern = self.token_pattern
        if default:
            pattern = FAST_TOKEN_PATTERN + ("|" + _BREAK if bounded else "")
        object.__setattr__(self, "_regex", re.compile(pattern))
        object.__setattr__(self, "bounded", bounded)
        # For the default patterns on text whose word characters are all ASCII: the tokens
        # minus stop words, or the words of a whitespace split minus these.
        dropped = self.stop_words | _ASCII_WORD_CHARACTERS if default else None
        object.__setattr__(self, "_split_dropped", dropped)
        object.__setattr__(self, "_split_table",
                           _ASCII_BREAKS_TO_MARKS if bounded else _ASCII_NON_WORD_TO_SPACE)

    def tokens(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        dropped: frozenset[str] | None = self._split_dropped  # type: ignore[attr-defined]
        table: dict[int, str] = self._split_table  # type: ignore[attr-defined]
        if dropped is not None and (words := _ascii_words(text, table)) is not None:
            return list(filterfalse(dropped.__contains__, words))
        tokens = _shared(text, self._regex.findall)  # type: ignore[attr-defined]
        if not self.stop_words:
            return tokens
        return list(filterfalse(self.stop_words.__contains__, tokens))

    def tokens_of_spans(self, text: str, spans: list[tuple[int, int]]) -> list[list[str]]:
        """`tokens(text[a:b])` for each span, faster: the text is lowercased, its non-ASCII
        characters replaced and its non-word characters blanked once, all one for one (so
        the spans still apply), and the spans are then split at once, a marker token before
        each. A span holding a non-ASCII word character (é, ß) goes through tokens()."""
        bounded = self.bounded
        # Bounded, a span takes the gap after it too, so that the breaks in the gaps (line
        # ends) are among its tokens, as they are in tokens(text).
        ends = [*(start for start, _ in spans[1:]), len(text)] if bounded else \
            [end for _, end in spans]
        dropped: frozenset[str] | None = self._split_dropped  # type: ignore[attr-defined]
        lowered = text.lower() if self.lowercase else text
        if dropped is None or len(lowered) != len(text):
            return [self.tokens(text[a:b]) for (a, _), b in zip(spans, ends)]
        unsafe = list(_non_ascii_words(lowered))
        words = lowered.encode("ascii", "replace").decode("ascii")
        words = words.translate(self._split_table)  # type: ignore[attr-defined]
        contains = dropped.__contains__
        if not unsafe and spans:
            marked = f" {_SPAN_MARK} ".join([words[a:b] for (a, _), b in zip(spans, ends)])
            return _cut_at_marks(list(filterfalse(contains, _split(marked, bounded))), len(spans))
        tokens = []
        for (a, _), b in zip(spans, ends):
            if unsafe and (i := bisect_left(unsafe, a)) < len(unsafe) and unsafe[i] < b:
                tokens.append(self.tokens(text[a:b]))
            else:
                tokens.append(list(filterfalse(contains, _split(words[a:b], bounded))))
        return tokens

    def terms(self, text: str) -> list[str]:
        """The n-grams scikit-learn's analyzer yields, in the same order (none holding a break)."""
        grams = ngrams(self.tokens(text), self.ngram_range)
        if not self.bounded:
            return grams
        return [g for g in grams if _BREAK_CHARACTERS.isdisjoint(g)]

    def token_spans(self, text: str) -> list[tuple[str, int, int]]:
        """Kept tokens with their character spans in the original (not lowercased) text."""
        lowered = text.lower() if self.lowercase else text
        offsets = _offset_map(text) if len(lowered) != len(text) else None
        stop = self.stop_words
        spans = []
        for match in self._regex.finditer(lowered):  # type: ignore[attr-defined]
            token = match.group()
            if token in stop:
                continue
            start, end = match.span()
            if offsets is not None:
                start, end = offsets[start], offsets[end]
            spans.append((token, start, end))
        return spans

    def term_spans(self, text: str) -> Iterator[tuple[str, int, int]]:
        """Every n-gram occurrence with the span from its first to its last token."""
        spans = self.token_spans(text)
        low, high = self.ngram_range
        for n in range(low, high + 1):
            for i in range(len(spans) - n + 1):
                window = spans[i : i + n]
                if not any(is_break(t) for t, _, _ in window):
                    yield " ".join(t for t, _, _ in window), window[0][1], window[-1][2]


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Between spans split at once: a token of its own, as no translated text holds it (every
# ASCII non-word character becomes a space or a mark).
_SPAN_MARK = "\x02"


def _cut_at_marks(tokens: list[str], spans: int) -> list[list[str]]:
    """The tokens of each of `spans` spans split at once, marks between them."""
    lines, start = [], 0
    for _ in range(spans - 1):
        mark = tokens.index(_SPAN_MARK, start)
        lines.append(tokens[start:mark])
        start = mark + 1
    lines.append(tokens[start:])
    return lines


def _non_ascii_words(text: str) -> Iterator[int]:
    """Where text has a word character that is not ASCII (é, ß). A scan for non-ASCII
    characters is four times faster than one for non-ASCII word characters (whose word
    test runs at every character); the few it finds are tested as the regex engine's \\w
    reads them (for non-ASCII characters, exactly str.isalnum)."""
    if text.isascii():
        return
    for found in _NON_ASCII.finditer(text):
        if found.group().isalnum():
            yield found.start()
_ASCII_WORD_CHARACTERS = frozenset(c for c in map(chr, range(128)) if re.match(r"\w", c))
_ASCII_NON_WORD_TO_SPACE = {ord(c): " " for c in map(chr, range(128)) if not re.match(r"\w", c)}
# For bounded n-grams: sentence punctuation becomes \x1d, a line break \x1e, other non-word
# characters \x1c, and only space and tab a space. str.split() takes all three for spaces;
# _split first makes a break of each line break and each \x1d before a space or a line break.
_ASCII_BREAKS_TO_MARKS = (
    {c: " " if chr(c) in " \t" else "\x1c" for c in _ASCII_NON_WORD_TO_SPACE}
    | {ord(c): "\x1d" for c in ".!;:"} | {ord(c): "\x1e" for c in "\n\r\x0b\x0c"}
)
_MARKED_SENTENCE_END = re.compile("\x1d[ \x1e]")
BREAK_TOKEN = "\x03"  # what a break is in the fast path (in the regex path, its character)
_BREAK_CHARACTERS = frozenset(".!;:\n\r\x0b\x0c" + BREAK_TOKEN)  # every character a break can be


def is_break(token: str) -> bool:
    """Whether a token is a break (real tokens have two characters or more)."""
    return len(token) == 1


def _split(words: str, bounded: bool) -> list[str]:
    """Split text translated by _ASCII_NON_WORD_TO_SPACE or _ASCII_BREAKS_TO_MARKS: each line
    break, and each . ! ; : before a space, tab or line break, is a BREAK_TOKEN; other
    punctuation (node.js, 3.5) splits words like a space."""
    if bounded:  # (a regex for the two-character marks: str.replace is slower at those)
        words = _MARKED_SENTENCE_END.sub(" \x03 ", words).replace("\x1e", " \x03 ")
    return _shared(words, str.split)


# Texts longer than this are split a slice at a time (_shared), cut after whitespace.
_SLICE_CHARS = 1 << 18
_WHITESPACE = re.compile("[ \t\n\r\x0b\x0c]")


def _shared(text: str, split: Callable[[str], list[str]]) -> list[str]:
    """`split(text)` (str.split, or a token regex's findall), a slice at a time, with the
    words of a slice that repeats itself made the same string objects: a huge text of few
    distinct words (a line repeated a million times) then costs a pointer per word, not a
    string (5 million tokens took 280 MB). Slices end just after ASCII whitespace, which no
    token holds and after which no break depends on what follows."""
    if len(text) <= _SLICE_CHARS:
        return split(text)
    shared: dict[str, str] = {}
    words: list[str] = []
    start, end = 0, len(text)
    while start < end:
        space = _WHITESPACE.search(text, start + _SLICE_CHARS)
        cut = end if space is None else space.end()
        part = split(text[start:cut])
        if len(set(part)) * 4 < len(part):  # repetitive: one string per distinct word
            words.extend(map(shared.setdefault, part, part))
        else:
            words.extend(part)
        start = cut
    return words


def _ascii_words(text: str, table: dict[int, str]) -> list[str] | None:
    """The maximal runs of word characters in text, found without the regex engine's token
    search (three times faster), or None when text has a non-ASCII word character.

    ASCII non-word characters become spaces (str.translate has a fast path for ASCII), and
    so do non-ASCII non-word characters (curly quotes, bullets, dashes): encoding to ASCII
    makes each a "?", a non-word character; str.split() then leaves the runs of word
    characters.
    """
    if not text.isascii():
        if next(_non_ascii_words(text), None) is not None:
            return None
        text = text.encode("ascii", "replace").decode("ascii")
    return _split(text.translate(table), table is _ASCII_BREAKS_TO_MARKS)


def ngrams(tokens: list[str], ngram_range: tuple[int, int]) -> list[str]:
    # Mirrors sklearn.feature_extraction.text._VectorizerMixin._word_ngrams.
    min_n, max_n = ngram_range
    if max_n == 1:
        return tokens
    original = tokens
    if min_n == 1:
        tokens = list(original)
        min_n += 1
    else:
        tokens = []
    count = len(original)
    for n in range(min_n, min(max_n + 1, count + 1)):
        for i in range(count - n + 1):
            tokens.append(" ".join(original[i : i + n]))
    return tokens


def _offset_map(text: str) -> list[int]:
    """Map each index of text.lower() back to an index of text (lowercasing can grow a char)."""
    offsets: list[int] = []
    for i, char in enumerate(text):
        offsets.extend([i] * len(char.lower()))
    offsets.append(len(text))
    return offsets
