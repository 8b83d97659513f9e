"""Snippets and marked titles: escaped text with the matched words in <mark>.

Matching uses the index's own analyzer, so stems match ("sanction" marks
"sanctions") and accents fold; the article's text is always escaped, the
only markup in the output is ours.
"""

from __future__ import annotations

import threading
from collections import Counter
from html import escape

from cachetools import LRUCache, cached
from whoosh.analysis import Analyzer

SNIPPET_CHARS = 240
CONTEXT_BEFORE = 60
MAX_ANALYSED_CHARS = 60_000
# The analysed words of article texts kept, bounded in bytes: texts run from a
# line to MAX_ANALYSED_CHARS. A span is a 3-tuple (64 bytes), two ints (28 each)
# and its slot; the term's string is the stem cache's.
REMEMBERED_SPAN_BYTES = 32 * 1024 * 1024
SPAN_BYTES = 128


def _spans_bytes(spans: tuple) -> int:
    return 64 + SPAN_BYTES * len(spans)


@cached(LRUCache(REMEMBERED_SPAN_BYTES, getsizeof=_spans_bytes), lock=threading.Lock())
def _all_spans(text: str, analyzer: Analyzer) -> tuple[tuple[int, int, str], ...]:
    """(start, end, term) of every indexed word of ``text``, by a FastAnalyzer.

    Remembered: as a reader types, the same articles come back keystroke after
    keystroke, each time with other words to mark.
    """
    return tuple(analyzer.spans(text))


def _matches(text: str, terms: set[str], analyzer: Analyzer) -> list[tuple[int, int, str]]:
    """(start, end, term) of every word in ``text`` whose analysed form is in ``terms``."""
    if not terms:
        return []
    text = text[:MAX_ANALYSED_CHARS]
    if hasattr(analyzer, "spans"):  # FastAnalyzer: the same tokens, as a list
        return [span for span in _all_spans(text, analyzer) if span[2] in terms]
    return [
        (token.startchar, token.endchar, token.text)
        for token in analyzer(text, chars=True, mode="index")
        if token.text in terms
    ]


def _marked(text: str, spans: list[tuple[int, int, str]], start: int, end: int) -> str:
    pieces, position = [], start
    for span_start, span_end, _ in spans:
        if span_start < start or span_end > end:
            continue
        pieces.append(escape(text[position:span_start]))
        pieces.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        position = span_end
    pieces.append(escape(text[position:end]))
    return "".join(pieces)


def mark_all(text: str, terms: set[str], analyzer: Analyzer) -> str:
    """The whole text, escaped, with every match marked (for titles)."""
    return _marked(text, _matches(text, terms, analyzer), 0, len(text))


def _best_window(spans: list[tuple[int, int, str]], width: int) -> int:
    """Start of the window holding the most distinct terms, then the most matches."""
    best_start, best_key = 0, (-1, -1)
    inside: Counter[str] = Counter()
    end = 0
    for first, (start, _, term) in enumerate(spans):
        while end < len(spans) and spans[end][1] <= start + width:
            inside[spans[end][2]] += 1
            end += 1
        key = (len(inside), end - first)
        if key > best_key:
            best_start, best_key = start, key
        inside[term] -= 1
        if inside[term] <= 0:
            del inside[term]
    return best_start


def _word_boundary(text: str, position: int, forward: bool) -> int:
    """Move ``position`` to the nearest space so a snippet never cuts a word."""
    if position <= 0 or position >= len(text):
        return max(0, min(position, len(text)))
    if forward:
        found = text.find(" ", position)
        return len(text) if found == -1 or found - position > 20 else found
    found = text.rfind(" ", 0, position)
    return 0 if found == -1 or position - found > 20 else found + 1


def snippet(text: str, terms: set[str], analyzer: Analyzer, width: int = SNIPPET_CHARS) -> str:
    """The best passage of ``text`` (about ``width`` characters), escaped and marked."""
    text = " ".join(text.split())
    spans = _matches(text, terms, analyzer)
    start = max(0, _best_window(spans, width) - CONTEXT_BEFORE) if spans else 0
    start = _word_boundary(text, start, forward=False)
    end = _word_boundary(text, start + width, forward=True)
    body = _marked(text, spans, start, end)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
