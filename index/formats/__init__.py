"""Import formats: each module turns one kind of file into `search.article.Article` values.

`text_export` reads the site's one-article-per-file text export; `jsonl` reads JSON Lines.
A file (or line) that cannot become an article is an `ArticleFormatError` or an
`ImportProblem`, never an unexpected exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from search.article import NAME_FIELD_NAMES, Article

# Limits far above any real article, so a hostile or broken file is refused with a
# reason instead of exhausting the indexer (and every searcher after it).
MAX_ARTICLE_BYTES = 5 * 1024 * 1024  # one text-export file, or one JSON line
MAX_TITLE_LENGTH = 1000  # characters
MAX_VALUES = 100  # names in one of an article's fields of names (its authors, regions, ...)


class ArticleFormatError(ValueError):
    """A file that is not a valid article; the message is the human reason ("no title")."""


@dataclass(frozen=True)
class ImportProblem:
    """Why one file, or one line of a file, was not imported."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: {self.reason}"


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_limits(article: Article) -> Article:
    """Return ``article``, or raise ArticleFormatError when it is beyond a limit above."""
    if len(article.title) > MAX_TITLE_LENGTH:
        raise ArticleFormatError(
            f"title too long ({len(article.title):,} characters; at most {MAX_TITLE_LENGTH:,})"
        )
    for name in NAME_FIELD_NAMES:
        values = getattr(article, name)
        if len(values) > MAX_VALUES:
            raise ArticleFormatError(f"too many {name} ({len(values):,}; at most {MAX_VALUES})")
    return article
