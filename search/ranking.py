"""Ranking knobs in one place: BM25F parameters, idf, field weights, word coordination.

Every value here was measured on three judged collections (Cranfield, CACM and a
Reuters news set; bench/relevance.py, figures in bench/RELEVANCE.md) and kept
only when it helped their mean without costing any of them more than noise.
"""

from __future__ import annotations

import math

import numpy as np
from whoosh.scoring import BM25F, WeightingModel

# K1 0.9 to 2.0 moved nDCG@10 by under 0.01 on each collection: the textbook 1.2
# stays. B 0.6 (less length normalisation) helped news (+0.011) and CACM a little,
# Cranfield not at all; 0.5 and 0.9 did worse.
BM25_B = 0.6
BM25_K1 = 1.2
# A title word counts as much as a body word. Whoosh's BM25F scores each field
# apart and adds them, so a title word found in the body too already counts
# twice; 1.5 and 2.0 cost all three collections (2.0: -0.01 to -0.03).
TITLE_BOOST = 1.0
# A short search (up to this many plain words, after stop words) is a set of
# words each chosen by the reader: every matched word adds COORDINATION_BONUS,
# which exceeds any BM25F contribution, so articles with all the words rank
# first, then those with most. A longer query describes what is wanted in words
# no article need contain all of (Cranfield: "papers on ...", "has anyone
# investigated ..."); BM25F alone ranks it, which already rewards matching more
# words: strict coordination there cost 0.10 nDCG@10 (see bench/relevance.py).
STRICT_COORDINATION_WORDS = 4
COORDINATION_BONUS = 1000.0

# Stand-ins for a typed word (search.expansion): the completions of the word
# being typed share a word's score by their likelihoods. When the typed letters
# are a word of the index, the word scores as typed and its completions share
# COMPLETION_WEIGHT; when they are no word ("exchang"), the likeliest completion
# stands in for the finished word and scores as it would (NO_WORD_COMPLETION_WEIGHT:
# "dollar exchang" shows the top 10 of "dollar exchange"; bench/keystrokes.py's
# mid-word overlap on its two logs is 0.890 and 0.860, with 0.9 0.875 and 0.849).
# The corrections of a misspelt word share CORRECTION_WEIGHT. In a short search an
# article matched only through stand-ins gets that TIER of the coordination bonus:
# the word as typed first, then completions, then corrections.
COMPLETION_WEIGHT = 0.9
NO_WORD_COMPLETION_WEIGHT = 1.0
CORRECTION_WEIGHT = 0.8
COMPLETION_TIER = 0.5
CORRECTION_TIER = 0.25

# Two plain words typed next to each other and found within PROXIMITY_SLOP
# words of each other, in order, add PROXIMITY_BOOST times their BM25F scores
# (at most PROXIMITY_PAIRS pairs a query). On Cranfield boosts 0.1 / 0.25 /
# 0.5 / 1.0 gave nDCG@10 0.379 / 0.377 / 0.372 / 0.358 (none: 0.373); slop 1
# to 5 changed it by under 0.003. Slop 2 lets one word (a stop word dropped
# from the query but kept in the index) come between.
PROXIMITY_BOOST = 0.1
PROXIMITY_SLOP = 2
PROXIMITY_PAIRS = 16

# A long query (more than STRICT_COORDINATION_WORDS plain words) is re-ranked
# by pseudo-relevance feedback (search.feedback): the FEEDBACK_TERMS terms most
# typical of its first FEEDBACK_DOCS results are added as optional body terms
# boosted FEEDBACK_WEIGHT. Reorders, never adds or removes a result.
FEEDBACK_DOCS = 10
FEEDBACK_TERMS = 10
FEEDBACK_WEIGHT = 0.4

# The desk's synonyms (search.synonyms): a phrase standing in for what the reader typed
# scores SYNONYM_WEIGHT of what the word would, and counts as the word for "all words
# first", so an article holding the word as typed outranks one holding only its
# synonym, all else equal, without burying the synonym's articles below every article
# holding the typed word once. A multi-word source shares the weight among its words.
SYNONYM_WEIGHT = 0.9


class RankingBM25F(BM25F):
    """Whoosh's BM25F with BM25's own idf (Robertson-Sparck Jones, as Lucene has it).

    Whoosh's default, log(N / (df + 1)) + 1, gives a word found in most articles
    a weight near 1, as much as half a rare word's; this idf gives it almost
    none, so the common words of a request ("information", "said", "system")
    stop outweighing the rare ones that carry it. CACM +0.024 nDCG@10 (p = 0.04),
    Cranfield and news within noise. The array matcher reads the idf from the
    scorer, so both paths score alike.
    """

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        return self.idf_from(parent.doc_count_all(), parent.doc_frequency(fieldname, text))

    @staticmethod
    def idf_from(documents: int, frequency: int) -> float:
        """The idf of a term in ``frequency`` of ``documents`` (deleted ones counted, as
        Whoosh's document frequencies count them): the array matcher gives it the
        frequency counted from the postings it read (search.matching.terms)."""
        return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))


def weighting() -> WeightingModel:
    return RankingBM25F(B=BM25_B, K1=BM25_K1)


def freshness_factors(
    days: np.ndarray, today: int, half_life_days: float, weight: float
) -> np.ndarray:
    """What each score is multiplied by for the desk's freshness: ``1 - weight`` plus
    ``weight`` halved every ``half_life_days`` of age.

    ``days`` are proleptic ordinals (0: undated, scored as the oldest); an article
    dated after ``today`` counts as new. ``weight`` is the share of the score age
    may take away: 0 changes nothing, 0.2 leaves a very old article 80 % of its score.
    """
    age = np.maximum(today - days, 0).astype(np.float64)
    decay = np.where(days > 0, np.exp2(-age / half_life_days), 0.0)
    return (1.0 - weight) + weight * decay
