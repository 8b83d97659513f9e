"""Related articles by meaning and by words: how often they share a theme with the article.

An article's page lists its related articles (``SearchEngine.related``): the
nearest in meaning, or, with ranking by meaning off, the articles most like
it by the key terms of its text. Reuters-21578 tags its stories with themes
("crude", "grain", "money-fx", ...): a related story that shares a theme with
the story is about the same kind of thing. For a fixed sample of the stories
that have a theme, this prints the share of their related articles that
share one, both ways, and the time each way took per article.

    .venv/bin/python bench/related_themes.py [--articles 300] [--index DIR]

Without ``--index`` the Reuters stories are imported into a temporary index
first (words, then vectors: about a minute).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from corpus import REUTERS
from harness import index_corpus

from search.engine import SearchEngine

RELATED = 5  # as the article page asks
SEED = 25


def themes_of(corpus: Path) -> dict[str, set[str]]:
    with corpus.open(encoding="utf-8") as lines:
        articles = (json.loads(line) for line in lines if line.strip())
        return {article["id"]: set(article.get("themes") or ()) for article in articles}


def share(index_dir: Path, themes: dict[str, set[str]], sample: list[str], semantic: bool):
    """(related articles sharing a theme, related articles, seconds per article)."""
    engine = SearchEngine(index_dir, semantic=semantic)
    shared = total = 0
    started = time.perf_counter()
    for article_id in sample:
        for hit in engine.related(article_id, RELATED):
            total += 1
            shared += bool(themes[article_id] & themes.get(hit.id, set()))
    return shared, total, (time.perf_counter() - started) / len(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=REUTERS, help="JSON Lines with themes")
    parser.add_argument("--articles", type=int, default=300, help="how many articles to ask")
    parser.add_argument("--index", type=Path, help="an index of the corpus (default: built)")
    args = parser.parse_args()
    themes = themes_of(args.corpus)
    sample = sorted(article_id for article_id, tags in themes.items() if tags)
    random.Random(SEED).shuffle(sample)
    sample = sample[: args.articles]
    with tempfile.TemporaryDirectory(prefix="related-") as work:
        index_dir = index_corpus(args.corpus, args.index, Path(work))
        print(f"{len(sample)} articles with a theme, {RELATED} related articles each")
        for semantic in (False, True):
            shared, total, seconds = share(index_dir, themes, sample, semantic)
            name = "by meaning" if semantic else "by words"
            print(
                f"{name:<11} {shared}/{total} share a theme: {shared / (total or 1):.3f}"
                f" ({seconds * 1000:.1f} ms an article)"
            )


if __name__ == "__main__":
    main()
