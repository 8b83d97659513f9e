"""What a reader types -> one Whoosh query, never an error.

The syntax: plain words; "quoted phrases"; ``-word`` or ``-"phrase"`` to
exclude; ``OR`` between two terms; ``title:`` and ``author:`` prefixes (words
in a title, in the authors' names) and one per facet whose values are index
terms (``region:"Europe"``, ``report:``, ``source:``: a whole value). What the
pages and completions put in the box is written by the functions below the
syntax (phrase_query, field_query, completed_query). Anything else (stray
quotes, brackets, a lone ``-``, operator characters) is read as plain words,
so no input is malformed.
A query that reads as a sentence or a question (``What similarity laws must
be obeyed ...?``) is prose: in it a leading ``-`` is a dash and ``OR`` a word.
Articles containing all the plain words of a short search rank first, then
those with most; a long query is ranked by BM25F alone (see search.ranking).

The word being typed (the last plain word, with no space after it) also
matches the index words it begins, and a misspelt word the words near it
(search.expansion). Each such stand-in adds its score scaled by its share of
the stand-ins' frequency, and a lower coordination bonus than the word as
typed: an article holding the word as typed ranks above one holding only a
completion, which ranks above one holding only a correction.

The desk's synonyms (search.synonyms), when given, add what a typed word or
run of words also finds: counted as the word itself for "all words first",
scored SYNONYM_WEIGHT of it. The completions and corrections of a word bring
their own synonyms, at their weight, and so do the synonym words a word being
typed begins or a misspelt word is near, even when the index holds neither.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.analysis import Analyzer
from whoosh.lang.stopwords import stoplists

from search.expansion import MIN_PREFIX, Expansion, WordExpander
from search.facets import KNOWN_FACETS
from search.ranking import (
    COMPLETION_TIER,
    COMPLETION_WEIGHT,
    COORDINATION_BONUS,
    CORRECTION_TIER,
    CORRECTION_WEIGHT,
    NO_WORD_COMPLETION_WEIGHT,
    PROXIMITY_BOOST,
    PROXIMITY_PAIRS,
    PROXIMITY_SLOP,
    STRICT_COORDINATION_WORDS,
    SYNONYM_WEIGHT,
    TITLE_BOOST,
)
from search.results import AppliedSynonym
from search.synonyms import SourceWord, SynonymTable, SynonymTarget
from search.vocabulary import allowed_typos

MAX_CLAUSES = 64
# Synonym phrases a word's completions or corrections bring at most, from the commonest
# stand-in down: each is matched at every keystroke (bench/desk_cost.py).
STAND_IN_SYNONYMS = 3
# Typed values whose analysis a builder keeps: a keystroke analyses each word up to
# five times (sources, clause, completions, synonyms) and the next keystroke the same.
ANALYSES_KEPT = 8192

_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))'
)
# "author:" searches the authors' names as text (any of their words); the other
# facets' prefixes ("region:", "source:") match a whole value of their keyword
# field. The year facet has none: the date is not in the index's terms.
TEXT_PREFIXES = {"title": "title", "author": "author"}
VALUE_PREFIXES = {
    name: f.terms_field
    for name, f in KNOWN_FACETS.items()
    if f.terms_field and name not in TEXT_PREFIXES
}
FIELD_PREFIXES = {**VALUE_PREFIXES, **TEXT_PREFIXES}
TEXT_FIELDS = {"title": TITLE_BOOST, "body": 1.0, "author_text": 1.0}

# Plain words dropped from a query when it has others: the Snowball English stop
# list ("what", "does", "been", "any", ...), larger than the index's, so a typed
# question is searched by its topic words. Still indexed: "the who" finds "who".
QUERY_STOP_WORDS = stoplists["en"]
QUESTION_WORDS = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how"})
_SENTENCE_END = re.compile(r"""[.?!]["'\u201d\u2019)\]]*$""")
_ENDS_IN_WORD = re.compile(r"\w$")


def _paired_quotes(text: str) -> str:
    """``text`` with its last quote made a space if it has one without a pair."""
    return text if text.count('"') % 2 == 0 else text[::-1].replace('"', " ", 1)[::-1]


# Writing queries: what the pages and the completions put in the search box, in the syntax
# the parser below reads (tests/test_query_writer.py checks that each reads back as written).


def phrase_query(text: str) -> str:
    """The query searching ``text`` as a phrase: in quotes, its own quotes made spaces (the
    syntax has no escape; a value lookup folds quotes to spaces the same way)."""
    return '"{}"'.format(text.replace('"', " "))


def field_query(prefix: str, value: str) -> str:
    """The query searching one ``value`` of the field a prefix names: ``author:"Ahmed Adel"``."""
    return f"{prefix}:{phrase_query(value)}"


def completed_query(typed: str, chosen: str) -> str:
    """``typed`` with the word being typed (its last) replaced by the query ``chosen``, the
    words before kept; an unpaired quote among them is made a space, as the parser would."""
    return _paired_quotes(re.sub(r"\S*$", "", typed.rstrip())) + chosen


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
    completions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # typed -> index words
    corrections: dict[str, tuple[str, ...]] = field(default_factory=dict)  # typed -> index words
    corrected_only: bool = False  # no corrected word is in the index as typed
    synonyms: list[AppliedSynonym] = field(default_factory=list)  # the desk's, that fired
    # The terms of the words searched for in the articles' text, in order: plain and
    # quoted words, title: words, stop words among them (what the desk's rules compare
    # their triggers with); not a negated word, nor author: or a facet prefix's value.
    text_terms: list[str] = field(default_factory=list)
    # How many characters of the text were searched: all of it, unless the word and
    # clause limit (MAX_CLAUSES) was reached with more words still to come.
    searched_characters: int = 0
    truncated: bool = False


@dataclass(frozen=True)
class _Options:
    prefix: bool = True  # the word being typed (or, for a clause: this word) completes
    typos: bool = True
    synonyms: SynonymTable | None = None
    context: tuple[str, ...] = ()  # for a clause: the terms of the plain words before it


@dataclass(frozen=True)
class _SourceFound:
    """Typed words that are a synonym's source: what they read as, this word's share."""

    text: str
    targets: tuple[SynonymTarget, ...]
    share: float


@dataclass
class _Clause:
    query: wq.Query
    negative: bool = False
    scored_word: bool = False  # counts towards "all words first"
    terms: tuple[str, ...] = ()  # a plain word's terms, for proximity with its neighbours
    exact: wq.Query | None = None  # the word as typed, when it has stand-ins
    stand_ins: wq.Query | None = None  # its completions or corrections, weighted
    tier: float = 1.0  # the share of the coordination bonus an article with stand-ins only gets


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


def _scaled(fields: dict[str, float], weight: float) -> dict[str, float]:
    return {name: boost * weight for name, boost in fields.items()}


def _stand_in_weight(expansion: Expansion) -> float:
    """The share of a word's score its likeliest stand-in scores (search.ranking): a
    completion of letters that are no word of the index stands in for the finished word."""
    if not expansion.completions:
        return CORRECTION_WEIGHT
    return COMPLETION_WEIGHT if expansion.known else NO_WORD_COMPLETION_WEIGHT


class QueryBuilder:
    """Turns query text into a ParsedQuery for one index's analyzer and values."""

    def __init__(
        self,
        analyzer: Analyzer,
        resolve_values: ValueResolver,
        expander: WordExpander | None = None,
    ):
        self.analyzer = analyzer
        self.resolve_values = resolve_values
        self.expander = expander
        self._analysed: dict[tuple[str, bool], tuple[str, ...]] = {}
        # Synonym targets -> those the index holds (see _held_targets).
        self._held: dict[tuple[SynonymTarget, ...], tuple[SynonymTarget, ...]] = {}

    def _terms(self, value: str) -> tuple[str, ...]:
        """``value``'s terms as the index analyses text (stems, stop words out)."""
        return self._analysis(value, folded=False)

    def _folded(self, value: str) -> tuple[str, ...]:
        """``value``'s words folded (case, accents), stop words kept, no stems."""
        return self._analysis(value, folded=True)

    def _analysis(self, value: str, folded: bool) -> tuple[str, ...]:
        key = (value, folded)
        found = self._analysed.get(key)
        if found is None:
            if folded:
                tokens = self.analyzer(value, no_morph=True, removestops=False)
            else:
                tokens = self.analyzer(value)
            found = tuple(token.text for token in tokens)
            if len(self._analysed) >= ANALYSES_KEPT:
                self._analysed.clear()
            self._analysed[key] = found
        return found

    def parse(
        self,
        text: str,
        prefix: bool = True,
        typos: bool = True,
        synonyms: SynonymTable | None = None,
    ) -> ParsedQuery:
        """``text`` as a query; ``prefix``: the word being typed completes, ``typos``: corrected,
        ``synonyms``: the desk's synonyms apply."""
        typing = prefix and bool(_ENDS_IN_WORD.search(text))
        options = _Options(prefix=typing, typos=typos, synonyms=synonyms or None)
        parsed = self._parse(text, drop_stop_words=True, options=options)
        if parsed.is_browse and parsed.dropped:
            # Nothing but stop words: searched as whole words ("the who").
            whole_words = _Options(prefix=False, typos=typos, synonyms=synonyms or None)
            parsed = self._parse(text, drop_stop_words=False, options=whole_words)
        return parsed

    def _parse(self, text: str, drop_stop_words: bool, options: _Options) -> ParsedQuery:
        parsed = ParsedQuery(wq.Every(), searched_characters=len(text))
        clauses: list[_Clause] = []
        pending_or = False
        chain: _Clause | None = None  # the clause an "a OR b OR c" chain is building
        used = 0  # clauses, each alternative of an OR chain counted
        prose = reads_as_prose(text)
        text = _paired_quotes(text)
        matches = list(_TOKEN.finditer(text))
        # A stop word being typed may be the start of a word ("crude out": output), when
        # the query has other words; alone ("the") it is a stop word.
        others = any(not self._is_stop_word(m) for m in matches[:-1])
        sources = self._sources(text, matches, prose, options.synonyms)
        context: list[str] = []  # the word being typed is read with the plain words before it
        for number, match in enumerate(matches):
            if match["word"] == "OR" and not match["neg"] and not match["field"] and not prose:
                pending_or = bool(clauses) and not clauses[-1].negative
                continue
            searched = self._searched_text(match, prose)
            if searched is not None:
                parsed.text_terms += self._terms(searched)
            typing = options.prefix and match.end() == len(text)
            if drop_stop_words and self._is_stop_word(match) and not (typing and others):
                parsed.dropped = True
                continue
            clause_options = _Options(typing, options.typos, options.synonyms, tuple(context))
            clause = self._clause(match, parsed, prose, clause_options, sources.get(number, ()))
            if clause is None:
                continue
            if not clause.negative:
                context += clause.terms
            if pending_or and not clause.negative:
                previous = clauses.pop()
                # One flat Or for the whole chain: nested two by two, a long chain
                # ("a OR b OR c ...") would be as deep as it is long and overflow the stack.
                alternatives = previous.query.subqueries if previous is chain else [previous.query]
                clause = chain = _Clause(wq.Or([*alternatives, clause.query]), scored_word=True)
            pending_or = False
            clauses.append(clause)
            used += 1
            if used >= MAX_CLAUSES:
                # A pasted page: its first part is searched, and the answer says so.
                parsed.truncated = self._words_after(text, match.end())
                if parsed.truncated:
                    parsed.searched_characters = match.end()
                break
        parsed.query, parsed.is_browse = self._combine(clauses)
        parsed.corrected_only = bool(parsed.corrections) and not any(
            self.expander.frequency(term)
            for word in parsed.corrections
            for term in self._terms(word)
        )
        parsed.feedback = sum(c.scored_word for c in clauses) > STRICT_COORDINATION_WORDS
        return parsed

    @classmethod
    def _words_after(cls, text: str, start: int) -> bool:
        """Whether ``text`` has a word to search after ``start`` (not only stop words)."""
        return any(
            re.search(r"\w", match[0]) and not cls._is_stop_word(match)
            for match in _TOKEN.finditer(text, start)
        )

    @staticmethod
    def _searched_text(match: re.Match, prose: bool) -> str | None:
        """What a match looks for in the articles' text; None for a negated match, a name
        (author:) or a facet's value (region:, theme:, ...)."""
        if match["neg"] and not prose:
            return None
        prefix = (match["field"] or "").lower()
        if prefix in VALUE_PREFIXES or prefix == "author":
            return None
        value = match["phrase"] if match["phrase"] is not None else match["word"]
        if match["field"] and prefix not in FIELD_PREFIXES:
            value = f"{match['field']}:{value}"  # not a field we know: plain text
        return value

    @staticmethod
    def _is_stop_word(match: re.Match) -> bool:
        """A plain word (not quoted, no prefix) made only of query stop words ("can't")."""
        if match["word"] is None or match["field"]:
            return False
        words = re.findall(r"\w+", match["word"].lower())
        return bool(words) and all(word in QUERY_STOP_WORDS for word in words)

    def _sources(
        self, text: str, matches: list[re.Match], prose: bool, table: SynonymTable | None
    ) -> dict[int, list[_SourceFound]]:
        """Per match number: the synonym sources among the typed words it is one of.

        Runs of plain words (and quoted phrases) are compared term by term with
        the sources, every length up to the longest source, so a source of three
        words fires when they are typed in a row, a stop word between them or not.
        """
        found: dict[int, list[_SourceFound]] = {}
        if table is None:
            return found
        runs: list[list[tuple[int, str]]] = [[]]  # (match number, term) of each run
        for number, match in enumerate(matches):
            plain = not match["field"] and not (match["neg"] and not prose)
            if not plain or (match["word"] == "OR" and not prose):
                runs.append([])
                continue
            value = match["phrase"] if match["phrase"] is not None else match["word"]
            runs[-1] += [(number, term) for term in self._terms(value)]
        for run in runs:
            terms = tuple(term for _, term in run)
            for start in range(len(run)):
                for end in range(start + 1, min(len(run), start + table.longest) + 1):
                    targets = table.targets(terms[start:end])
                    if not targets:
                        continue
                    owners = sorted({number for number, _ in run[start:end]})
                    typed = text[matches[owners[0]].start() : matches[owners[-1]].end()]
                    for number in owners:
                        source = _SourceFound(typed.strip('"'), targets, 1 / len(owners))
                        found.setdefault(number, []).append(source)
        return found

    def _clause(
        self,
        match: re.Match,
        parsed: ParsedQuery,
        prose: bool,
        options: _Options,
        sources: list[_SourceFound] | tuple = (),
    ) -> _Clause | None:
        negative = bool(match["neg"]) and not prose
        prefix = (match["field"] or "").lower()
        value = match["phrase"] if match["phrase"] is not None else match["word"]
        target = FIELD_PREFIXES.get(prefix)
        if match["field"] and target is None:
            value = f"{match['field']}:{value}"  # not a field we know: plain text
        if prefix in VALUE_PREFIXES:
            values = self.resolve_values(target, value)
            query = wq.Or([wq.Term(target, v) for v in values]) if values else wq.NullQuery
            return _Clause(query, negative)
        terms = list(self._terms(value))
        plain = target is None and not negative
        expansion = None
        if plain and match["phrase"] is None and len(terms) <= 1 and self.expander is not None:
            expansion = self._expansion(value, terms, options)
            if sources and expansion and not expansion.completions:
                expansion = None  # the desk says what the word means: no typo to correct
        if not terms and not (expansion and expansion.completions):
            return None  # a stop word, unless it is being typed and begins other words
        fields = {"title": {"title": 1.0}, "author": {"author_text": 1.0}}.get(target, TEXT_FIELDS)
        query = self._text_query(terms, fields, phrase=match["phrase"] is not None)
        if not negative:
            parsed.terms.update(terms)
            if target is None:
                parsed.words.append(value)
        nearby = tuple(terms) if plain and match["phrase"] is None else ()
        clause = _Clause(query, negative, scored_word=plain, terms=nearby)
        if expansion is not None and (expansion.completions or expansion.corrections):
            self._add_stand_ins(clause, value, expansion, fields, parsed)
        if options.synonyms is not None and plain:
            self._add_synonyms(clause, value, sources, expansion, fields, parsed, options)
        return clause

    def _add_synonyms(
        self,
        clause: _Clause,
        value: str,
        sources: list[_SourceFound] | tuple,
        expansion: Expansion | None,
        fields: dict[str, float],
        parsed: ParsedQuery,
        options: _Options,
    ) -> None:
        """Give a plain word what the desk's synonyms say it, or its stand-ins, also mean.

        The synonyms of the word as typed count as the word (``clause.exact``);
        those of its completions or corrections, and of the synonym words it
        begins or is near, join its stand-ins at the stand-in's weight.
        """
        # What the clause searches already: a synonym bringing it again would only cost.
        searched = {(term,) for term in self._terms(value)}
        own = []
        for source in sources:
            weight = SYNONYM_WEIGHT * source.share
            own += self._synonym_queries(
                source.text, source.targets, fields, weight, parsed, searched
            )
        extra = []
        if expansion is not None:
            searched |= {(a.term,) for a in expansion.completions or expansion.corrections}
            stand_ins = expansion.completions or expansion.corrections
            kind = _stand_in_weight(expansion)
            likeliest = max((a.frequency for a in stand_ins), default=1)
            # The commonest first: the synonyms of the stand-ins most likely meant.
            for alternative in sorted(stand_ins, key=lambda a: -a.frequency):
                if len(extra) >= STAND_IN_SYNONYMS:
                    break
                targets = options.synonyms.targets((alternative.term,))
                if not targets:
                    continue
                weight = SYNONYM_WEIGHT * kind * alternative.frequency / likeliest
                extra += self._synonym_queries(
                    alternative.word, targets, fields, weight, parsed, searched
                )
        typed_sources, tier = self._typed_sources(value, options, bool(own), expansion)
        kind = COMPLETION_WEIGHT if tier == COMPLETION_TIER else CORRECTION_WEIGHT
        for source in typed_sources:
            weight = SYNONYM_WEIGHT * kind
            extra += self._synonym_queries(
                source.word, source.targets, fields, weight, parsed, searched
            )
        if own:
            exact = clause.exact if clause.stand_ins is not None else clause.query
            own_query = own[0] if len(own) == 1 else wq.DisjunctionMax(own)
            clause.exact = own_query if exact is wq.NullQuery else wq.Or([exact, own_query])
            if clause.stand_ins is None:
                clause.query = clause.exact
        if extra:
            if clause.stand_ins is None:
                clause.exact, clause.tier = clause.query, tier
                clause.stand_ins = extra[0] if len(extra) == 1 else wq.DisjunctionMax(extra)
            else:
                clause.stand_ins = wq.DisjunctionMax([*clause.stand_ins.subqueries, *extra])
        if clause.stand_ins is not None and (own or extra):
            parts = [clause.exact, clause.stand_ins]
            clause.query = wq.Or([p for p in parts if p is not wq.NullQuery])

    def _typed_sources(
        self, value: str, options: _Options, has_own: bool, expansion: Expansion | None
    ) -> tuple[list[SourceWord], float]:
        """The desk's single-word sources that no article holds, that a word being typed
        begins (as completions) or a misspelt word the index lacks and has no corrections
        for is near (as corrections), and their tier."""
        folded = self._folded(value)
        if has_own or len(folded) != 1:
            return [], COMPLETION_TIER
        word, table = folded[0], options.synonyms
        if options.prefix and len(word) >= MIN_PREFIX:
            completions = table.completions(word, self._not_in_index)
            if completions:
                return completions, COMPLETION_TIER
        # A misspelt word the index has corrections for most likely means one of them
        # (their synonyms are in already): only one it has none for is looked up here.
        corrected = expansion is not None and (expansion.corrections or expansion.completions)
        if options.typos and allowed_typos(word) and not corrected and not self._in_index(value):
            return table.corrections(word, self._not_in_index), CORRECTION_TIER
        return [], COMPLETION_TIER

    def _in_index(self, value: str) -> bool:
        return any(not self._not_in_index(term) for term in self._terms(value))

    def _not_in_index(self, term: str) -> bool:
        """Whether no article holds ``term``: the index's own completions and corrections
        bring the synonyms of the words it holds."""
        return self.expander is None or not self.expander.frequency(term)

    def _synonym_queries(
        self,
        word: str,
        targets: tuple[SynonymTarget, ...],
        fields: dict[str, float],
        weight: float,
        parsed: ParsedQuery,
        searched: set[tuple[str, ...]],
    ) -> list[wq.Query]:
        """A query for each of ``targets`` the index holds (every word of it) and the
        clause does not search yet (``searched``, updated), weighted; all held recorded as
        applied to ``word``. A target no article holds would find nothing and only cost
        its evaluation."""
        held = self._held_targets(targets)
        self._applied(parsed, word, held)
        queries = []
        for target in held:
            if target.terms in searched:
                continue
            searched.add(target.terms)
            parsed.terms.update(target.terms)
            # A phrase scores the sum of its words: shared, it counts as one word would.
            queries.append(self._weighted_query(target.terms, fields, weight / len(target.terms)))
        return queries

    def _held_targets(self, targets: tuple[SynonymTarget, ...]) -> tuple[SynonymTarget, ...]:
        """Those of ``targets`` whose every word the index holds (all, with no index to ask),
        kept per builder (one index generation): the same sources come on every keystroke."""
        if self.expander is None:
            return targets
        held = self._held.get(targets)
        if held is None:
            held = tuple(t for t in targets if not any(map(self._not_in_index, t.terms)))
            if len(self._held) >= ANALYSES_KEPT:
                self._held.clear()
            self._held[targets] = held
        return held

    @classmethod
    def _weighted_query(
        cls, terms: tuple[str, ...], fields: dict[str, float], weight: float
    ) -> wq.Query:
        """``terms`` as a phrase in ``fields``, scored ``weight`` times. Fields boosted alike
        (the text's) are one Or of unboosted parts with the weight on it: the matcher keeps
        a word's matches in its fields as it keeps a term's (search.matching), so a synonym
        costs a look-up, not a union, at every keystroke."""
        boosts = set(fields.values())
        if len(fields) == 1 or len(boosts) != 1:
            return cls._text_query(list(terms), _scaled(fields, weight), phrase=True)
        query = cls._text_query(list(terms), dict.fromkeys(fields, 1.0), phrase=True)
        query.boost = boosts.pop() * weight
        return query

    @staticmethod
    def _applied(parsed: ParsedQuery, word: str, targets: tuple[SynonymTarget, ...]) -> None:
        by_synonym: dict[int, list[str]] = {}
        for target in targets:
            by_synonym.setdefault(target.synonym, []).append(target.text)
        for synonym, texts in by_synonym.items():
            applied = AppliedSynonym(synonym, word, tuple(texts))
            if applied not in parsed.synonyms:
                parsed.synonyms.append(applied)

    def _expansion(self, value: str, terms: list[str], options: _Options) -> Expansion | None:
        """The completions or corrections of a plain word, if it is one word."""
        folded = self._folded(value)
        if len(folded) != 1:
            return None
        term = terms[0] if terms else None
        return self.expander.expand(
            folded[0], term, typing=options.prefix, typos=options.typos, context=options.context
        )

    def _add_stand_ins(
        self,
        clause: _Clause,
        value: str,
        expansion: Expansion,
        fields: dict[str, float],
        parsed: ParsedQuery,
    ) -> None:
        """Give a plain word the index words that stand in for it, weighted by frequency.

        The likeliest stand-in scores as the word would (times its kind's weight),
        the others in proportion to their frequency, so the articles of the word
        the reader most likely means come first. A word being typed whose letters
        are no word of the index has no exact match of its own: its stem, if the
        index has it ("defici", from "deficiency"), is one of its completions.
        """
        stand_ins = expansion.completions or expansion.corrections
        weight = _stand_in_weight(expansion)
        if expansion.completions:
            clause.tier = COMPLETION_TIER
            parsed.completions[value] = tuple(a.word for a in stand_ins)
        else:
            clause.tier = CORRECTION_TIER
            parsed.corrections[value] = tuple(a.word for a in stand_ins)
        likelihoods = expansion.likelihoods or tuple(a.frequency for a in stand_ins)
        likeliest = max(likelihoods)
        alternatives = []
        for alternative, likelihood in zip(stand_ins, likelihoods, strict=True):
            scaled = _scaled(fields, weight * likelihood / likeliest)
            alternatives.append(self._text_query([alternative.term], scaled, phrase=False))
            parsed.terms.add(alternative.term)
        # An article's best stand-in counts, not their sum: one holding "canada" and
        # "canadian" is not twice as much about what "canad" will become.
        clause.stand_ins = wq.DisjunctionMax(alternatives)
        if expansion.known:
            clause.exact = clause.query
            clause.query = wq.Or([clause.exact, clause.stand_ins])
        else:
            clause.exact, clause.query = wq.NullQuery, clause.stand_ins
            if expansion.completions:
                clause.terms = (stand_ins[0].term,)  # near its neighbours, as it will be typed

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
        scored = [c for c in clauses if c.scored_word]
        required = [c.query for c in clauses if not c.negative and not c.scored_word]
        excluded = [c.query for c in clauses if c.negative]
        # A single word with stand-ins is coordinated too: the word as typed first.
        coordinated = 1 < len(scored) <= STRICT_COORDINATION_WORDS or (
            len(scored) == 1 and scored[0].stand_ins is not None
        )
        words = [QueryBuilder._coordinated(c) if coordinated else c.query for c in scored]
        words += QueryBuilder._proximity(clauses)
        parts = ([wq.Or(words)] if words else []) + required
        positive = parts[0] if len(parts) == 1 else wq.And(parts) if parts else wq.Every()
        if excluded:
            positive = wq.AndNot(positive, wq.Or(excluded))
        return positive, not parts

    @staticmethod
    def _coordinated(clause: _Clause) -> wq.Query:
        """The clause plus its coordination bonus: whole for the word, a tier for stand-ins."""
        if clause.stand_ins is None:
            return wq.Or([wq.ConstantScoreQuery(clause.query, COORDINATION_BONUS), clause.query])
        stand_ins_only = wq.AndNot(clause.stand_ins, clause.exact)
        return wq.Or(
            [
                wq.ConstantScoreQuery(clause.exact, COORDINATION_BONUS),
                wq.ConstantScoreQuery(stand_ins_only, COORDINATION_BONUS * clause.tier),
                clause.query,
            ]
        )

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
