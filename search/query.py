"""What a reader types -> one Whoosh query, never an error.

The syntax: plain words; "quoted phrases"; ``-word`` or ``-"phrase"`` to
exclude; ``OR`` between two terms; ``title:``, ``author:``, ``region:`` and
``theme:`` prefixes. Anything else (stray quotes, brackets, a lone ``-``,
operator characters) is read as plain words, so no input is malformed.
A query that reads as a sentence or a question (``What similarity laws must
be obeyed ...?``) is prose: in it a leading ``-`` is a dash and ``OR`` a word.
Articles containing all the plain words of a short search rank first, then
those with most; a long query is ranked by BM25F alone (see search.ranking).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.analysis import Analyzer
from whoosh.lang.stopwords import stoplists

from search.ranking import (
    COORDINATION_BONUS,
    PROXIMITY_BOOST,
    PROXIMITY_PAIRS,
    PROXIMITY_SLOP,
    STRICT_COORDINATION_WORDS,
    TITLE_BOOST,
)

MAX_CLAUSES = 64

_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))'
)
FIELD_PREFIXES = {
    "title": "title",
    "author": "author",
    "region": "regions",
    "theme": "themes",
    "report": "reports",
}
TEXT_FIELDS = {"title": TITLE_BOOST, "body": 1.0, "author_text": 1.0}

# Plain words dropped from a query when it has others: the Snowball English stop
# list ("what", "does", "been", "any", ...), larger than the index's, so a typed
# question is searched by its topic words. Still indexed: "the who" finds "who".
QUERY_STOP_WORDS = stoplists["en"]
QUESTION_WORDS = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how"})
_SENTENCE_END = re.compile(r"""[.?!]["'\u201d\u2019)\]]*$""")

# Resolves a region/theme typed by a reader to the exact stored values.
ValueResolver = Callable[[str, str], list[str]]


@dataclass
class ParsedQuery:
    """The Whoosh query and what the rest of the search needs to know about it."""

    query: wq.Query
    words: list[str] = field(default_factory=list)  # the plain words as typed
    terms: set[str] = field(default_factory=set)  # analysed terms to highlight
    is_browse: bool = False  # no positive search terms: every article matches
    dropped: bool = False  # plain words were left out as stop words
    feedback: bool = False  # a long query: re-ranked by search.feedback


@dataclass
class _Clause:
    query: wq.Query
    negative: bool = False
    scored_word: bool = False  # counts towards "all words first"
    terms: tuple[str, ...] = ()  # a plain word's terms, for proximity with its neighbours


def reads_as_prose(text: str) -> bool:
    """Whether ``text`` reads as a sentence or a question rather than as search syntax.

    It does when it ends in ".", "?" or "!" (not an abbreviation like "U.S."),
    or opens with a question word and goes on for at least three words.
    """
    words = text.split()
    if not words:
        return False
    last = words[-1]
    if _SENTENCE_END.search(last) and (last[-1] != "." or last.count(".") == 1):
        return True
    return len(words) >= 3 and words[0].strip("\"'(").lower() in QUESTION_WORDS


def _analyse(analyzer: Analyzer, text: str) -> list[str]:
    return [token.text for token in analyzer(text)]


class QueryBuilder:
    """Turns query text into a ParsedQuery for one index's analyzer and values."""

    def __init__(self, analyzer: Analyzer, resolve_values: ValueResolver):
        self.analyzer = analyzer
        self.resolve_values = resolve_values

    def parse(self, text: str) -> ParsedQuery:
        parsed = self._parse(text, drop_stop_words=True)
        if parsed.is_browse and parsed.dropped:
            parsed = self._parse(text, drop_stop_words=False)  # nothing but stop words
        return parsed

    def _parse(self, text: str, drop_stop_words: bool) -> ParsedQuery:
        parsed = ParsedQuery(wq.Every())
        clauses: list[_Clause] = []
        pending_or = False
        chain: _Clause | None = None  # the clause an "a OR b OR c" chain is building
        used = 0  # clauses, each alternative of an OR chain counted
        prose = reads_as_prose(text)
        text = text if text.count('"') % 2 == 0 else text[::-1].replace('"', " ", 1)[::-1]
        for match in _TOKEN.finditer(text):
            if match["word"] == "OR" and not match["neg"] and not match["field"] and not prose:
                pending_or = bool(clauses) and not clauses[-1].negative
                continue
            if drop_stop_words and self._is_stop_word(match):
                parsed.dropped = True
                continue
            clause = self._clause(match, parsed, prose)
            if clause is None:
                continue
            if pending_or and not clause.negative:
                previous = clauses.pop()
                # One flat Or for the whole chain: nested two by two it was as deep as
                # the chain was long, and a 10,000-character one overflowed the stack.
                alternatives = previous.query.subqueries if previous is chain else [previous.query]
                clause = chain = _Clause(wq.Or([*alternatives, clause.query]), scored_word=True)
            pending_or = False
            clauses.append(clause)
            used += 1
            if used >= MAX_CLAUSES:
                break
        parsed.query, parsed.is_browse = self._combine(clauses)
        parsed.feedback = sum(c.scored_word for c in clauses) > STRICT_COORDINATION_WORDS
        return parsed

    @staticmethod
    def _is_stop_word(match: re.Match) -> bool:
        """A plain word (not quoted, no prefix) made only of query stop words ("can't")."""
        if match["word"] is None or match["field"]:
            return False
        words = re.findall(r"\w+", match["word"].lower())
        return bool(words) and all(word in QUERY_STOP_WORDS for word in words)

    def _clause(self, match: re.Match, parsed: ParsedQuery, prose: bool) -> _Clause | None:
        negative = bool(match["neg"]) and not prose
        prefix = (match["field"] or "").lower()
        value = match["phrase"] if match["phrase"] is not None else match["word"]
        target = FIELD_PREFIXES.get(prefix)
        if match["field"] and target is None:
            value = f"{match['field']}:{value}"  # not a field we know: plain text
        if target in ("regions", "themes", "reports"):
            values = self.resolve_values(target, value)
            query = wq.Or([wq.Term(target, v) for v in values]) if values else wq.NullQuery
            return _Clause(query, negative)
        terms = _analyse(self.analyzer, value)
        if not terms:
            return None
        fields = {"title": {"title": 1.0}, "author": {"author_text": 1.0}}.get(target, TEXT_FIELDS)
        query = self._text_query(terms, fields, phrase=match["phrase"] is not None)
        if not negative:
            parsed.terms.update(terms)
            if target is None:
                parsed.words.append(value)
        plain = target is None and not negative
        nearby = tuple(terms) if plain and match["phrase"] is None else ()
        return _Clause(query, negative, scored_word=plain, terms=nearby)

    @staticmethod
    def _text_query(terms: list[str], fields: dict[str, float], phrase: bool) -> wq.Query:
        def in_field(name: str, boost: float) -> wq.Query:
            if len(terms) == 1:
                return wq.Term(name, terms[0], boost=boost)
            if phrase:
                return wq.Phrase(name, terms, boost=boost)
            return wq.And([wq.Term(name, t) for t in terms], boost=boost)

        if len(terms) > 1 and not phrase:
            # One typed word that analyses to several terms ("U.S.-Japan"):
            # each term may match in any field.
            return wq.And([QueryBuilder._text_query([t], fields, False) for t in terms])
        alternatives = [in_field(name, boost) for name, boost in fields.items()]
        return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)

    @staticmethod
    def _combine(clauses: list[_Clause]) -> tuple[wq.Query, bool]:
        words = [c.query for c in clauses if c.scored_word]
        required = [c.query for c in clauses if not c.negative and not c.scored_word]
        excluded = [c.query for c in clauses if c.negative]
        if 1 < len(words) <= STRICT_COORDINATION_WORDS:
            words = [wq.Or([wq.ConstantScoreQuery(w, COORDINATION_BONUS), w]) for w in words]
        words += QueryBuilder._proximity(clauses)
        parts = ([wq.Or(words)] if words else []) + required
        positive = parts[0] if len(parts) == 1 else wq.And(parts) if parts else wq.Every()
        if excluded:
            positive = wq.AndNot(positive, wq.Or(excluded))
        return positive, not parts

    @staticmethod
    def _proximity(clauses: list[_Clause]) -> list[wq.Query]:
        """A bonus for each two plain words typed next to each other found near each other.

        Only adds to the score of articles the words match already, so it orders
        results without changing which are found.
        """
        if not PROXIMITY_BOOST:
            return []
        pairs: list[tuple[str, str]] = []
        previous: str | None = None
        for clause in clauses:
            for term in clause.terms:
                if previous is not None and (previous, term) not in pairs:
                    pairs.append((previous, term))
                previous = term
            if not clause.terms:
                previous = None
        return [
            wq.Or(
                [
                    wq.Phrase(name, list(pair), slop=PROXIMITY_SLOP, boost=boost * PROXIMITY_BOOST)
                    for name, boost in TEXT_FIELDS.items()
                ]
            )
            for pair in pairs[:PROXIMITY_PAIRS]
        ]
