"""Whole-index query evaluation with arrays: every match and its score in one pass.

Whoosh answers a top-10 search by walking a tree of matchers one document at
a time in Python, and the match set for the facet counts takes a second walk
(``docs_for_query``). ``ArrayMatcher`` evaluates the same query tree one
posting list at a time with numpy and gives both: the matching documents and
the score Whoosh gives each one. Scores follow Whoosh's matchers: BM25F per
term from the scorer Whoosh builds (same global idf and average length, same
quantised field lengths), a Term's boost multiplied in, Or and And add their
children's scores, AndNot keeps the positive side's, ConstantScoreQuery gives
its constant (Whoosh's unscored-context behaviour, which ``searcher.search``
uses). Ranking by (score descending, docnum ascending) is then the order of
Whoosh's TopCollector. Sums may be added in another order than Whoosh's
matcher tree, which can change a score in its last bit, never an order
between scores that differ. DisjunctionMax (without a tie-break) scores a
document by its best part.

Query types it does not know (anything new) are run through
Whoosh's own matcher for that part of the tree, so every query still gets
Whoosh's answer. Term posting lists are read whole (search.whoosh_internals:
a common term's from its segment's frequent-terms file, with its positions;
with its fast paths off, through Whoosh's own matcher). A term's matches and
scores are cached per index generation (an ``ArrayMatcher`` belongs to one
searcher; the scores' idf and average lengths change with every commit),
bounded in bytes; the postings read from each segment, and its field
lengths, are kept for the generations after it (search.storage.segments), so a
daily import does not make the next searches read every common word again.

The modules, one job each (as Whoosh's own ``matching`` package is split):

- ``results``: what an evaluation gives (``Matches``, ``SearchTimedOut``), the
  bounded cache of them, and the array arithmetic that combines them;
- ``terms``: a term's matches over every segment, scored as Whoosh scores them;
- ``phrases``: where a phrase is, positions read only for its candidates;
- ``pending``: an Or whose phrase bonuses are looked for only where they can
  change the top;
- ``matcher``: ``ArrayMatcher``, which walks the query tree.
"""

from search.matching.matcher import CACHE_BYTES, ArrayMatcher
from search.matching.pending import PendingMatches
from search.matching.results import Matches, SearchTimedOut

__all__ = ["CACHE_BYTES", "ArrayMatcher", "Matches", "PendingMatches", "SearchTimedOut"]
