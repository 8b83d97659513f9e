"""A Whoosh analyzer chain run by one loop: the same tokens, several times faster.

Whoosh runs ``RegexTokenizer | LowercaseFilter | CharsetFilter | StopFilter |
StemFilter`` as one Python generator per filter per token, and the indexer
runs it twice over every body (once for terms, once for spelling words).
``FastAnalyzer`` wraps such a chain and produces exactly its tokens with list
operations and a stem cache, plus two shortcuts: ``index_terms`` (terms with
positions and the spelling words, from one pass) and ``spans`` (stemmed terms
with character offsets, for highlighting). The chain itself stays the
definition: which tokenizer, folds, stop words and stemmer is chosen in
``search.schema.english_analyzer``; a chain with any other piece in it is
simply run as Whoosh runs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    CompositeAnalyzer,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)

# The stem cache is a plain dict emptied when full, not an LRU like the other caches
# (cachetools.LRUCache): the indexer looks every word of every article up in it, and
# an LRU's bookkeeping on each lookup made that loop about ten times slower.
STEM_CACHE_SIZE = 200_000
# Keyword arguments the fast path understands; any other sends a call to the chain.
_FAST_KWARGS = {"positions", "chars", "removestops", "start_pos", "start_char", "mode", "boosts"}
_FAST_KWARGS |= {"no_morph", "keeporiginal"}


def _without_groups(pattern: re.Pattern) -> re.Pattern:
    """The same pattern with capturing groups made non-capturing, so findall gives matches."""
    if not pattern.groups:
        return pattern
    source = re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern.pattern)
    compiled = re.compile(source, pattern.flags)
    return compiled if compiled.groups == 0 else pattern


def _ignores_ascii_case(pattern: re.Pattern) -> bool:
    """Whether ``pattern`` surely matches ASCII text the same whatever its case.

    True when the pattern names no letter: only classes like \\w, \\d, \\s and
    punctuation (a conservative test: ``[a-z]`` or ``(?P<name>...)`` say no).
    """
    source = pattern.pattern if isinstance(pattern.pattern, str) else ""
    escapes = re.findall(r"\\(.)", source)
    rest = re.sub(r"\\.", "", source)
    return not re.search("[A-Za-z]", rest) and all(
        e in "wWdDsSbB" or not e.isalnum() for e in escapes
    )


class _Plan:
    """The chain taken apart: tokenizer pattern, case/accent folds, stop filter, stemmer."""

    def __init__(self, chain: CompositeAnalyzer):
        items = list(chain.items)
        tokenizer = items.pop(0)
        if type(tokenizer) is not RegexTokenizer or tokenizer.gaps:
            raise ValueError("not a plain RegexTokenizer")
        self.expression = tokenizer.expression
        self.words = _without_groups(tokenizer.expression)
        if self.words.groups:
            expression = self.expression
            self.findall = lambda text: [m.group(0) for m in expression.finditer(text)]
        else:
            self.findall = self.words.findall
        self.folds: list[Callable[[str], str]] = []
        while items and type(items[0]) in (LowercaseFilter, CharsetFilter):
            item = items.pop(0)
            if type(item) is LowercaseFilter:
                self.folds.append(str.lower)
            else:
                self.folds.append(lambda text, charmap=item.charmap: text.translate(charmap))
        self.stop = items.pop(0) if items and type(items[0]) is StopFilter else None
        stem = items.pop(0) if items and type(items[0]) is StemFilter else None
        if items:
            raise ValueError(f"unsupported filters {items!r}")
        self.stem_ignore = stem.ignore if stem else frozenset()
        if stem is None:
            self.stemfn = None
        elif stem.lang:
            from whoosh.lang import stemmer_for_language

            self.stemfn = stemmer_for_language(stem.lang)
        else:
            self.stemfn = stem.stemfn
        # ASCII text may be folded whole before tokenizing when that cannot change
        # the tokens: a pattern blind to ASCII case, folds that act as lower() on ASCII.
        ascii_chars = "".join(map(chr, range(128)))
        self.ascii_fold_first = (
            _ignores_ascii_case(self.words) and self.fold(ascii_chars) == ascii_chars.lower()
        )

    def fold(self, text: str) -> str:
        for fold in self.folds:
            text = fold(text)
        return text

    def kept(self, words: list[str]) -> list[tuple[int, str]]:
        """(position, word) of the words the StopFilter keeps, one comprehension for all."""
        stop = self.stop
        if stop is None:
            return list(enumerate(words))
        if stop.max is None:
            stops, shortest = stop.stops, stop.min
            return [(i, w) for i, w in enumerate(words) if len(w) >= shortest and w not in stops]
        return [(i, w) for i, w in enumerate(words) if not self.is_stop(w)]

    def is_stop(self, text: str) -> bool:
        stop = self.stop
        return stop is not None and (
            len(text) < stop.min
            or (stop.max is not None and len(text) > stop.max)
            or text in stop.stops
        )


class FastAnalyzer(Analyzer):
    """Runs a Whoosh analyzer chain; the supported chains by a fast path (see the module)."""

    def __init__(self, chain: CompositeAnalyzer):
        self.chain = chain
        self._setup()

    def _setup(self) -> None:
        try:
            self._plan: _Plan | None = _Plan(self.chain)
        except (ValueError, AttributeError, IndexError):
            self._plan = None
        self._stems: dict[str, str] = {}

    def __getstate__(self) -> dict:
        return {"chain": self.chain}

    def __setstate__(self, state: dict) -> None:
        self.chain = state["chain"]
        self._setup()

    def __eq__(self, other) -> bool:
        return other.__class__ is self.__class__ and self.chain == other.chain

    def __hash__(self) -> int:
        return id(self.chain)

    def __repr__(self) -> str:
        return f"FastAnalyzer({self.chain!r})"

    @property
    def fast(self) -> bool:
        return self._plan is not None

    def has_morph(self) -> bool:
        return self.chain.has_morph()

    def clean(self) -> None:
        self.chain.clean()
        self._stems.clear()

    # --- the steps -------------------------------------------------------------------

    def _stem_all(self, words: list[str]) -> list[str]:
        plan, stems = self._plan, self._stems
        if plan.stemfn is None:
            return words
        missing = set(words).difference(stems)
        if missing:
            if len(stems) + len(missing) > STEM_CACHE_SIZE:
                stems.clear()
            ignore, stemfn = plan.stem_ignore, plan.stemfn
            for word in missing:
                stems[word] = word if word in ignore else stemfn(word)
        return [stems[word] for word in words]

    def _fold_all(self, raw: list[str]) -> list[str]:
        folds = self._plan.folds
        if not folds:
            return raw
        if len(folds) == 1:
            return list(map(folds[0], raw))
        return [self._plan.fold(word) for word in raw]

    def folded_words(self, text: str) -> list[str]:
        """The folded words of ``text``, in order, stop words included (fast chains only)."""
        plan = self._plan
        if plan.ascii_fold_first and text.isascii():
            return plan.findall(text.lower())
        return self._fold_all(plan.findall(text))

    def terms_of(self, words: list[str]) -> list[str | None]:
        """The term each folded word is indexed as; None for a stop word."""
        plan = self._plan
        kept = [word for word in words if not plan.is_stop(word)]
        term_of = dict(zip(kept, self._stem_all(kept), strict=True))
        return [term_of.get(word) for word in words]

    @property
    def renumbers_positions(self) -> bool:
        """Whether positions skip stop words (Whoosh's StopFilter ``renumber``)."""
        stop = self._plan.stop
        return stop is not None and stop.renumber

    # --- shortcuts for the indexer and the highlighter --------------------------------

    def index_terms(self, text: str) -> tuple[dict[str, list[int]], set[str]]:
        """({term: positions}, spelling words) as indexing ``text`` would make them.

        Positions follow the chain's StopFilter (renumbered after stop words
        when it renumbers); spelling words are the unstemmed kept words.
        """
        plan = self._plan
        kept = plan.kept(self.folded_words(text))
        if not kept:
            return {}, set()
        kept_words = [w for _, w in kept]
        if self.renumbers_positions:
            first = kept[0][0]
            numbers = range(first, first + len(kept))
        else:
            numbers = [i for i, _ in kept]
        positions: dict[str, list[int]] = {}
        for number, term in zip(numbers, self._stem_all(kept_words), strict=True):
            found = positions.get(term)
            if found is None:
                positions[term] = [number]
            else:
                found.append(number)
        return positions, set(kept_words)

    def spans(self, text: str, terms: set[str] | None = None) -> list[tuple[int, int, str]]:
        """(start, end, term) of every indexed term of ``text`` (or of those in ``terms``).

        For highlighting: with ``terms``, each distinct word is stemmed and
        stop-checked once, and only the words whose term is wanted are placed.
        """
        if self._plan is None:
            found = self.chain(text, chars=True, mode="index")
            return [
                (t.startchar, t.endchar, t.text) for t in found if terms is None or t.text in terms
            ]
        plan = self._plan
        if plan.ascii_fold_first and text.isascii():
            matches = list(plan.words.finditer(text.lower()))
            words = [m.group() for m in matches]
        else:
            matches = list(plan.words.finditer(text))
            words = self._fold_all([m.group() for m in matches])
        distinct = [w for w in set(words) if not plan.is_stop(w)]
        term_of = dict(zip(distinct, self._stem_all(distinct), strict=True))
        if terms is not None:
            term_of = {w: t for w, t in term_of.items() if t in terms}
        return [
            (m.start(), m.end(), term_of[w])
            for m, w in zip(matches, words, strict=True)
            if w in term_of
        ]

    # --- the Analyzer interface --------------------------------------------------------

    def __call__(self, value, no_morph: bool = False, **kwargs) -> Iterator[Token]:
        if self._plan is None or not isinstance(value, str) or not _FAST_KWARGS.issuperset(kwargs):
            return self.chain(value, no_morph=no_morph, **kwargs)
        return self._tokens(value, no_morph, **kwargs)

    def _tokens(
        self,
        value: str,
        no_morph: bool,
        positions: bool = False,
        chars: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        keeporiginal: bool = False,
        **kwargs,
    ) -> Iterator[Token]:
        plan = self._plan
        matches = list(plan.expression.finditer(value))
        raw = [m.group(0) for m in matches]
        words = self._fold_all(raw)
        stop = plan.stop
        stopped = [plan.is_stop(w) for w in words] if stop is not None else [False] * len(words)
        if plan.stemfn is not None and not no_morph:
            stemmed = self._stem_all([w for w, s in zip(words, stopped, strict=True) if not s])
            iterator = iter(stemmed)
            words = [w if s else next(iterator) for w, s in zip(words, stopped, strict=True)]
        renumber = stop is not None and stop.renumber and positions
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = None
        for number, (match, word, is_stopped) in enumerate(
            zip(matches, words, stopped, strict=True)
        ):
            if is_stopped and removestops:
                continue
            token.text = word
            token.boost = 1.0
            token.stopped = is_stopped
            if keeporiginal:
                token.original = raw[number]
            if positions:
                token.pos = start_pos + number
                if renumber and not is_stopped:
                    pos = token.pos if pos is None else pos + 1
                    token.pos = pos
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token


def fast_analyzer(analyzer: Analyzer) -> Analyzer:
    """``analyzer`` run by a FastAnalyzer when it is a plain chain (same tokens), else as is.

    For indexes written before the schema used FastAnalyzer: their pickled
    chain gets the fast path too.
    """
    if isinstance(analyzer, CompositeAnalyzer) and FastAnalyzer(analyzer).fast:
        return FastAnalyzer(analyzer)
    return analyzer


def analysed_terms(analyzer: Analyzer, text: str) -> tuple[str, ...]:
    """The terms ``text`` is searched as (case and accents folded, stems, stop words out)."""
    return tuple(token.text for token in analyzer(text))
