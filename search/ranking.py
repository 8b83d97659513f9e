"""Ranking knobs in one place: BM25F parameters, field weights, word coordination."""

from __future__ import annotations

from whoosh.scoring import BM25F, WeightingModel

BM25_B = 0.75
BM25_K1 = 1.2
TITLE_BOOST = 2.0
# A short search (up to this many plain words, after stop words) is a set of
# words each chosen by the reader: every matched word adds COORDINATION_BONUS,
# which exceeds any BM25F contribution, so articles with all the words rank
# first, then those with most. A longer query describes what is wanted in words
# no article need contain all of (Cranfield: "papers on ...", "has anyone
# investigated ..."); BM25F alone ranks it, which already rewards matching more
# words: strict coordination there cost 0.10 nDCG@10 (see bench/relevance.py).
STRICT_COORDINATION_WORDS = 4
COORDINATION_BONUS = 1000.0


def weighting() -> WeightingModel:
    return BM25F(B=BM25_B, K1=BM25_K1)
