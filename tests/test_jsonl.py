"""JSON Lines import: good lines become Articles, bad ones ImportProblems with line numbers."""

import datetime as dt
import json

import pytest

from index.formats import ImportProblem
from index.formats.jsonl import read_jsonl, title_from_body
from search.article import Article

GOOD = {
    "id": "demo-1",
    "url": "https://example.org/demo-1",
    "title": "Ministers Meet in Brussels",
    "authors": ["Jane Doe", "Ahmed Adel"],
    "source": "Demo Wire",
    "date": "2021-01-05",
    "regions": ["Europe", "Middle East & North Africa"],
    "themes": ["Law, Justice and Crime"],
    "reports": [],
    "body": "The ministers met on Tuesday.\n\nThey agreed on nothing.",
}


def write_lines(path, *lines):
    """Write JSON Lines: dicts are encoded, strings and bytes are written as they are."""
    with path.open("wb") as out:
        for line in lines:
            if isinstance(line, dict):
                line = json.dumps(line, ensure_ascii=False)
            if isinstance(line, str):
                line = line.encode("utf-8")
            out.write(line + b"\n")
    return path


def test_good_lines(tmp_path):
    second = {"id": "demo-2", "title": "Second", "body": ""}
    path = write_lines(tmp_path / "a.jsonl", GOOD, "", "   ", second)
    first, other = list(read_jsonl(path))
    assert first == Article(
        id="demo-1",
        title="Ministers Meet in Brussels",
        body="The ministers met on Tuesday.\n\nThey agreed on nothing.",
        url="https://example.org/demo-1",
        authors=("Jane Doe", "Ahmed Adel"),
        source="Demo Wire",
        date=dt.date(2021, 1, 5),
        regions=("Europe", "Middle East & North Africa"),
        themes=("Law, Justice and Crime",),
        reports=(),
    )
    assert first.source_file == str(path)
    assert other == Article(id="demo-2", title="Second")
    assert other.date is None and other.url is None and other.source is None


def test_round_trip_of_article_to_json(tmp_path):
    article = Article(
        id="x",
        title="T",
        body="B.",
        date=dt.date(2020, 2, 29),
        author_bio="Bio.",
        image_caption="Caption.",
    )
    path = write_lines(tmp_path / "a.jsonl", article.to_json())
    assert list(read_jsonl(path)) == [article]


def test_broken_line_in_the_middle(tmp_path):
    path = write_lines(
        tmp_path / "a.jsonl",
        GOOD,
        '{"id": "demo-2", "title": "Cut short',
        "",
        {**GOOD, "id": "demo-3"},
    )
    results = list(read_jsonl(path))
    assert [type(r) for r in results] == [Article, ImportProblem, Article]
    assert [r.id for r in results if isinstance(r, Article)] == ["demo-1", "demo-3"]
    problem = results[1]
    assert problem.line == 2
    assert problem.path == str(path)
    assert problem.reason.startswith("bad JSON: ")
    assert str(problem) == f"{path}:2: {problem.reason}"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[1, 2]", "not a JSON object but an array"),
        ('"just text"', "not a JSON object but a string"),
        ({"title": "No id"}, "missing id"),
        ({"id": None, "title": "No id"}, "missing id"),
        ({"id": "  ", "title": "Blank id"}, "empty id"),
        ({"id": 7, "title": "Number id"}, "id must be a string, not a number"),
        ({"id": "a", "title": ["T"]}, "title must be a string, not an array"),
        ({"id": "a", "title": "T", "body": 3}, "body must be a string, not a number"),
        (
            {"id": "a", "title": "T", "regions": "Europe"},
            "regions must be a list of strings, not a string",
        ),
        (
            {"id": "a", "title": "T", "authors": ["A", None]},
            "authors must be a list of strings, but item 2 is null",
        ),
        ({"id": "a", "title": "T", "url": True}, "url must be a string, not a boolean"),
        (
            {"id": "a", "title": "T", "date": 20210105},
            "date must be a string (YYYY-MM-DD), not a number",
        ),
        ({"id": "a", "title": "T", "date": "2021-02-30"}, "unparseable date '2021-02-30'"),
        ({"id": "a", "title": "T", "date": "March 3, 2021"}, "unparseable date 'March 3, 2021'"),
        ({"id": "a", "title": "", "body": ""}, "no title"),
    ],
)
def test_wrong_types_and_values(tmp_path, line, reason):
    path = write_lines(tmp_path / "a.jsonl", line, GOOD)
    problem, article = list(read_jsonl(path))
    assert problem == ImportProblem(str(path), reason, line=1)
    assert article.id == "demo-1"


def test_invalid_utf8_is_a_problem_for_that_line_only(tmp_path):
    bad = '{"id": "b", "title": "Caf\u00e9"}'.encode("latin-1")
    path = write_lines(tmp_path / "a.jsonl", GOOD, bad, {**GOOD, "id": "demo-3"})
    results = list(read_jsonl(path))
    assert results[1] == ImportProblem(str(path), "not UTF-8 text (byte 0xe9 at offset 25)", line=2)
    assert [r.id for r in results if isinstance(r, Article)] == ["demo-1", "demo-3"]


def test_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\r\n\r\n")
    (article,) = read_jsonl(path)
    assert article.id == "demo-1"


def test_missing_title_comes_from_the_body(tmp_path):
    untitled = {
        "id": "u",
        "title": "",
        "body": "U.S. DIVIDEND MEETINGS - MARCH 3 Mickelberry Corp Premier Industrial",
    }
    no_member = {"id": "v", "body": "FEDERAL RESERVE WEEKLY REPORT 1 - FEB 26\n\nTwo weeks ended"}
    path = write_lines(tmp_path / "a.jsonl", untitled, no_member)
    first, second = list(read_jsonl(path))
    assert first.title == "U.S"
    assert first.body == untitled["body"]
    assert second.title == "FEDERAL RESERVE WEEKLY REPORT 1 - FEB 26"


@pytest.mark.parametrize(
    ("body", "title"),
    [
        (
            "FEDERAL RESERVE WEEKLY REPORT 1 - FEB 26\n\nTwo weeks",
            "FEDERAL RESERVE WEEKLY REPORT 1 - FEB 26",
        ),
        ("U.K. MONEY MARKET GIVEN 451 MLN STG HELP LONDON, March 16 - The", "U.K"),
        ("N.Y. GRAIN FREIGHTS - April 1\n\nTradax took", "N.Y"),
        (
            "161125******S/P DOWNGRADES DENMARK'S 17.6 BILLION U.S. DLRS",
            "161125******S/P DOWNGRADES DENMARK'S 17.6 BILLION U.S",
        ),
        ("A" * 99 + " BCD", "A" * 99),
        ("  \n", ""),
    ],
)
def test_title_from_body(body, title):
    assert title_from_body(body) == title


def test_wrapped_title_is_one_line(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", {"id": "w", "title": "Sun Alliance Profit For\n1986 "})
    (article,) = read_jsonl(path)
    assert article.title == "Sun Alliance Profit For 1986"
