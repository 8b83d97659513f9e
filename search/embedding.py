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

Why it is fast (a million articles in minutes on two cores): the model's
tokenizer has no pre-tokenizer, so Llama 2's BPE runs over each text whole (about
2,000 texts of 600 characters a second per core). But no token of its vocabulary
holds a word boundary ("▁", a space) after anything else, so no merge crosses
one: a text's tokens are its words' tokens, each word (with the spaces before it)
tokenized once and remembered (``_WordTokens``). A text's sum is then
its words' sums: each batch's distinct words are summed from their tokens' rows,
then its texts from their words' (``_ragged_sums``), float32 throughout. The
vectors are wordllama's own within float32 rounding (tests/test_hybrid.py
compares them); a text holding a special token's text (``<s>``) is tokenized
whole, as the model's tokenizer does. Measured on the scale corpus's articles,
the same minutes: about 3 times wordllama's own rate.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import threading
from pathlib import Path

import numpy as np

from search import settings

DIMENSIONS = 256
# What of an article is embedded: its title, then its body up to this many characters
# (see bench/RELEVANCE.md: the opening says what a story is about; all of it blurs it).
ARTICLE_CHARACTERS = 1000
BATCH = 1024
# Words (with the spaces before them) whose tokens are remembered; a news archive's
# commonest hundred thousand cover nearly all of its text.
REMEMBERED_WORDS = 200_000
# New words tokenized joined into one text (one text's overhead in the tokenizer, not each
# word's: 20 times faster), cut back into words by the tokens' offsets.
WORDS_JOINED = 2000
SUMMED_TOGETHER = 64  # texts (or words) summed in one numpy array (see _ragged_sums)
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
# The model's text as its tokenizer normalises it (spaces are "▁", one more in front) cut
# into words: each run of spaces with what follows up to the next space.
_WORD = re.compile("▁*[^▁]+|▁+")
_SPECIAL = re.compile("<s>|</s>|<unk>")
log = logging.getLogger(__name__)


class _WordTokens:
    """Each word's token ids, as the whole text's tokenization would give them (see the
    module), remembered up to REMEMBERED_WORDS words (then forgotten all at once): word
    number n's ids are ``ids[firsts[n] : firsts[n] + counts[n]]``. A text holding a special
    token's text comes whole and is tokenized whole by the model's own tokenizer (which
    cuts those out before it normalises)."""

    def __init__(self, tokenizer):
        self._whole = tokenizer
        # A word arrives normalised (its spaces already "▁"): tokenized as it is.
        self._words = type(tokenizer).from_str(tokenizer.to_str())
        self._words.normalizer = None
        self._lock = threading.Lock()
        self._forget()

    def _forget(self) -> None:
        self._known: dict[str, int] = {}
        self._firsts = np.zeros(1024, dtype=np.int64)
        self._counts = np.zeros(1024, dtype=np.int64)
        self._ids = np.zeros(4096, dtype=np.int32)
        self._used = 0

    def of(self, words: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For ``words`` (repeats and all): each one's row among the distinct ones, then the
        distinct ones' token ids (word after word) and how many each has."""
        with self._lock:
            new = set(words).difference(self._known)
            if len(self._known) + len(new) > REMEMBERED_WORDS:
                self._forget()
                new = set(words)
            self._learn(list(new))
            numbers = np.fromiter(map(self._known.__getitem__, words), np.int64, len(words))
            distinct, rows = np.unique(numbers, return_inverse=True)
            counts = self._counts[distinct]
            starts = np.cumsum(counts) - counts
            at = np.repeat(self._firsts[distinct] - starts, counts) + np.arange(counts.sum())
            return rows, self._ids[at].astype(np.int64), counts

    def _learn(self, new: list[str]) -> None:
        """Tokenize ``new`` words and remember them. Words are tokenized joined into texts
        of WORDS_JOINED (the tokenizer's cost is mostly per text), cut back by the tokens'
        offsets; a word ending in a space (a text's trailing spaces) would merge with the
        next, and one holding a special token's text is tokenized by the model's own."""
        special = [w for w in new if _SPECIAL.search(w)]
        alone = [w for w in new if w.endswith("▁") and not _SPECIAL.search(w)]
        joined = [w for w in new if not w.endswith("▁") and not _SPECIAL.search(w)]
        chunks = [joined[at : at + WORDS_JOINED] for at in range(0, len(joined), WORDS_JOINED)]
        texts = ["".join(chunk) for chunk in chunks] + alone
        encoded = self._words.encode_batch(texts, add_special_tokens=False)
        for chunk, encoding in zip(chunks, encoded, strict=False):
            ends = np.cumsum([len(w) for w in chunk])
            firsts = np.fromiter((start for start, _ in encoding.offsets), np.int64)
            # a token belongs to the word its first character is in
            owner = np.searchsorted(ends, firsts, side="right")
            self._remember(chunk, encoding.ids, np.bincount(owner, minlength=len(chunk)))
        for word, encoding in zip(alone, encoded[len(chunks) :], strict=True):
            self._remember([word], encoding.ids, [len(encoding.ids)])
        for word in special:
            ids = self._whole.encode(word, add_special_tokens=False).ids
            self._remember([word], ids, [len(ids)])

    def _remember(self, words: list[str], ids: list[int], counts) -> None:
        numbers = len(self._known) + np.arange(len(words))
        if len(self._known) + len(words) > len(self._firsts):
            size = 2 * (len(self._known) + len(words))
            self._firsts = np.resize(self._firsts, size)
            self._counts = np.resize(self._counts, size)
        if self._used + len(ids) > len(self._ids):
            self._ids = np.resize(self._ids, 2 * (self._used + len(ids)))
        counts = np.asarray(counts, dtype=np.int64)
        self._firsts[numbers] = self._used + np.cumsum(counts) - counts
        self._counts[numbers] = counts
        self._ids[self._used : self._used + len(ids)] = ids
        self._used += len(ids)
        self._known.update(zip(words, numbers.tolist(), strict=True))


def _words(text: str) -> list[str]:
    """A text as the model's tokenizer normalises it, cut into words (see _WORD)."""
    return _WORD.findall("▁" + text.replace(" ", "▁")) if text else []


def _ragged_sums(rows: np.ndarray, picks: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Float32 sums of ``rows`` by group: group i sums ``rows[picks[j]]`` over its
    ``lengths[i]`` entries of ``picks`` (groups one after the other). Groups of like length
    are summed together, padded with the last row of ``rows`` (zeros), as a 3-d array
    summed over its middle axis (numpy's reduceat along rows adds one number at a time:
    several times slower)."""
    zero = len(rows) - 1
    out = np.zeros((len(lengths), rows.shape[1]), dtype=np.float32)
    starts = np.cumsum(lengths) - lengths
    order = np.argsort(lengths, kind="stable")
    for at in range(0, len(order), SUMMED_TOGETHER):
        group = order[at : at + SUMMED_TOGETHER]
        width = int(lengths[group].max()) if len(group) else 0
        if width == 0:
            continue
        inside = np.arange(width) < lengths[group, None]
        where = np.where(inside, starts[group, None] + np.arange(width), 0)
        index = np.where(inside, picks[np.minimum(where, len(picks) - 1)], zero)
        out[group] = rows[index].sum(axis=1, dtype=np.float32)
    return out


class TextEmbedder:
    """Unit vectors (float32, DIMENSIONS wide) for texts; see the module."""

    def __init__(self, table: np.ndarray, tokenizer):
        # Kept as shipped (float16: 16 MB a process rather than 32), summed in float32;
        # one more row of zeros pads what is summed together (_ragged_sums).
        self._table = np.vstack([table, np.zeros((1, table.shape[1]), dtype=table.dtype)])
        self._tokens = _WordTokens(tokenizer)

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
            rows[start : start + BATCH] = self._sums(texts[start : start + BATCH])
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        np.divide(rows, norms, out=rows, where=norms > 0)
        return rows

    def _sums(self, texts: list[str]) -> np.ndarray:
        """Each text's mean token row (not normalised): see the module."""
        every: list[str] = []  # each text's words, text after text
        lengths = np.zeros(len(texts), dtype=np.int64)
        for row, text in enumerate(texts):
            words = [text] if _SPECIAL.search(text) else _words(text)
            every.extend(words)
            lengths[row] = len(words)
        columns, ids, token_counts = self._tokens.of(every)
        np.clip(ids, 0, len(self._table) - 2, out=ids)  # a token id the table lacks
        word_sums = _ragged_sums(self._table, ids, token_counts)
        word_sums = np.vstack([word_sums, np.zeros((1, word_sums.shape[1]), np.float32)])
        sums = _ragged_sums(word_sums, columns, lengths)
        per_text = np.bincount(
            np.repeat(np.arange(len(texts)), lengths),
            weights=token_counts[columns],
            minlength=len(texts),
        )[:, None]
        np.divide(sums, per_text, out=sums, where=per_text > 0)
        return sums

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def article_text(title: str, body: str) -> str:
    """What of an article is embedded (ARTICLE_CHARACTERS)."""
    return f"{title}\n{body[:ARTICLE_CHARACTERS]}"


def semantic_enabled() -> bool:
    """Whether the service ranks by meaning (search.settings.SEMANTIC, default on)."""
    return settings.SEMANTIC.read()


def _package() -> Path | None:
    """The installed wordllama package's folder, None without it."""
    spec = importlib.util.find_spec("wordllama")
    return Path(spec.origin).parent if spec and spec.origin else None


@functools.cache
def load_embedder() -> TextEmbedder | None:
    """The packaged model, loaded once per process; None (and one log line) without it."""
    package = _package()
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
