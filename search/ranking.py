"""Ranking knobs in one place: BM25F parameters, field weights, word coordination."""

from __future__ import annotations

from whoosh.scoring import BM25F, WeightingModel

BM25_B = 0.75
BM25_K1 = 1.2
TITLE_BOOST = 2.0
# Every matched plain word adds this to a document's score; it exceeds any
# BM25F contribution, so articles with all the words rank before those with most.
COORDINATION_BONUS = 1000.0


def weighting() -> WeightingModel:
    return BM25F(B=BM25_B, K1=BM25_K1)
