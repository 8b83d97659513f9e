"""Reuters-21578 in both import formats: the text export and the JSON Lines agree.

The corpus (../shared/corpora/reuters21578) holds every story twice: as
``text/NN/reuters-ID.txt`` in the site's text export and as a line of ``articles.jsonl``.
"""

import datetime as dt
import random
from pathlib import Path

import pytest

from index.formats import ArticleFormatError, ImportProblem
from index.formats.jsonl import read_jsonl
from index.formats.text_export import read_text_export
from search.article import Article

pytestmark = pytest.mark.slow

STORIES = 21578
SAMPLE_SIZE = 300
# Stories worth comparing every time: an author, two authors in one byline link, no title
# (title made from the body, cut at ". "), a headline wrapped onto two lines, no date line,
# a "- - - -" separated round-up, and a trailing "." line.
KNOWN_ODD = [
    "reuters-4",
    "reuters-3020",
    "reuters-99",
    "reuters-993",
    "reuters-934",
    "reuters-4799",
    "reuters-6484",
    "reuters-17192",
    "reuters-13692",
    "reuters-5749",
]
# The one story with neither title nor body: its text export starts with the date line.
EMPTY_STORY = "reuters-12793"


@pytest.fixture(scope="module")
def json_articles(reuters_dir) -> dict[str, Article]:
    """Every line of articles.jsonl, by story id (problems by the id their line carries)."""
    path = reuters_dir / "articles.jsonl"
    results = list(read_jsonl(path))
    problems = [r for r in results if isinstance(r, ImportProblem)]
    assert problems == []
    return {r.id: r for r in results}


def text_path(reuters_dir: Path, story_id: str) -> Path:
    number = int(story_id.removeprefix("reuters-"))
    return reuters_dir / "text" / f"{number // 1000:02d}" / f"{story_id}.txt"


def words(text: str) -> str:
    return " ".join(text.split())


def test_json_lines_read_completely(json_articles):
    assert len(json_articles) == STORIES


def test_sampled_stories_agree_between_formats(reuters_dir, json_articles):
    ids = [f"reuters-{n}" for n in range(1, STORIES + 1) if f"reuters-{n}" != EMPTY_STORY]
    sample = random.Random(1987).sample(ids, SAMPLE_SIZE)
    mismatches = []
    for story_id in dict.fromkeys(KNOWN_ODD + sample):
        from_text = read_text_export(text_path(reuters_dir, story_id), story_id)
        from_json = json_articles[story_id]
        assert isinstance(from_json, Article), story_id
        for name in ("title", "date", "authors", "regions", "themes", "reports", "source"):
            text_value, json_value = getattr(from_text, name), getattr(from_json, name)
            if name == "source" and from_text.date is None:
                # Source and date share one line; a story without a date has neither.
                json_value = None
            if text_value != json_value:
                mismatches.append((story_id, name, text_value, json_value))
        # The text body is the JSON body with the wire dateline ("LONDON, March 3 - ") in
        # front; paragraphs the text parser rejoined differ only in whitespace, and a last
        # paragraph of only "." is dropped from the text body as a separator.
        text_words = words(from_text.body).removesuffix(" .")
        if not text_words.endswith(words(from_json.body).removesuffix(" .")):
            mismatches.append((story_id, "body", from_text.body[:80], from_json.body[:80]))
    assert mismatches == []


def test_story_without_a_date_line(reuters_dir, json_articles):
    story = read_text_export(text_path(reuters_dir, "reuters-17192"), "reuters-17192")
    assert story.title == "Kumagai Gumi'S Unit Seeks Listing In Hong Kong"
    assert (story.date, story.source, story.regions) == (None, None, ("Hong Kong",))
    assert json_articles["reuters-17192"].source == "Reuters"


def test_titles_made_from_the_body_match(reuters_dir, json_articles):
    for story_id, title in [
        ("reuters-99", "FEDERAL RESERVE WEEKLY REPORT 1 - FEB 26"),
        ("reuters-993", "U.S"),
        (
            "reuters-1549",
            "MIDLAND RIGHTS ISSUE STILL EXPECTED SAY ANALYSTS LONDON, "
            "March 4 - Midland Bank Plc's <MDBL.L> 1986",
        ),
    ]:
        from_text = read_text_export(text_path(reuters_dir, story_id), story_id)
        assert from_text.title == json_articles[story_id].title == title


def test_every_text_file_parses(reuters_dir, json_articles):
    paths = sorted((reuters_dir / "text").glob("*/reuters-*.txt"))
    assert len(paths) == STORIES
    errors = {}
    titled = 0
    for path in paths:
        story_id = path.stem
        try:
            article = read_text_export(path, story_id)
        except ArticleFormatError as error:
            errors[story_id] = str(error)
            continue
        titled += bool(article.title)
    # The one empty story has only "Reuters, April 3, 1987": kept, untitled, as in the JSON.
    assert errors == {}
    assert titled == STORIES - 1
    empty = read_text_export(text_path(reuters_dir, EMPTY_STORY), EMPTY_STORY)
    assert (empty.title, empty.body, empty.date) == ("", "", dt.date(1987, 4, 3))
    assert json_articles[EMPTY_STORY].title == ""
    assert json_articles[EMPTY_STORY].date == dt.date(1987, 4, 3)
