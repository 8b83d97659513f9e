"""The judged collections bench/relevance.py measures ranking on: documents, requests, judgements.

- Cranfield (``../shared/corpora/cranfield``): 1,398 aeronautics abstracts, 225
  requests, graded judgements (gain 5 - code for codes 1..4).
- CACM (``../shared/corpora/cacm``): 3,204 Communications of the ACM articles,
  half of them a title alone, 52 judged requests, binary judgements.
- Reuters news (``bench/news_judged.json`` over ``../shared/corpora/reuters21578``):
  21,578 newswire stories, requests and graded judgements written for this
  project by reading the stories (see that file's ``about``).

Each becomes documents in the project's JSON Lines import format, so the
benchmark imports them as an operator would.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

SHARED_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
NEWS_JUDGEMENTS = Path(__file__).resolve().parent / "news_judged.json"
_MONTHS = {datetime.date(2000, number, 1).strftime("%B"): number for number in range(1, 13)}


@dataclass
class Collection:
    """Documents (JSON Lines records), requests by number, judgements {number: {id: gain}}."""

    name: str
    documents: list[dict] | Path  # records, or a JSON Lines file to import as it is
    queries: dict[int, str]
    judgements: dict[int, dict[str, int]] = field(default_factory=dict)
    # request -> every document read for it, relevant or not (when the set records them)
    assessed: dict[int, set[str]] = field(default_factory=dict)

    def judged_queries(self) -> list[int]:
        """The requests with at least one relevant document: the ones a metric is defined for."""
        return [number for number in self.queries if self.judgements.get(number)]

    def texts(self) -> list[tuple[str, str, str]]:
        """(id, title, body) of every document, for the FTS5 baseline."""
        if isinstance(self.documents, Path):
            with self.documents.open(encoding="utf-8") as lines:
                records = [json.loads(line) for line in lines if line.strip()]
        else:
            records = self.documents
        return [(r["id"], r.get("title") or "", r.get("body") or "") for r in records]


def read_smart(path: Path, keep_lines: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Records of a SMART-format file: ``.I n`` starts one, ``.X`` starts its field X.

    Fields are joined into one line of single spaces, but those named in
    ``keep_lines`` keep one entry per line (joined by newlines).
    """
    records: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] = {}
    name = ""
    for line in Path(path).read_text(encoding="latin-1").splitlines():
        marker = re.match(r"\.([A-Z])(?:\s+(.*))?$", line)
        if marker and marker[1] == "I":
            current = {"I": [marker[2].strip()]}
            records.append(current)
            name = ""
        elif marker:
            name = marker[1]
            current.setdefault(name, [])
        elif name:
            current[name].append(line)
    return [
        {
            key: "\n".join(s for s in (" ".join(x.split()) for x in lines) if s)
            if key in keep_lines
            else " ".join(" ".join(lines).split())
            for key, lines in record.items()
        }
        for record in records
    ]


def _limit(queries: dict[int, str], max_queries: int | None) -> dict[int, str]:
    return queries if max_queries is None else dict(list(queries.items())[:max_queries])


def load_cranfield(
    corpus: Path = SHARED_CORPORA / "cranfield",
    max_docs: int | None = None,
    max_queries: int | None = None,
) -> Collection:
    """cran.all.1400, cran.qry and cranqrel; optionally only the first docs/queries."""
    corpus = Path(corpus)
    documents = []
    for record in read_smart(corpus / "cran.all.1400")[:max_docs]:
        if not (record.get("T") or record.get("W")):
            continue  # two empty records (471, 995): nothing to import, never relevant
        author = record.get("A", "")
        documents.append(
            {
                "id": str(int(record["I"])),
                "title": record.get("T", ""),
                "authors": [author] if author else [],
                "source": "Cranfield",
                "body": record.get("W", ""),
            }
        )
    # cranqrel numbers the queries 1..225 by their position, not by their .I numbers.
    queries = {
        number: record.get("W", "")
        for number, record in enumerate(read_smart(corpus / "cran.qry"), start=1)
    }
    queries = _limit(queries, max_queries)
    present = {d["id"] for d in documents}
    judgements: dict[int, dict[str, int]] = {}
    for line in (corpus / "cranqrel").read_text().splitlines():
        if not line.strip():
            continue
        query, doc, code = (int(x) for x in line.split())
        if query in queries and 1 <= code <= 4 and str(doc) in present:
            judgements.setdefault(query, {})[str(doc)] = 5 - code
    return Collection("Cranfield", documents, queries, judgements)


def _cacm_date(issue: str) -> str | None:
    """``CACM December, 1958`` -> ``1958-12-01`` (the issue's month)."""
    found = re.search(r"([A-Z][a-z]+),?\s+(\d{4})", issue)
    if not found or found[1] not in _MONTHS:
        return None
    return f"{found[2]}-{_MONTHS[found[1]]:02d}-01"


def load_cacm(
    corpus: Path = SHARED_CORPORA / "cacm",
    max_docs: int | None = None,
    max_queries: int | None = None,
) -> Collection:
    """cacm.all (title, abstract, authors, issue month), query.text and qrels.text (gain 1)."""
    corpus = Path(corpus)
    documents = []
    for record in read_smart(corpus / "cacm.all", keep_lines=("A",))[:max_docs]:
        authors = [a for a in record.get("A", "").split("\n") if a]
        documents.append(
            {
                "id": str(int(record["I"])),
                "title": record.get("T", ""),
                "authors": authors,
                "source": "CACM",
                "date": _cacm_date(record.get("B", "")),
                "body": record.get("W", ""),
            }
        )
    queries = {int(r["I"]): r.get("W", "") for r in read_smart(corpus / "query.text")}
    queries = _limit(queries, max_queries)
    present = {d["id"] for d in documents}
    judgements: dict[int, dict[str, int]] = {}
    for line in (corpus / "qrels.text").read_text().splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        query, doc = int(parts[0]), str(int(parts[1]))
        if query in queries and doc in present:
            judgements.setdefault(query, {})[doc] = 1
    return Collection("CACM", documents, queries, judgements)


def load_news(
    articles: Path = SHARED_CORPORA / "reuters21578" / "articles.jsonl",
    judged: Path = NEWS_JUDGEMENTS,
    max_queries: int | None = None,
) -> Collection:
    """Reuters-21578's stories as they are, with the requests and judgements of ``judged``."""
    if not Path(articles).is_file():
        raise FileNotFoundError(2, "no such file", str(articles))
    data = json.loads(Path(judged).read_text(encoding="utf-8"))
    queries = _limit({int(q["number"]): q["q"] for q in data["queries"]}, max_queries)
    judgements = {
        int(q["number"]): {doc: int(gain) for doc, gain in q["judgements"].items() if int(gain) > 0}
        for q in data["queries"]
        if int(q["number"]) in queries
    }
    assessed = {int(q["number"]): set(q["judgements"]) for q in data["queries"]}
    return Collection("Reuters news", Path(articles), queries, judgements, assessed)


COLLECTIONS = {"cranfield": load_cranfield, "cacm": load_cacm, "news": load_news}
