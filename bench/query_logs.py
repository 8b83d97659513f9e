"""The searches the benchmarks ask, and the states of typing them.

bench/queries.txt holds query strings as /api/search takes them (page 1 of a
search, facets and dates included); bench/typing_queries.txt holds searches as
a reader types them, which ``mid_word_states`` and ``typo_variants`` cut and
mistype.
"""

from __future__ import annotations

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
QUERY_LOG = BENCH_DIR / "queries.txt"
TYPING_LOG = BENCH_DIR / "typing_queries.txt"
MIN_CUT = 3
TYPO_LETTERS = 5


def read_query_log(path: Path) -> list[str]:
    """The log's lines, stripped, without blank lines and # comments."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def mid_word_states(query: str) -> list[tuple[str, str]]:
    """(state, finished): each cut of a word after MIN_CUT+ letters, and that word finished."""
    words = query.split()
    states = []
    for number, word in enumerate(words):
        before = " ".join(words[:number] + [""])
        for cut in range(MIN_CUT, len(word)):
            states.append((before + word[:cut], before + word + " "))
    return states


def typo_variants(query: str) -> list[tuple[str, str]]:
    """(mistyped, right): each word of TYPO_LETTERS+ letters swapped, dropped, doubled."""
    words = query.split()
    found = []
    for number, word in enumerate(words):
        if len(word) < TYPO_LETTERS:
            continue
        middle = len(word) // 2
        mistakes = {
            word[: middle - 1] + word[middle] + word[middle - 1] + word[middle + 1 :],  # swap
            word[:middle] + word[middle + 1 :],  # drop
            word[:middle] + word[middle] + word[middle:],  # double
        }
        for mistake in sorted(mistakes - {word}):
            found.append((" ".join(words[:number] + [mistake] + words[number + 1 :]), query))
    return found
