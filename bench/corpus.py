"""Benchmark corpora: the Reuters-21578 articles, cut short or grown to a chosen size.

A grown ("scale") corpus repeats the source articles as new ones: copy ``k`` of
an article gets the id ``<id>~k``, its date shifted by ``k`` years, and a body
mixing its own paragraphs with those of other articles, so the vocabulary,
postings and facet values grow roughly like a real archive's instead of
repeating word for word. Same arguments, same file: the corpus is deterministic.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
REUTERS = SHARED / "corpora" / "reuters21578" / "articles.jsonl"
DAYS_PER_COPY = 365


def read_articles(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _paragraphs(article: dict) -> list[str]:
    return [p for p in (article.get("body") or "").split("\n\n") if p.strip()]


def _copy(articles: list[dict], index: int, copy: int, rng: random.Random) -> dict:
    """Copy ``copy`` (1, 2, ...) of ``articles[index]``: new id, shifted date, mixed text."""
    article = dict(articles[index])
    article["id"] = f"{article['id']}~{copy}"
    if article.get("date"):
        date = dt.date.fromisoformat(article["date"]) + dt.timedelta(days=DAYS_PER_COPY * copy)
        article["date"] = date.isoformat()
    own = _paragraphs(article)
    other = _paragraphs(articles[rng.randrange(len(articles))])
    # Keep the lead and every other paragraph; borrow the rest from another article.
    mixed = [other[i] if i % 2 and i < len(other) else p for i, p in enumerate(own)]
    article["body"] = "\n\n".join(mixed)
    return article


def write_corpus(source: Path, size: int, out: Path) -> Path:
    """Write ``size`` articles made from ``source`` to ``out`` (reused when already written)."""
    out = Path(out)
    stamp = out.with_suffix(".stamp")
    wanted = f"{Path(source).resolve()} {Path(source).stat().st_mtime_ns} {size} v1"
    if out.exists() and stamp.exists() and stamp.read_text() == wanted:
        return out
    articles = read_articles(source)
    rng = random.Random(size)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as file:
        for number in range(size):
            copy, index = divmod(number, len(articles))
            article = articles[index] if copy == 0 else _copy(articles, index, copy, rng)
            file.write(json.dumps(article, ensure_ascii=False) + "\n")
    stamp.write_text(wanted)
    return out


def count_articles(path: Path) -> int:
    with Path(path).open("rb") as lines:
        return sum(1 for line in lines if line.strip())
