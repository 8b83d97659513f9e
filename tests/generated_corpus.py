"""Articles made up on the spot for reliability tests: any number, deterministic, varied.

Each article is a text-export file with a title, byline, source and date line,
regions, themes and a body of pseudo-words drawn from a large vocabulary (so
fuzzy and prefix work has many terms to walk). Nothing here is committed data.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

REGIONS = ("Europe", "Asia", "Africa", "Latin America", "Middle East", "North America", "Oceania")
THEMES = ("Trade", "Energy", "Health", "Elections", "Climate", "Labour", "Science", "Security")
# fmt: off
SYLLABLES = [
    "ka", "ri", "to", "ne", "sa", "mu", "lo", "ve", "di", "pa", "qui", "rho", "sten", "bar",
    "mel", "for", "gan", "tri", "zo", "cul", "ash", "ent", "ion", "ope", "ral", "vin", "dus",
    "tor", "lex", "ham", "ber", "gol", "pri", "cas", "mon", "tal",
]
# fmt: on


def vocabulary(size: int, seed: int = 7) -> list[str]:
    """``size`` distinct pseudo-words of two to four syllables."""
    rng = random.Random(seed)
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def article_text(
    number: int, words: list[str], rng: random.Random, paragraphs: tuple[int, int] = (2, 5)
) -> str:
    date = dt.date(2015, 1, 1) + dt.timedelta(days=number % 3000)
    title = " ".join(rng.choice(words) for _ in range(6)).capitalize()
    paragraphs = [
        " ".join(rng.choice(words) for _ in range(rng.randint(40, 90))).capitalize() + "."
        for _ in range(rng.randint(*paragraphs))
    ]
    regions = ", ".join(f"[{r}](#)" for r in rng.sample(REGIONS, rng.randint(1, 2)))
    themes = ", ".join(f"[{t}](#)" for t in rng.sample(THEMES, rng.randint(1, 2)))
    return (
        f"{title} number {number}\n\n"
        f"By [Writer {number % 97}](#)\n\n"
        f"Generated Wire, {date:%B} {date.day}, {date.year}\n\n"
        f"Region: {regions}\n\n"
        f"Theme: {themes}\n\n" + "\n\n".join(paragraphs) + "\n"
    )


def write_articles(
    folder: Path,
    count: int,
    *,
    start: int = 0,
    seed: int = 1,
    vocabulary_size: int = 20_000,
    paragraphs: tuple[int, int] = (2, 5),
) -> list[Path]:
    """Write articles ``start`` .. ``start + count - 1`` as ``folder/NNN/article-N.txt``.

    Each paragraph has 40 to 90 words; ``paragraphs`` is the range of their number.
    """
    words = vocabulary(vocabulary_size)
    rng = random.Random(seed * 1_000_003 + start)
    paths = []
    for number in range(start, start + count):
        path = Path(folder) / f"{number // 500:03d}" / f"article-{number:06d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_text(number, words, rng, paragraphs), encoding="utf-8")
        paths.append(path)
    return paths


def article_id(number: int) -> str:
    """The id the indexer gives article ``number`` when its folder is imported."""
    return f"{number // 500:03d}/article-{number:06d}.txt"
