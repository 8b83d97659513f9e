"""Relevance by words and by meaning: what of a query is embedded, and how the rankings mix.

Meaning re-orders the word ranking of a long query (more than four words) or a
question: its first FUSION_DEPTH articles (after every filter) are ordered by
their word score plus BLEND_WEIGHT times their vector's cosine with the
query's, each scaled to 0..1 over those articles (the lowest 0, the highest 1:
a hundredth word score is not 0, so dividing by the best alone let the words'
spread decide how much meaning counted), plus NEIGHBOUR_WEIGHT times the mean
of that blend over the article's NEIGHBOURS nearest in meaning among them: an
article about what the other good matches are about moves up, one that
matched the words by chance moves down (the cluster hypothesis; in IR
literature, score regularisation). The word ranking decides the rest.
So the set of results, their total and the facet counts stay the word
query's. The model is weaker than the words on its own (bench/RELEVANCE.md),
hence meaning's half share. An article without a vector yet
(the second pass has not reached its segment) counts as the least alike and
neither gives nor gets its neighbours' support.
A short query's word ranking is left as it is: it puts all the words first,
then the words as typed, then completions, then corrections (README,
"Searching"), promises a blend would break; measured, a rank fusion there
gained news 0.01 and cost typing's overlap 0.03.

When the words of a plain query (no phrase, field or exclusion: conditions
meaning cannot check) match no article at all (after completions and
corrections), the answer is the articles nearest in meaning instead
(``nearest``), at most NEAREST_RESULTS of them, each alike enough.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from search.query import FIELD_PREFIXES, ParsedQuery, reads_as_prose
from search.vectors import GenerationVectors

# A phrase, a field ("title:"), an exclusion ("-coal").
_SYNTAX = re.compile(rf'"|\b(?:{"|".join(FIELD_PREFIXES)}):|(?:^|\s)-\S', re.IGNORECASE)
_PUNCTUATION = re.compile(r"[^\w'’-]+|(?<!\w)['’-]+|['’-]+(?!\w)")
FUSION_DEPTH = 100
BLEND_WEIGHT = 0.5
NEIGHBOURS = 8
NEIGHBOUR_WEIGHT = 0.6
# Nonsense still has a nearest article (0.13 to 0.15 on the demo archive, where a real
# subject's nearest are 0.25 to 0.3): below the floor, or far below the best, is not near.
NEAREST_RESULTS = 20
NEAREST_FLOOR = 0.2
NEAREST_SHARE = 0.75


def plain_words(text: str) -> bool:
    """Whether a query is plain words: no phrase, field or exclusion, conditions meaning
    cannot check (it may re-order what they found, not answer in their place). A sentence
    or a question is plain words (search.query reads no syntax in it)."""
    return reads_as_prose(text) or not _SYNTAX.search(text)


def meaning_words(parsed: ParsedQuery, known) -> list[str]:
    """What of a query is embedded: its plain words, each corrected word as read and the
    word being typed, unless ``known(word)`` as it is, as its likeliest completion (its
    first letters mean nothing yet)."""
    words = []
    for word in parsed.words:
        read_as = parsed.corrections.get(word) if parsed.corrected_only else None
        if not read_as and not known(word):
            read_as = parsed.completions.get(word)
        words.extend(_plain(read_as[0] if read_as else word).split())
    return words


def _plain(word: str) -> str:
    """A word as the model is asked: lower case, unaccented, no punctuation around it (as
    the words match: "HEAT", "héat" and "(heat" are "heat")."""
    unaccented = "".join(
        c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)
    )
    return _PUNCTUATION.sub(" ", unaccented.lower())


def query_vector(embedder, words: list[str]) -> np.ndarray | None:
    """The query's unit vector (None without words, or without a token the model knows)."""
    if not words:
        return None
    vector = embedder.embed([" ".join(words)])[0]
    return vector if vector.any() else None


def rerank(
    query: np.ndarray, vectors: GenerationVectors, docnums: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The word ranking's ``docnums`` (best first, with ``scores``) in the order of their
    blend with meaning and their neighbours' support, with those scores."""
    similarities = vectors.similarities(query, docnums)
    if np.isnan(similarities).all():  # no candidate has a vector yet: by words
        return docnums, scores
    blended = blend(scores, similarities)
    blended = blended + NEIGHBOUR_WEIGHT * neighbours_support(blended, vectors.rows(docnums))
    order = np.argsort(-blended, kind="stable")
    return docnums[order], blended[order]


def blend(scores: np.ndarray, similarities: np.ndarray) -> np.ndarray:
    """Each candidate's word score plus BLEND_WEIGHT times its similarity, each scaled to
    0..1 over the candidates (an article without a vector, NaN: the least alike)."""
    known = similarities[~np.isnan(similarities)]
    low, high = float(known.min()), float(known.max())
    alike = (np.nan_to_num(similarities, nan=low) - low) / ((high - low) or 1)
    words = (scores - float(scores.min())) / ((float(scores.max() - scores.min())) or 1)
    return words + BLEND_WEIGHT * alike


def neighbours_support(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each candidate (its vector a row of ``rows``), the mean of ``scores`` over its
    NEIGHBOURS nearest candidates by cosine; 0 for a candidate without a vector (NaN)."""
    support = np.zeros(len(scores))
    present = ~np.isnan(rows).any(axis=1)
    count = min(NEIGHBOURS, int(present.sum()) - 1)
    if count < 1:
        return support
    known = rows[present]
    # Not known @ known.T: BLAS splits a product this size across threads, which on a
    # busy machine wait for each other (13 ms median where this takes under one).
    alike = np.einsum("ik,jk->ij", known, known)
    np.fill_diagonal(alike, -np.inf)  # not its own neighbour
    nearest = np.argpartition(-alike, count - 1, axis=1)[:, :count]
    support[present] = scores[present][nearest].mean(axis=1)
    return support


def nearest(
    vectors: GenerationVectors, query: np.ndarray, allowed: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``allowed`` docnums most alike ``query``, ascending, with their similarities (as
    float64): at most ``limit``, each at least NEAREST_FLOOR and NEAREST_SHARE of the best's."""
    docnums, alike = vectors.nearest(query, allowed, limit)
    if len(alike):
        keep = alike >= max(NEAREST_FLOOR, NEAREST_SHARE * float(alike.max()))
        docnums, alike = docnums[keep], alike[keep]
    return docnums, alike.astype(np.float64)
