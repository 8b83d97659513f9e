"""Import formats: each module turns one kind of file into `search.article.Article` values.

`text_export` reads the site's one-article-per-file text export; `jsonl` reads JSON Lines.
A file (or line) that cannot become an article is an `ArticleFormatError` or an
`ImportProblem`, never an unexpected exception.
"""

from __future__ import annotations

from dataclasses import dataclass


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
