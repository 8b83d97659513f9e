"""Ranking knobs in one place: BM25F parameters, field weights, word coordination."""

from __future__ import annotations

from whoosh.scoring import BM25F, WeightingModel

# Measured on Cranfield (bench/relevance.py): K1 0.9..2.0 and B 0.6..0.9 move
# nDCG@10 by less than 0.01, within noise; the textbook values stay.
BM25_B = 0.75
BM25_K1 = 1.2
# A title word counts 1.5 times a body word. Cranfield repeats each title at
# the start of the body and prefers 1.0; with the title taken out of the body,
# as in a news article, 1.5 measured best (2.0 and 1.0 tied below it).
TITLE_BOOST = 1.5
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
# being typed share COMPLETION_WEIGHT of a word's score by their frequencies, so
# the likeliest completion ranks its articles as the finished word would; the
# corrections of a misspelt word share CORRECTION_WEIGHT. In a short search an
# article matched only through stand-ins gets that TIER of the coordination bonus:
# the word as typed first, then completions, then corrections.
COMPLETION_WEIGHT = 0.9
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


def weighting() -> WeightingModel:
    return BM25F(B=BM25_B, K1=BM25_K1)
