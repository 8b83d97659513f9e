"""Open the live index and answer searches: hits, facets, timeline, suggestion.

One SearchEngine per process. It keeps one searcher and the facet values
of the index generation it opened, and moves to a newer generation (an
incremental commit or a rebuild swap) by itself. It applies the editors'
desk (search.desk), re-read when it changes: synonyms when parsing
(search.synonyms), rules around the match set (search.rules: hidden articles
leave it, pinned ones join it and lead relevance order; date order keeps its
order, pins in their place by date), freshness on relevance order's scores.

The threading rule (the one place it is written):

- Threads take turns: every public method holds the engine's one lock, so a
  generation is closed as soon as the next is opened (no search can still be
  using it). Whoosh's readers keep one file position per open file, shared by
  every thread using the searcher: two searches at once would read each
  other's bytes ("Block tag error", zlib and unpickling errors, wrong
  postings); under the GIL a search gains nothing from running beside another.
- The engine's lock guards everything of the generations it serves: the
  searcher and its readers, the matcher (search.matching.ArrayMatcher: its
  cache, its last answer, the parts of the query being evaluated), the pieces
  kept per segment (search.storage.segments.SegmentPieces), the facet values,
  the completer, the counts of words read with the words before them
  (search.context.CoOccurrence), the desk in use and the process's view of the
  desk (search.desk.DeskWatcher). These have no lock of their own and are called
  only from within the engine's methods.
- A lock of its own is kept only where a thread other than the searching one
  touches the state: the vocabulary built in the background
  (search.expansion.WordExpander), the synonym tables built in the background
  (search.synonyms.SynonymTables), the desk's SQLite connection, also used by
  the editors' pages (search.desk), the embedder's word table (search.embedding,
  shared with indexing) and the highlighter's module-wide cache
  (search.highlight). A serving engine's settling thread (search.collector)
  only waits for a generation's vocabulary, then freezes the collector's view of
  the process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from search.analysis import fast_analyzer
from search.article import Article
from search.collector import settle_long_lived
from search.context import CoOccurrence
from search.deadline import Deadline
from search.desk import CHECK_SECONDS as DESK_CHECK_SECONDS
from search.desk import DeskState, DeskWatcher
from search.embedding import load_embedder, semantic_enabled
from search.expansion import WordExpander
from search.facets import (
    FacetDefinition,
    FacetSource,
    ValueSets,
    configured_facets,
    disjunctive_facets,
    load_values,
    require_indexed,
)
from search.feedback import feedback_terms, reranks, with_feedback
from search.highlight import mark_all, snippet
from search.hybrid import (
    FUSION_DEPTH,
    NEAREST_RESULTS,
    meaning_words,
    nearest,
    plain_words,
    query_vector,
    rerank,
)
from search.matching import ArrayMatcher, Matches, SearchTimedOut
from search.query import ParsedQuery, QueryBuilder
from search.ranking import FEEDBACK_DOCS, freshness_factors, weighting
from search.results import (
    Hit,
    IndexStats,
    SearchRequest,
    SearchResult,
    Suggestion,
)
from search.rules import FiredRules, RuleBook
from search.schema import stored_article
from search.spelling import SpellingCorrector
from search.storage.docsets import DocSet, undeleted_mask
from search.storage.index_folder import IndexFolder, ServedGeneration
from search.storage.segments import SegmentPieces
from search.suggest import Completer
from search.synonyms import BUILD_WAIT_SECONDS as SYNONYMS_BUILD_WAIT_SECONDS
from search.synonyms import SynonymTable, SynonymTables
from search.timeline import histogram
from search.vectors import GenerationVectors
from search.whoosh_internals import numeric_column

# How often a search checks for a newer generation: a check lists the build's folder
# (0.1 ms), and what a new generation reads is only its new segments (search.storage.segments).
REFRESH_SECONDS = 0.25
# The time limits of a search, in seconds from when it began (each a search.deadline.Deadline):
# facets still being counted this long after are listed without their counts (timed_out);
FACET_SECONDS = 0.5
# "did you mean" stops looking up words;
SPELLING_SECONDS = 0.5
# a query still being matched is abandoned: the answer is empty and flagged partial,
# rather than a worker stuck on one search. A completion's titles keep to it too.
SEARCH_SECONDS = 3.0
# How long a search or suggestion waits for the generation's vocabulary (built in the
# background from when the generation opens) before answering without completions,
# typo tolerance and "did you mean": only a worker's first requests ever wait.
VOCABULARY_SECONDS = 2.0
MAX_REMEMBERED_IDS = 100_000  # pinned and hidden articles' docnums kept per generation
log = logging.getLogger(__name__)


MICROSECONDS_PER_DAY = 86_400_000_000
LATEST_ORDINAL = dt.date.max.toordinal()
UNIX_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _date_columns(reader, segments: SegmentPieces) -> tuple[np.ndarray, np.ndarray]:
    """Per docnum: the day (proleptic ordinal, 0 if undated) and month (-1 if undated).

    Segment by segment, each segment's columns kept in ``segments``: a segment
    whose articles all lack a date has no date column, and Whoosh's combined
    column reader silently leaves it out.
    """
    columns = [segments.piece(leaf, "dates", _segment_dates) for leaf, _ in reader.leaf_readers()]
    if not columns:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate([day for day, _ in columns]), np.concatenate([m for _, m in columns])


def _segment_dates(leaf) -> tuple[np.ndarray, np.ndarray]:
    """One segment's days and months (as ``_date_columns``).

    Read raw from the date column: Whoosh stores microseconds since 0001-01-01
    and a sentinel for documents without a date, which it cannot translate.
    """
    raw = np.full(leaf.doc_count_all(), np.iinfo(np.uint64).max, dtype=np.uint64)  # undated
    if leaf.has_column("date"):
        raw[:] = numeric_column(leaf, "date")
    day = (raw // MICROSECONDS_PER_DAY + 1).astype(np.int64)
    day[(day < 1) | (day > LATEST_ORDINAL)] = 0
    # numpy's calendar is Python's (proleptic Gregorian): days since 1970 to months since.
    since = (day - UNIX_EPOCH_ORDINAL).astype("datetime64[D]").astype("datetime64[M]")
    month = np.where(day > 0, since.astype(np.int64) + 1970 * 12, -1)
    return day, month


@dataclass
class _OpenedGeneration:
    """Everything opened for one index generation, reused by every search."""

    searcher: Searcher
    served: ServedGeneration  # which generation, and what was passed over to get to it
    fingerprint: tuple
    build: Path
    generation: str
    size: int
    undeleted: DocSet
    values: dict[str, ValueSets]
    day: np.ndarray  # date as a proleptic ordinal per docnum, 0 when undated
    month: np.ndarray  # year * 12 + month - 1 per docnum, -1 when undated
    builder: QueryBuilder
    expander: WordExpander
    corrector: SpellingCorrector
    completer: Completer
    matcher: ArrayMatcher
    vectors: GenerationVectors
    # Article id -> docnum (None: not in this generation), for the desk's pins and hides:
    # Whoosh's document_number reads the id's postings (0.5 ms) at every search.
    docnums_of_ids: dict[str, int | None] = dataclasses.field(default_factory=dict)

    @classmethod
    def open(
        cls,
        folder: IndexFolder,
        facets: tuple[FacetDefinition, ...],
        served: ServedGeneration | None = None,
        previous: _OpenedGeneration | None = None,
        segments: SegmentPieces | None = None,
    ) -> _OpenedGeneration:
        """The generation to serve; ``previous`` lends its words until this one's are built.

        Every indexed value field's values are read (names and counts: for lookups
        and suggestions); the documents of each value only for the ``facets``.
        What is read from each segment is kept in ``segments`` (when given), so a
        later generation reads only its new segments.
        Raises FacetNotIndexedError if the index lacks a facet's field (an older schema).
        """
        segments = segments if segments is not None else SegmentPieces()
        fingerprint = folder.fingerprint()
        served, ix = folder.open_newest(served)
        build = served.generation.build
        require_indexed(ix.schema, facets, build)
        searcher = ix.searcher(weighting=weighting())
        reader = searcher.reader()
        size = reader.doc_count_all()
        mask = undeleted_mask(reader)
        undeleted = DocSet.from_mask(mask)
        day, month = _date_columns(reader, segments)
        values = load_values(FacetSource(reader, mask, month, segments), ix.schema, facets)
        analyzer = fast_analyzer(ix.schema["body"].analyzer)
        matcher = ArrayMatcher(searcher, segments=segments, undeleted=mask)
        expander = WordExpander(
            matcher.doc_frequency,
            analyzer,
            ix.reader(),
            CoOccurrence(matcher),
            previous=previous.expander if previous else None,
        )
        builder = QueryBuilder(
            analyzer,
            # An index older than a field's indexing (the source) finds none of its values.
            lambda field, typed: values[field].lookup(typed) if field in values else [],
            expander=expander,
        )
        expander.start()
        return cls(
            searcher=searcher,
            served=served,
            fingerprint=fingerprint,
            build=build,
            generation=served.generation.name,
            size=size,
            undeleted=undeleted,
            values=values,
            day=day,
            month=month,
            builder=builder,
            expander=expander,
            corrector=SpellingCorrector(expander),
            completer=Completer(searcher, analyzer, values, expander, matcher, day),
            matcher=matcher,
            vectors=GenerationVectors.open(reader, build, segments),
        )

    def is_current(self, folder: IndexFolder) -> bool:
        """Whether nothing was committed, rebuilt or repaired since this was opened."""
        return folder.fingerprint() == self.fingerprint

    def date_range(self, start: dt.date | None, end: dt.date | None) -> DocSet:
        mask = self.day > 0
        if start:
            mask &= self.day >= start.toordinal()
        if end:
            mask &= self.day <= end.toordinal()
        return DocSet.from_mask(mask)


@dataclass(frozen=True)
class _DeskInUse:
    """The desk's state made ready for searching with one analyzer."""

    state: DeskState
    analyzer: object
    synonyms: SynonymTable | None
    rules: RuleBook

    def fresh(self, gen: _OpenedGeneration, found: Matches) -> Matches:
        """``found`` with its scores decayed by age, when the desk's freshness is on."""
        freshness = self.state.freshness
        if not freshness.weight or not len(found):
            return found
        today = dt.datetime.now(dt.UTC).date().toordinal()
        factors = freshness_factors(
            gen.day[found.docnums], today, freshness.half_life_days, freshness.weight
        )
        return Matches(found.docnums, found.scores * factors)


def _one_thread_at_a_time(method):
    """Run ``method`` holding the engine's lock (see the module's docstring)."""

    @functools.wraps(method)
    def one_at_a_time(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return one_at_a_time


class SearchEngine:
    """Searches the live index in ``index_dir``; raises IndexNotFoundError if there is none.

    Safe to share between threads (they take turns).
    """

    def __init__(
        self,
        index_dir: Path,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        facet_seconds: float | None = FACET_SECONDS,
        search_seconds: float | None = SEARCH_SECONDS,
        spelling_seconds: float | None = SPELLING_SECONDS,
        facets: tuple[FacetDefinition, ...] | None = None,
        vocabulary_seconds: float | None = VOCABULARY_SECONDS,
        desk_check_seconds: float = DESK_CHECK_SECONDS,
        desk_build_seconds: float | None = SYNONYMS_BUILD_WAIT_SECONDS,
        semantic: bool | None = None,
        serving: bool = False,
    ):
        """``facet_seconds``, ``search_seconds``, ``spelling_seconds``: the search's time
        limits (None: no limit; 0: out of time at once);
        ``facets``: the facets counted (default: ``search.facets.configured_facets()``);
        ``vocabulary_seconds``: the longest wait for a generation's vocabulary (None: no limit);
        ``desk_check_seconds``: how often to ask whether the editors' desk changed;
        ``desk_build_seconds``: the longest a search waits for a changed desk's synonym
        table, built in the background (None: until built), before using the last one;
        ``semantic``: rank by meaning too (default: ``search.embedding.semantic_enabled()``);
        ``serving``: the engine a serving process keeps (the web app's): once each
        generation's vocabulary is built, the garbage collector leaves the process's
        objects alone (search.collector); the command line and tests leave it as it is.
        """
        self.index_dir = Path(index_dir)
        self.folder = IndexFolder(self.index_dir)
        self.facets = configured_facets() if facets is None else tuple(facets)
        self.refresh_seconds = refresh_seconds
        self.facet_seconds = facet_seconds
        self.search_seconds = search_seconds
        self.spelling_seconds = spelling_seconds
        self.vocabulary_seconds = vocabulary_seconds
        semantic = semantic_enabled() if semantic is None else semantic
        self._embedder = load_embedder() if semantic else None
        self._lock = threading.Lock()
        # What each segment holds, kept while a served generation has the segment.
        self._segments = SegmentPieces()
        self._current = _OpenedGeneration.open(self.folder, self.facets, segments=self._segments)
        self._serving = serving
        self._settle(self._current)
        self._desk = DeskWatcher(self.index_dir, check_seconds=desk_check_seconds)
        self._desk_in_use: _DeskInUse | None = None
        self._synonym_tables = SynonymTables(desk_build_seconds)
        self._checked_at = time.monotonic()
        self._reported_damage: tuple[str, ...] = ()
        self._report_damage()

    def _generation(self, now: bool = False) -> _OpenedGeneration:
        """The open generation, replaced (and the old one closed) when the index has moved on;
        checked at once if ``now``.

        Called with the engine's lock held.
        """
        if time.monotonic() - self._checked_at < self.refresh_seconds and not now:
            return self._current
        self._checked_at = time.monotonic()
        current = self._current
        if not current.is_current(self.folder):
            fingerprint = self.folder.fingerprint()
            served = self.folder.served()
            if served.generation == current.served.generation:
                current.served, current.fingerprint = served, fingerprint
            else:
                try:
                    self._current = _OpenedGeneration.open(
                        self.folder, self.facets, served, previous=current, segments=self._segments
                    )
                except FileNotFoundError as error:
                    # Replaced and removed by a rebuild while it was opened: the open
                    # generation answers, and the folder is read again at the next search.
                    log.warning(
                        "generation %s could not be opened (%s); %s answers meanwhile",
                        served.generation.name,
                        error,
                        current.generation,
                    )
                    self._checked_at = float("-inf")
                    return current
                current.searcher.close()
                self._segments.keep_only(self._current.searcher.reader())
                self._settle(self._current)
            self._report_damage()
        return self._current

    def _settle(self, gen: _OpenedGeneration) -> None:
        """When serving, freeze the collector's view (search.collector) once the
        generation's vocabulary is built, from a thread of its own."""
        if not self._serving:
            return

        def settle() -> None:
            gen.expander.ready()
            settle_long_lived()

        threading.Thread(target=settle, name="settle", daemon=True).start()

    def _report_damage(self) -> None:
        """Log loudly, once per finding, that newer generations were passed over."""
        served = self._current.served
        if served.damaged and served.damaged != self._reported_damage:
            log.error(
                "INDEX DAMAGED in %s: %s. Serving generation %s instead; the next "
                "'article-search index' run repairs it.",
                self.index_dir,
                " | ".join(served.damaged),
                served.generation.name,
            )
        self._reported_damage = served.damaged

    @_one_thread_at_a_time
    def stats(self) -> IndexStats:
        gen = self._generation(now=True)
        return IndexStats(
            documents=gen.searcher.doc_count(),
            generation=gen.generation,
            committed_at=gen.served.committed_at,
            verified=gen.served.verified,
            damaged=gen.served.damaged,
        )

    def _desk_for(self, gen: _OpenedGeneration, request: SearchRequest) -> _DeskInUse | None:
        """The desk to apply (None: an empty desk, or a request without it), made ready
        once per desk change and analyzer."""
        state = self._desk.current()
        if not request.desk or state.empty:
            return None
        in_use = self._desk_in_use
        analyzer = gen.builder.analyzer
        # The synonyms' table is built in the background (search.synonyms.SynonymTables):
        # until it is ready, the last one. The rules (a few ms for 1,000) are made at once.
        synonyms = self._synonym_tables.table(state.synonyms, analyzer)
        if in_use is None or in_use.state is not state or in_use.analyzer != analyzer:
            in_use = _DeskInUse(state, analyzer, synonyms, RuleBook(state.rules, analyzer))
        elif in_use.synonyms is not synonyms:
            in_use = dataclasses.replace(in_use, synonyms=synonyms)
        self._desk_in_use = in_use
        return in_use

    @_one_thread_at_a_time
    def search(self, request: SearchRequest) -> SearchResult:
        began = time.perf_counter()
        gen = self._generation()
        desk = self._desk_for(gen, request)
        # Outside the time limits below; a worker's first searches may answer without.
        expanding = bool(request.q) and gen.expander.ready(self.vocabulary_seconds)
        started = time.perf_counter()
        parsed = gen.builder.parse(
            request.q,
            prefix=request.prefix and expanding,
            typos=request.typos and expanding,
            synonyms=desk.synonyms if desk and request.synonyms else None,
        )
        fired = FiredRules()
        if desk is not None and not parsed.is_browse:
            fired = desk.rules.fire(parsed.text_terms, request.filters, dt.datetime.now(dt.UTC))
        matched = gen.undeleted
        # A browse may still exclude words ("-sport"): only Every matches everything.
        found = None
        partial = False
        if not isinstance(parsed.query, wq.Every):
            # One pass gives the match set and every match's score (search.matching).
            deadline = Deadline.after(self.search_seconds, started)
            try:
                found = gen.matcher.evaluate(parsed.query, deadline)
                if reranks(parsed, request) and len(found):
                    # A long query is re-ranked by its first results (search.feedback).
                    top = found.top(FEEDBACK_DOCS)
                    terms = feedback_terms(gen.searcher, gen.builder.analyzer, parsed, *top)
                    found = gen.matcher.evaluate(with_feedback(parsed.query, terms), deadline)
            except SearchTimedOut:
                found, partial = Matches.empty(), True
            matched = DocSet.from_sorted(found.docnums, gen.size)  # no deleted ones
        pinned = self._docnums(gen, fired.pin)
        if fired.hide:
            matched = matched - DocSet.from_docnums(self._docnums(gen, fired.hide), gen.size)
        if pinned:
            matched = matched | DocSet.from_docnums(pinned, gen.size)
        # Meaning re-orders long queries (parsed.feedback) and answers when no article has
        # the words (search.hybrid): only then is the query embedded.
        wants_meaning = parsed.feedback or (found is not None and not len(found))
        meaning = (
            self._query_vector(gen, request, parsed) if wants_meaning and not partial else None
        )
        dated = gen.undeleted
        if request.date_from or request.date_to:
            dated = dated & gen.date_range(request.date_from, request.date_to)
        base = matched if dated is gen.undeleted else matched & dated
        plain = meaning is not None and plain_words(request.q)
        # Not with typos=0: the reader asked for the words exactly as typed.
        meaning_only = (
            plain and request.typos and found is not None and not len(found) and not pinned
        )
        if meaning_only:  # no article has the words: the nearest in meaning (search.hybrid)
            found = Matches(*nearest(gen.vectors, meaning, dated.mask(), NEAREST_RESULTS))
            base, meaning = DocSet.from_docnums(found.docnums, gen.size), None
            meaning_only = bool(len(found))
        unknown = set(request.filters) - {facet.name for facet in self.facets}
        if unknown:
            raise ValueError(f"no facet named {', '.join(sorted(unknown))} in this archive")
        final, facets = disjunctive_facets(
            self.facets,
            gen.values,
            base,
            request.filters,
            Deadline.after(self.facet_seconds, started),
            count=request.counts,
        )
        # A date range, a facet selection or a rule applies.
        filtered = final is not matched or bool(fired.ids)
        pins = [docnum for docnum in pinned if docnum in final]  # in order, no gaps
        try:
            hits = self._page(
                gen, parsed, request, final, filtered or meaning_only, found, pins, desk, meaning
            )
        except SearchTimedOut:  # proximity phrases are looked for while ranking (search.matching)
            hits, partial = [], True
        total = len(final)
        suggestion = None
        # Words with completions or corrections are taken care of already.
        read_as_synonyms = {applied.word for applied in parsed.synonyms}
        unexpanded = [
            w
            for w in parsed.words
            if w not in parsed.completions
            and w not in parsed.corrections
            and w not in read_as_synonyms
        ]
        misspelt = total == 0 or not all(map(gen.corrector.known, unexpanded))
        if expanding and unexpanded and not partial and misspelt and not parsed.corrected_only:
            suggestion = gen.corrector.suggest_query(
                unexpanded, request.q, Deadline.after(self.spelling_seconds, started)
            )
        showing_results_for = None
        if parsed.corrected_only and total:
            showing_results_for = request.q
            for word, corrections in parsed.corrections.items():
                showing_results_for = showing_results_for.replace(word, corrections[0], 1)
        return SearchResult(
            request=request,
            total=total,
            hits=tuple(hits),
            facets=facets,
            timeline=histogram(gen.month[final.docnums()]) if request.counts else (),
            suggestion=suggestion,
            completions=parsed.completions,
            corrections=parsed.corrections,
            showing_results_for=showing_results_for,
            took_ms=(time.perf_counter() - began) * 1000,
            partial=partial,
            truncated=parsed.truncated,
            searched_characters=parsed.searched_characters,
            synonyms_applied=tuple(parsed.synonyms),
            rules_applied=fired.ids,
            meaning_only=meaning_only,
        )

    @staticmethod
    def _docnums(gen: _OpenedGeneration, article_ids) -> list[int]:
        """The docnums of the articles with these ids, in their order (unknown or deleted ones
        out)."""
        known = gen.docnums_of_ids
        for article_id in article_ids:
            if article_id not in known:
                if len(known) >= MAX_REMEMBERED_IDS:
                    known.clear()
                docnum = gen.searcher.document_number(id=article_id)
                known[article_id] = (
                    docnum if docnum is not None and docnum in gen.undeleted else None
                )
        found = (known[article_id] for article_id in article_ids)
        return [docnum for docnum in found if docnum is not None]

    def _query_vector(
        self, gen: _OpenedGeneration, request: SearchRequest, parsed: ParsedQuery
    ) -> np.ndarray | None:
        """The query's vector when its relevance order uses meaning (search.hybrid), else None."""
        if not (self._embedder and request.semantic and request.sort == "relevance"):
            return None
        if parsed.is_browse or not gen.vectors.any:
            return None
        analyzer = gen.builder.analyzer
        # Stop words left out, as from the word query: "What is X?" means what "X" does.
        words = [w for w in meaning_words(parsed, gen.corrector.known) if any(analyzer(w))]
        return query_vector(self._embedder, words)

    def _page(
        self,
        gen: _OpenedGeneration,
        parsed: ParsedQuery,
        request: SearchRequest,
        final: DocSet,
        filtered: bool,
        found: Matches | None = None,
        pins: list[int] | tuple = (),
        desk: _DeskInUse | None = None,
        meaning: np.ndarray | None = None,
    ) -> list[Hit]:
        """The page's hits: by date, or pins first then by score (freshness applied)."""
        start = (request.page - 1) * request.per_page
        end = start + request.per_page
        if parsed.is_browse or request.sort != "relevance":
            docnums = final.docnums()
            days = gen.day[docnums]
            if request.sort == "oldest":
                days = np.where(days > 0, days, LATEST_ORDINAL + 1)  # undated last
            else:
                days = -days
            # By day, then docnum, as one number; only the page's first ``end`` are sorted.
            keys = days * gen.size + docnums
            if end < len(keys):
                keys = keys[np.argpartition(keys, end - 1)[:end]]
            page = np.sort(keys)[start:end] % gen.size
            ranked = [(int(d), None, False) for d in page]
        else:
            # By score, then docnum: Whoosh's order when it scores every match
            # (searcher.search with limit=None). With a limit, Whoosh's block-quality
            # skipping can drop better documents (whoosh issues #413, #122).
            if found is None:
                found = gen.matcher.evaluate(parsed.query)
            if desk is not None:
                found = desk.fresh(gen, found)
            allowed = final.mask() if filtered else None
            if pins:
                allowed[pins] = False
            ranked = [(docnum, None, True) for docnum in pins[start:end]]
            after = max(0, start - len(pins))
            if end > len(pins):
                wanted = end - len(pins)
                # A short query's word ranking is kept as it is (search.hybrid).
                if meaning is None or not parsed.feedback:
                    docnums, scores = found.top(wanted, allowed)
                else:  # by words and meaning (search.hybrid)
                    docnums, scores = found.top(max(wanted, FUSION_DEPTH), allowed)
                    docnums, scores = rerank(meaning, gen.vectors, docnums, scores)
                    docnums, scores = docnums[:wanted], scores[:wanted]
                pairs = zip(docnums[after:], scores[after:], strict=True)
                ranked += [(int(d), float(x), False) for d, x in pairs]
        return [self._hit(gen, docnum, parsed, score, pinned) for docnum, score, pinned in ranked]

    @staticmethod
    def _hit(
        gen: _OpenedGeneration,
        docnum: int,
        parsed: ParsedQuery,
        score: float | None,
        pinned: bool = False,
    ) -> Hit:
        article = stored_article(gen.searcher.stored_fields(docnum))
        analyzer = gen.builder.analyzer
        return Hit(
            **article.card(),
            title_html=mark_all(article.title, parsed.terms, analyzer),
            snippet=snippet(article.body, parsed.terms, analyzer),
            score=score,
            pinned=pinned,
        )

    @_one_thread_at_a_time
    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Completions of ``prefix``; none while the vocabulary is still being built."""
        gen = self._generation()
        if not gen.expander.ready(self.vocabulary_seconds):
            return []
        return gen.completer.complete(prefix, limit, Deadline.after(self.search_seconds))

    def _docnum(self, gen: _OpenedGeneration, article_id: str) -> int | None:
        return gen.searcher.document_number(id=article_id)

    @_one_thread_at_a_time
    def article(self, article_id: str) -> Article | None:
        gen = self._generation()
        docnum = self._docnum(gen, article_id)
        return None if docnum is None else stored_article(gen.searcher.stored_fields(docnum))

    @_one_thread_at_a_time
    def related(self, article_id: str, limit: int = 5) -> list[Hit]:
        """The articles nearest this one in meaning; without its vector (or with ranking by
        meaning off), the articles most like it by the key terms of its text."""
        gen = self._generation()
        docnum = self._docnum(gen, article_id)
        if docnum is None:
            return []
        empty = ParsedQuery(query=None)  # nothing to mark
        vector = gen.vectors.vector(docnum) if self._embedder else None
        if vector is not None and vector.any():
            allowed = gen.undeleted.mask()
            allowed[docnum] = False
            docnums, alike = gen.vectors.nearest(vector / np.linalg.norm(vector), allowed, limit)
            order = np.lexsort((docnums, -alike))
            return [self._hit(gen, int(docnums[i]), empty, float(alike[i])) for i in order]
        stored = gen.searcher.stored_fields(docnum)
        text = f"{stored.get('title', '')}\n{stored.get('body', '')}"
        results = gen.searcher.more_like(docnum, "body", text=text, top=limit, numterms=12)
        return [self._hit(gen, hit.docnum, empty, hit.score) for hit in results]
