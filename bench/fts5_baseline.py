"""The SQLite FTS5 baseline: the same articles and queries, answered the plain SQL way.

Index: one FTS5 table (porter stemmer, accents folded) for title, body and
authors, an ``articles`` table for the rest, and one (doc, value) table per
facet. Search, for page 1 of one /api/search query string: the query's words
OR-ed (the same stop words dropped), BM25 with the title weighted 2, region
and theme counts by GROUP BY with every other selection applied (disjunctive,
as ours), the total, FTS5 snippets for the ten hits, and a spelling
suggestion from the FTS5 vocabulary when a word is unknown.

Run as a script to index: ``fts5_baseline.py index CORPUS DB`` (a fresh
database) or ``fts5_baseline.py update CORPUS DB`` (the no-change re-run:
read and hash every article, write only what changed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import sys
from pathlib import Path
from urllib.parse import parse_qsl

from whoosh.analysis import STOP_WORDS

_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))'
)
_WORD = re.compile(r"\w+")
FIELD_COLUMNS = {"title": "title", "author": "authors"}
FACETS = {"region": "regions", "theme": "themes"}
SNIPPET_TOKENS = 32

SCHEMA = """
CREATE TABLE articles(
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE, hash TEXT, url TEXT, title TEXT, source TEXT,
    date INTEGER, authors TEXT, regions TEXT, themes TEXT, reports TEXT);
CREATE VIRTUAL TABLE fts USING fts5(
    title, body, authors, tokenize = 'porter unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'row');
CREATE TABLE regions(doc INTEGER, value TEXT);
CREATE TABLE themes(doc INTEGER, value TEXT);
"""
INDEXES = """
CREATE INDEX articles_date ON articles(date);
CREATE INDEX regions_value ON regions(value, doc);
CREATE INDEX regions_doc ON regions(doc, value);
CREATE INDEX themes_value ON themes(value, doc);
CREATE INDEX themes_doc ON themes(doc, value);
"""


def _line_hash(line: bytes) -> str:
    return hashlib.blake2b(line, digest_size=16).hexdigest()


def _ordinal(date: str | None) -> int | None:
    return dt.date.fromisoformat(date).toordinal() if date else None


def build(corpus: Path, db: Path) -> int:
    """A fresh database of every article in ``corpus``; returns how many."""
    db = Path(db)
    db.unlink(missing_ok=True)
    connection = sqlite3.connect(db)
    connection.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + SCHEMA)
    count = 0
    with connection, Path(corpus).open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            a = json.loads(line)
            count += 1
            authors = ", ".join(a.get("authors") or ())
            connection.execute(
                "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    count,
                    a["id"],
                    _line_hash(line),
                    a.get("url"),
                    a.get("title") or "",
                    a.get("source"),
                    _ordinal(a.get("date")),
                    json.dumps(a.get("authors") or []),
                    json.dumps(a.get("regions") or []),
                    json.dumps(a.get("themes") or []),
                    json.dumps(a.get("reports") or []),
                ),
            )
            connection.execute(
                "INSERT INTO fts(rowid, title, body, authors) VALUES (?,?,?,?)",
                (count, a.get("title") or "", a.get("body") or "", authors),
            )
            for facet in ("regions", "themes"):
                connection.executemany(
                    f"INSERT INTO {facet} VALUES (?, ?)", [(count, v) for v in a.get(facet) or ()]
                )
        connection.executescript(INDEXES)
        connection.execute("INSERT INTO fts(fts) VALUES ('optimize')")
    connection.close()
    return count


def update(corpus: Path, db: Path) -> tuple[int, int]:
    """The no-change re-run: hash every article, compare; returns (unchanged, changed)."""
    connection = sqlite3.connect(db)
    known = dict(connection.execute("SELECT id, hash FROM articles"))
    unchanged = changed = 0
    with Path(corpus).open("rb") as lines:
        for line in lines:
            if line.strip():
                article_id = json.loads(line)["id"]
                if known.get(article_id) == _line_hash(line):
                    unchanged += 1
                else:
                    changed += 1  # a real indexer would write it; the benchmark has none
    connection.close()
    return unchanged, changed


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def _quoted(words: list[str]) -> str:
    return '"' + " ".join(words) + '"'


class Fts5Search:
    """Answers /api/search query strings (page 1) from a baseline database."""

    def __init__(self, db: Path):
        self.connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
        self.connection.execute("PRAGMA temp_store = MEMORY")
        self.connection.execute("CREATE TEMP TABLE base(doc INTEGER PRIMARY KEY)")

    def _parse(
        self, q: str, prefix_last: bool = False
    ) -> tuple[str | None, list[str], dict[str, list[str]]]:
        """(FTS5 MATCH expression or None to browse, plain words, facet values required).

        With ``prefix_last``, a last plain word with no space after it is a prefix
        query (``"pre" *``), FTS5's own way of searching as the reader types.
        """
        positive, negative, words = [], [], []
        required: dict[str, list[str]] = {"regions": [], "themes": []}
        matches = list(_TOKEN.finditer(q))
        for match in matches:
            if match["word"] == "OR":
                continue  # words are OR-ed anyway
            field = (match["field"] or "").lower()
            value = match["phrase"] if match["phrase"] is not None else match["word"]
            if field in ("region", "theme"):
                required[FACETS[field]].append(value)
                continue
            pieces = [w for w in _WORD.findall(value.lower()) if w not in STOP_WORDS]
            pieces = [w for w in pieces if len(w) > 1]
            if not pieces:
                continue
            if match["phrase"] is not None:
                expression = _quoted(pieces)
            else:
                expression = " AND ".join(_quoted([p]) for p in pieces)
                typing = prefix_last and match is matches[-1] and q[-1:].isalnum()
                if typing and not field and not match["neg"]:
                    expression += " *"
            if field in FIELD_COLUMNS:
                expression = f"{FIELD_COLUMNS[field]} : ({expression})"
            if match["neg"]:
                negative.append(f"({expression})")
            else:
                positive.append(f"({expression})")
                if not field:
                    words.extend(pieces)
        if not positive:
            return None, words, required
        expression = " OR ".join(positive)
        if negative:
            expression = f"({expression}) NOT ({' OR '.join(negative)})"
        return expression, words, required

    def _known(self, word: str) -> bool:
        found = self.connection.execute(
            "SELECT 1 FROM fts WHERE fts MATCH ? LIMIT 1", (_quoted([word]),)
        ).fetchone()
        return found is not None

    def _correct(self, word: str) -> str | None:
        if len(word) < 3 or not word.isalpha():
            return None
        rows = self.connection.execute(
            "SELECT term, doc FROM vocab WHERE term >= ? AND term < ?",
            (word[0], chr(ord(word[0]) + 1)),
        )
        best = None
        for term, docs in rows:
            if abs(len(term) - len(word)) > 2 or term == word:
                continue
            distance = _edit_distance(word, term)
            if distance <= 2 and (best is None or (distance, -docs) < best[:2]):
                best = (distance, -docs, term)
        return best[2] if best else None

    def search(self, query_string: str, prefix_last: bool = False) -> dict:
        params = parse_qsl(query_string, keep_blank_values=True)
        get = dict(params)
        selected = {
            "regions": [v for k, v in params if k == "region"],
            "themes": [v for k, v in params if k == "theme"],
        }
        expression, words, required = self._parse(get.get("q", ""), prefix_last)
        conditions, args = [], []
        if get.get("from"):
            conditions.append("a.date >= ?")
            args.append(_ordinal(get["from"]))
        if get.get("to"):
            conditions.append("a.date <= ?")
            args.append(_ordinal(get["to"]))
        for facet, values in required.items():
            if values:  # region:/theme: typed in the query (case ignored)
                marks = ",".join("?" * len(values))
                conditions.append(
                    f"a.rowid IN (SELECT doc FROM {facet} WHERE lower(value) IN ({marks}))"
                )
                args.extend(v.lower() for v in values)
        where = " AND ".join(conditions) or "1"
        db = self.connection
        db.execute("DELETE FROM base")
        if expression:
            db.execute(
                "INSERT INTO base SELECT fts.rowid FROM fts JOIN articles a ON a.rowid = fts.rowid "
                f"WHERE fts MATCH ? AND {where}",
                [expression, *args],
            )
        else:
            db.execute(f"INSERT INTO base SELECT a.rowid FROM articles a WHERE {where}", args)

        def selection(facet: str) -> tuple[str, list[str]]:
            values = selected[facet]
            if not values:
                return "1", []
            marks = ",".join("?" * len(values))
            return f"b.doc IN (SELECT doc FROM {facet} WHERE value IN ({marks}))", values

        region_sel, region_args = selection("regions")
        theme_sel, theme_args = selection("themes")
        facets = {}
        counted = (
            (
                ("region", "regions", (theme_sel, theme_args)),
                ("theme", "themes", (region_sel, region_args)),
            )
            if get.get("counts") != "0"  # counts=0: no facet counts, as article-search
            else ()
        )
        for name, facet, (sel, sel_args) in counted:
            counts = dict(
                db.execute(
                    f"SELECT f.value, count(*) FROM base b JOIN {facet} f ON f.doc = b.doc "
                    f"WHERE {sel} GROUP BY f.value",
                    sel_args,
                )
            )
            for value in selected[facet]:
                counts.setdefault(value, 0)
            ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold()))
            facets[name] = [
                {"value": v, "count": c, "selected": v in selected[facet]} for v, c in ordered
            ]
        final = f"{region_sel} AND {theme_sel}"
        final_args = region_args + theme_args
        total = db.execute(f"SELECT count(*) FROM base b WHERE {final}", final_args).fetchone()[0]

        # The ten hits first, then their rows and snippets (a snippet costs a
        # re-tokenisation: only for the hits shown).
        sort = get.get("sort", "relevance")
        if expression and sort == "relevance":
            top = db.execute(
                # CROSS JOIN: FTS5 drives, the filtered match set is looked up by key
                # (an IN (subquery) would run the MATCH once per listed row).
                "SELECT fts.rowid, bm25(fts, 2.0, 1.0, 1.0) AS score FROM fts "
                "CROSS JOIN base b ON b.doc = fts.rowid "
                f"WHERE fts MATCH ? AND {final} ORDER BY score LIMIT 10",
                [expression, *final_args],
            ).fetchall()
        else:
            order = "DESC" if sort != "oldest" else "ASC"
            top = db.execute(
                f"SELECT a.rowid, NULL FROM base b JOIN articles a ON a.rowid = b.doc "
                f"WHERE {final} ORDER BY a.date IS NULL, a.date {order}, a.rowid LIMIT 10",
                final_args,
            ).fetchall()
        rowids = [rowid for rowid, _ in top]
        marks = ",".join("?" * len(rowids))
        columns = "rowid, id, title, url, date, authors, regions, themes, reports"
        found = {
            row[0]: row[1:]
            for row in db.execute(
                f"SELECT {columns} FROM articles WHERE rowid IN ({marks})", rowids
            )
        }
        snippets = self._snippets(expression, rowids)
        rows = [(*found[rowid], snippets.get(rowid, ""), score) for rowid, score in top]
        results = [
            {
                "id": r[0],
                "title": r[1],
                "url": r[2],
                "date": dt.date.fromordinal(r[3]).isoformat() if r[3] else None,
                "authors": json.loads(r[4]),
                "regions": json.loads(r[5]),
                "themes": json.loads(r[6]),
                "reports": json.loads(r[7]),
                "snippet": r[8],
                "score": r[9],
            }
            for r in rows
        ]
        suggestion = None
        unknown = [w for w in words if not self._known(w)]
        if words and (total == 0 or unknown):
            corrections = {w: self._correct(w) for w in unknown}
            if any(corrections.values()):
                suggestion = " ".join(corrections.get(w) or w for w in words)
        return {
            "query": get.get("q", ""),
            "total": total,
            "page": 1,
            "per_page": 10,
            "results": results,
            "facets": facets,
            "suggestion": suggestion,
        }

    def _snippets(self, expression: str | None, rowids: list[int]) -> dict[int, str]:
        marks = ",".join("?" * len(rowids))
        if expression is None:
            rows = self.connection.execute(
                f"SELECT rowid, substr(body, 1, 240) FROM fts WHERE rowid IN ({marks})", rowids
            )
        else:
            rows = self.connection.execute(
                f"SELECT rowid, snippet(fts, 1, '<mark>', '</mark>', '…', {SNIPPET_TOKENS}) "
                f"FROM fts WHERE fts MATCH ? AND rowid IN ({marks})",
                [expression, *rowids],
            )
        return dict(rows)


def main(argv: list[str]) -> int:
    command, corpus, db = argv
    if command == "index":
        print(f"indexed {build(Path(corpus), Path(db))} articles")
    else:
        unchanged, changed = update(Path(corpus), Path(db))
        print(f"unchanged {unchanged}, changed {changed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
