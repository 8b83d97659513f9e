"""Benchmark corpora: the Reuters-21578 articles, cut short or grown to a chosen size.

A grown ("scale") corpus repeats the source articles as new ones and gives
the archive the facet values a real one has:

- copy ``k`` of an article gets the id ``<id>~k`` and a body mixing its own
  paragraphs with those of other articles, so the vocabulary and postings
  grow roughly like a real archive's instead of repeating word for word;
- every article of a grown corpus gets its authors from about 25,000 and,
  one in six, an in-depth report from about 2,000, each drawn from a
  long-tailed (Zipf-Mandelbrot) spread: a few names in thousands of articles,
  most in a handful; most articles have one author, a few two or three;
- copies are dated over 30 years from the source's first date;
- regions and themes stay the source article's own.

Same arguments, same file: the corpus is deterministic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import random
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
REUTERS = SHARED / "corpora" / "reuters21578" / "articles.jsonl"
CORPUS_VERSION = "v2"
YEARS = 30
AUTHORS = 25_000
REPORTS = 2_000
AUTHORS_PER_ARTICLE = {1: 0.85, 2: 0.12, 3: 0.03}
REPORT_SHARE = 1 / 6
# Zipf-Mandelbrot weight 1 / (rank + SHIFT) ** EXPONENT: the shift keeps the
# first names from taking a tenth of the archive (at a million articles the
# busiest author has about 3,700, the last ones a few each).
EXPONENT = 1.0
AUTHOR_SHIFT = 50
REPORT_SHIFT = 5

FIRST_NAMES_TEXT = """Aaron Abigail Adam Adele Aditi Ahmed Aisha Alan Alberto Alejandra Alexei
Alice Amara Amir Ana Andrea Andrew Anil Anna Antoine Arjun Astrid Ayesha Barbara Beatriz
Ben Bianca Boris Brian Camille Carlos Carmen Catherine Chen Chiara Chloe Chris Claire
Daniel Dara David Deepa Diego Dmitri Eduardo Elena Eliza Emeka Emily Emma Erik Esther
Fatima Felix Fernando Fiona Francesca Gabriel Georg Grace Hana Hannah Hassan Heidi Helen
Hiroshi Hugo Ibrahim Ines Ingrid Isaac Ivan Jack James Jana Javier Jean Jin Joanna Johan
John Jorge Jose Julia Kamal Karen Kate Kenji Kofi Lars Laura Leila Lena Leo Li Lina Lucas
Lucia Luis Maria Marta Martin Maya Mehmet Mei Michael Miguel Mira Mohammed Nadia Naomi
Nikolai Nina Noah Nora Olga Omar Oscar Pablo Paolo Patricia Paul Pedro Peter Pia Priya
Rafael Rahul Rana Raquel Ravi Rosa Ruth Sakura Samir Sara Sean Sergei Shira Simon Sofia
Sophie Stefan Sunil Tariq Teresa Thomas Tomas Uma Valentina Victor Vikram Wei William Xin
Yara Yasmin Yusuf Zara Zoe"""
LAST_NAMES_TEXT = """Abbott Adeyemi Ahmadi Alvarez Andersen Anand Baker Banerjee Barros Becker
Bianchi Bose Brennan Brooks Castro Chandra Chang Chen Costa Cruz Dahl Das Delgado Diaz
Dubois Duarte Eriksen Evans Farah Fischer Flores Fontaine Garcia Ghosh Gomez Gonzalez Gupta
Haddad Hansen Hartmann Hayes Herrera Hoffmann Horvat Hughes Ibrahim Ivanov Jensen Johansson
Kaplan Kato Keller Khan Kim Klein Kowalski Kumar Larsen Laurent Lee Lindqvist Lopez Mahmoud
Marino Martins Mendes Meyer Moreau Morris Murphy Nakamura Nguyen Novak Okafor Okonkwo Olsen
Ortiz Osei Park Patel Pereira Petrov Popescu Quinn Rahman Ramos Reyes Ricci Rivera Romano
Rossi Ruiz Saito Sanchez Santos Schmidt Schneider Sharma Silva Singh Sokolov Sorensen
Suzuki Tanaka Torres Tran Varga Vasquez Vogel Wagner Walsh Wang Weber Wong Yamamoto Yilmaz
Young Zhang Zimmermann"""
REPORT_SUBJECTS_TEXT = """Crisis Elections Economy Energy Trade Water Migration Climate Health
Security Debt Food Labour Mining Media Courts Transport Housing Oil Farming"""
FIRST_NAMES = FIRST_NAMES_TEXT.split()
LAST_NAMES = LAST_NAMES_TEXT.split()
REPORT_SUBJECTS = REPORT_SUBJECTS_TEXT.split()


def read_articles(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _paragraphs(article: dict) -> list[str]:
    return [p for p in (article.get("body") or "").split("\n\n") if p.strip()]


def _names(candidates: list[str], count: int, seed: str) -> list[str]:
    """``count`` distinct names from ``candidates``, in a fixed shuffled order (rank 1 first)."""
    names = sorted(set(candidates))
    random.Random(seed).shuffle(names)
    if len(names) < count:
        raise ValueError(f"only {len(names)} distinct names for {count}")
    return names[:count]


def author_names(count: int = AUTHORS) -> list[str]:
    """``count`` made-up bylines: first and last names, a middle initial for the rest."""
    pairs = [f"{first} {last}" for first, last in itertools.product(FIRST_NAMES, LAST_NAMES)]
    initials = [
        f"{first} {initial}. {last}"
        for first, initial, last in itertools.product(FIRST_NAMES, "ABCDEHJKLMRST", LAST_NAMES)
    ]
    return _names(pairs, min(count, len(pairs)), "authors") + _names(
        initials, max(0, count - len(pairs)), "initials"
    )


def report_names(regions: list[str], count: int = REPORTS) -> list[str]:
    """``count`` in-depth reports: a region and a subject ("Canada Energy Report")."""
    pairs = list(itertools.product(regions, REPORT_SUBJECTS))
    series = range(1, count // len(pairs) + 2)  # numbered when the regions are too few
    candidates = [f"{r} {s} Report" + (f" {n}" if n > 1 else "") for n in series for r, s in pairs]
    return _names(candidates[: max(count, len(pairs))], count, "reports")


def _zipf_cumulative(count: int, shift: int) -> list[float]:
    return list(
        itertools.accumulate(1 / (rank + shift) ** EXPONENT for rank in range(1, count + 1))
    )


class FacetDrawer:
    """Draws each article's authors and report from long-tailed spreads."""

    def __init__(self, articles: list[dict], rng: random.Random):
        self.rng = rng
        regions = sorted({r for a in articles for r in a.get("regions") or ()})
        self.authors = author_names()
        self.reports = report_names(regions or ["World"])
        self.author_weights = _zipf_cumulative(len(self.authors), AUTHOR_SHIFT)
        self.report_weights = _zipf_cumulative(len(self.reports), REPORT_SHIFT)
        self.author_counts = list(AUTHORS_PER_ARTICLE)
        self.author_count_weights = list(itertools.accumulate(AUTHORS_PER_ARTICLE.values()))

    def authors_of_one(self) -> list[str]:
        wanted = self.rng.choices(self.author_counts, cum_weights=self.author_count_weights)[0]
        chosen: list[str] = []
        while len(chosen) < wanted:
            name = self.rng.choices(self.authors, cum_weights=self.author_weights)[0]
            if name not in chosen:
                chosen.append(name)
        return chosen

    def reports_of_one(self) -> list[str]:
        if self.rng.random() >= REPORT_SHARE:
            return []
        return self.rng.choices(self.reports, cum_weights=self.report_weights)

    def date_of_copy(self, first: dt.date) -> str:
        return (first + dt.timedelta(days=self.rng.randrange(YEARS * 365))).isoformat()


def _copy(articles: list[dict], index: int, copy: int, rng: random.Random) -> dict:
    """Copy ``copy`` (1, 2, ...) of ``articles[index]``: a new id and mixed text."""
    article = dict(articles[index])
    article["id"] = f"{article['id']}~{copy}"
    own = _paragraphs(article)
    other = _paragraphs(articles[rng.randrange(len(articles))])
    # Keep the lead and every other paragraph; borrow the rest from another article.
    mixed = [other[i] if i % 2 and i < len(other) else p for i, p in enumerate(own)]
    article["body"] = "\n\n".join(mixed)
    return article


def _first_date(articles: list[dict]) -> dt.date:
    dates = [a["date"] for a in articles if a.get("date")]
    return dt.date.fromisoformat(min(dates)) if dates else dt.date(1990, 1, 1)


def write_corpus(source: Path, size: int, out: Path) -> Path:
    """Write ``size`` articles made from ``source`` to ``out`` (reused when already written).

    A size up to the source's cuts it short, unchanged; a larger one grows it
    into a scale corpus (see the module's docstring). Whether it is written
    already is told by the source's content, not its modification time: a
    source copied or restored anew must not rewrite the corpus, whose new
    modification time would make an index built from it read it all again.
    """
    out = Path(out)
    stamp = out.with_suffix(".stamp")
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    wanted = f"{Path(source).resolve()} {digest} {size} {CORPUS_VERSION}"
    if out.exists() and stamp.exists() and stamp.read_text() == wanted:
        return out
    articles = read_articles(source)
    rng = random.Random(size)
    grown = size > len(articles)
    drawer = FacetDrawer(articles, random.Random(f"facets {size}")) if grown else None
    first = _first_date(articles)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as file:
        for number in range(size):
            copy, index = divmod(number, len(articles))
            article = articles[index] if copy == 0 else _copy(articles, index, copy, rng)
            if drawer is not None:
                article = dict(article, authors=drawer.authors_of_one())
                article["reports"] = drawer.reports_of_one()
                if copy and article.get("date"):
                    article["date"] = drawer.date_of_copy(first)
            file.write(json.dumps(article, ensure_ascii=False) + "\n")
    stamp.write_text(wanted)
    return out


def count_articles(path: Path) -> int:
    with Path(path).open("rb") as lines:
        return sum(1 for line in lines if line.strip())
