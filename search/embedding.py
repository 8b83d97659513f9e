"""Texts to vectors with the static embedding model that ships inside the ``wordllama`` wheel.

The model (WordLlama ``l2_supercat``, 256 dimensions) is a table of one
vector per token of Llama 2's tokenizer: a text's vector is the mean of its
tokens' vectors, normalised to length 1, so a dot product is a cosine. No
network, no GPU, nothing downloaded: the weights
(``wordllama/weights/l2_supercat_256.safetensors``, 16 MB) and the tokenizer
(``wordllama/tokenizers/l2_supercat_tokenizer_config.json``) are read from
the installed package by explicit paths. (wordllama's own loader looks for
the tokenizer under ``tokenizer/``, misses the wheel's ``tokenizers/`` and
tries to download it; it also imports pydantic, toml and requests, which
this needs none of.)

Why the mean is taken over concatenated tokens, not a padded batch: a batch
padded to its longest text costs as much as all its texts at that length
(Reuters: 700 to 850 texts a second uncut in padded batches of 256, 3,600 cut
to 1,000 characters). Here each batch's token ids are gathered in one array
and summed per text with ``np.add.reduceat``: the cost is the tokens there are.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from pathlib import Path

import numpy as np

DIMENSIONS = 256
# What of an article is embedded: its title, then its body up to this many characters
# (see bench/RELEVANCE.md: the opening says what a story is about; all of it blurs it).
ARTICLE_CHARACTERS = 1000
BATCH = 256
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
# Set to 0 to turn ranking by meaning off for the whole service (search.engine).
SEMANTIC_ENV = "ARTICLE_SEARCH_SEMANTIC"
log = logging.getLogger(__name__)


class TextEmbedder:
    """Unit vectors (float32, DIMENSIONS wide) for texts; see the module."""

    def __init__(self, table: np.ndarray, tokenizer):
        # Kept as shipped (float16: 16 MB a process rather than 32), summed in float32.
        self._table = np.ascontiguousarray(table)
        self._tokenizer = tokenizer

    @classmethod
    def from_package(cls, package: Path) -> TextEmbedder:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        table = load_file(str(package / WEIGHTS))["embedding.weight"]
        return cls(table, Tokenizer.from_file(str(package / TOKENIZER)))

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text; a text with no tokens gets a row of zeros."""
        rows = np.zeros((len(texts), self._table.shape[1]), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            encoded = self._tokenizer.encode_batch(
                texts[start : start + BATCH], add_special_tokens=False
            )
            counts = np.array([len(e.ids) for e in encoded], dtype=np.int64)
            ids = np.fromiter(
                (i for e in encoded for i in e.ids), dtype=np.int64, count=int(counts.sum())
            )
            if not len(ids):
                continue
            np.clip(ids, 0, len(self._table) - 1, out=ids)
            filled = np.flatnonzero(counts)
            firsts = (np.cumsum(counts) - counts)[filled]
            sums = np.add.reduceat(self._table[ids], firsts, axis=0, dtype=np.float32)
            rows[start + filled] = sums / counts[filled, None]
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        np.divide(rows, norms, out=rows, where=norms > 0)
        return rows

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def article_text(title: str, body: str) -> str:
    """What of an article is embedded (ARTICLE_CHARACTERS)."""
    return f"{title}\n{body[:ARTICLE_CHARACTERS]}"


def semantic_enabled() -> bool:
    """Whether the service ranks by meaning (SEMANTIC_ENV, default on)."""
    return os.environ.get(SEMANTIC_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


@functools.cache
def load_embedder() -> TextEmbedder | None:
    """The packaged model, loaded once per process; None (and one log line) without it."""
    spec = importlib.util.find_spec("wordllama")
    package = Path(spec.origin).parent if spec and spec.origin else None
    try:
        if package is None:
            raise FileNotFoundError("the wordllama package is not installed")
        return TextEmbedder.from_package(package)
    except (OSError, ImportError, KeyError, ValueError) as error:
        log.warning(
            "Ranking by words only: the embedding model could not be loaded (%s). "
            "Install the pinned wordllama package to rank by meaning too.",
            error,
        )
        return None
