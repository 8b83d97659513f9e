"""Reuters-21578 through the indexer and the engine (skipped when ../shared is absent).

- A seeded sample of stories, imported once from their text-export files and
  once from their JSON lines, comes back the same from both indexes.
- Facet counts of filter-only searches over all of articles.jsonl, indexed,
  equal counts made directly from the JSON. bench/import_reuters.py does the
  full two-format comparison of all 21,578 and prints the times.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from dataclasses import replace

import pytest

from index.indexer import index_paths
from search.engine import SearchEngine
from search.facets import FACET_VALUE_LIMIT
from search.results import SearchRequest

pytestmark = pytest.mark.slow

STORIES = 21_578
SAMPLE_SIZE = 300
# Odd stories worth carrying every time: an author, a two-line headline, no title,
# no date line, an empty story (date only), a round-up with separators.
KNOWN_ODD = ["reuters-4", "reuters-99", "reuters-993", "reuters-934", "reuters-17192"]
KNOWN_ODD += ["reuters-12793", "reuters-6484", "reuters-5749"]
COMPARED = ("date", "authors", "regions", "themes", "reports")


@pytest.fixture(scope="session")
def raw_stories(reuters_dir) -> dict[str, dict]:
    """articles.jsonl as plain JSON, by id, in file order."""
    with open(reuters_dir / "articles.jsonl", encoding="utf-8") as lines:
        stories = [json.loads(line) for line in lines]
    return {story["id"]: story for story in stories}


def text_file(story_id: str) -> str:
    """The text export's relative path of a story: ``NN/reuters-ID.txt``."""
    number = int(story_id.removeprefix("reuters-"))
    return f"{number // 1000:02d}/{story_id}.txt"


# --- the same stories from both formats ---


@pytest.fixture(scope="module")
def sample_engines(tmp_path_factory, reuters_dir, raw_stories):
    """Indexes of the same sampled stories, from text files and from JSON lines."""
    sample = random.Random(21578).sample(sorted(raw_stories), SAMPLE_SIZE)
    chosen = list(dict.fromkeys(KNOWN_ODD + sample))
    work = tmp_path_factory.mktemp("reuters-sample")
    for story_id in chosen:
        target = work / "text" / text_file(story_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(reuters_dir / "text" / text_file(story_id), target)
    with open(work / "sample.jsonl", "w", encoding="utf-8") as out:
        for story_id in chosen:
            out.write(json.dumps(raw_stories[story_id], ensure_ascii=False) + "\n")

    reports = {
        name: index_paths(work / f"{name}-index", [work / source], procs=1)
        for name, source in (("text", "text"), ("json", "sample.jsonl"))
    }
    engines = {name: SearchEngine(work / f"{name}-index", facet_seconds=None) for name in reports}
    return chosen, reports, engines


def test_sample_imports_completely_from_both_formats(sample_engines):
    chosen, reports, engines = sample_engines
    for name, report in reports.items():
        assert report.problems == [], name
        assert (report.added, report.documents) == (len(chosen), len(chosen)), name
        assert engines[name].stats().documents == len(chosen)


def test_sample_articles_agree_between_formats(sample_engines, raw_stories):
    chosen, _, engines = sample_engines
    mismatches = []
    for story_id in chosen:
        from_text = engines["text"].article(text_file(story_id))
        from_json = engines["json"].article(story_id)
        assert from_text is not None and from_json is not None, story_id
        names = list(COMPARED)
        if (raw_stories[story_id].get("title") or "").strip():
            names.append("title")
        if from_text.date is not None:
            names.append("source")  # the text export's source shares the date line
        for name in names:
            if getattr(from_text, name) != getattr(from_json, name):
                mismatches.append(
                    (story_id, name, getattr(from_text, name), getattr(from_json, name))
                )
    assert mismatches == []


def test_sample_stories_match_their_json(sample_engines, raw_stories):
    """The JSON index returns each story's own values, not just the same as the text one."""
    chosen, _, engines = sample_engines
    for story_id in chosen:
        raw, article = raw_stories[story_id], engines["json"].article(story_id)
        assert (article.date.isoformat() if article.date else None) == raw["date"]
        assert article.regions == tuple(raw["regions"])
        assert article.themes == tuple(raw["themes"])
        assert article.authors == tuple(raw["authors"])
        if raw["title"]:
            assert article.title == " ".join(raw["title"].split())


def every_id(engine: SearchEngine, request: SearchRequest) -> set[str]:
    """The ids of all results, page by page, as JSON ids."""
    found: set[str] = set()
    for page in range(1, 100):
        hits = engine.search(replace(request, page=page, per_page=100)).hits
        if not hits:
            return found
        found |= {hit.id.split("/")[-1].removesuffix(".txt") for hit in hits}
    raise AssertionError("more pages than expected")


@pytest.mark.parametrize(
    "request_",
    [
        SearchRequest(filters={"region": ("USA",)}),
        SearchRequest(filters={"theme": ("earn", "acq")}, sort="oldest"),
        SearchRequest(q="title:oil"),
        SearchRequest(q="shares -dividend", filters={"region": ("USA", "canada")}),
    ],
)
def test_sample_searches_agree_between_formats(sample_engines, request_):
    _, _, engines = sample_engines
    text_result, json_result = (engines[n].search(request_) for n in ("text", "json"))
    assert text_result.total == json_result.total > 0
    assert every_id(engines["text"], request_) == every_id(engines["json"], request_)
    assert len(every_id(engines["json"], request_)) == json_result.total
    assert text_result.facets == json_result.facets


# --- facet counts over the whole of articles.jsonl ---


@pytest.fixture(scope="session")
def reuters_engine(tmp_path_factory, reuters_dir) -> SearchEngine:
    """All of articles.jsonl, indexed once per test session."""
    work = tmp_path_factory.mktemp("reuters-jsonl")
    report = index_paths(work / "index", [reuters_dir / "articles.jsonl"])
    assert (report.added, report.skipped) == (STORIES, 0)
    # A generous facet budget: these tests check counts, not speed on a busy machine.
    return SearchEngine(work / "index", facet_seconds=None)


def expected_facets(raw_stories, regions=(), themes=()):
    """Disjunctive counts straight from the JSON: (total, region listing, theme listing).

    A listing is the values a facet lists, as (value, count, selected), and how
    many more values have results.
    """

    def passes(story, field, selected):
        return not selected or bool(set(story[field]) & set(selected))

    total = 0
    counts = {"regions": Counter(), "themes": Counter()}
    for story in raw_stories.values():
        in_regions, in_themes = passes(story, "regions", regions), passes(story, "themes", themes)
        total += in_regions and in_themes
        if in_themes:
            counts["regions"].update(set(story["regions"]))
        if in_regions:
            counts["themes"].update(set(story["themes"]))

    def listing(counter, selected):
        """The FACET_VALUE_LIMIT likeliest values and every selected one, and how many more."""

        def likeliest(item):
            return (-item[1], item[0].casefold())

        listed = dict(sorted(counter.items(), key=likeliest)[:FACET_VALUE_LIMIT])
        for value in selected:
            listed.setdefault(value, counter.get(value, 0))
        unlisted = len(counter) - sum(1 for value in listed if counter.get(value))
        ordered = sorted(listed.items(), key=likeliest)
        return [(value, count, value in selected) for value, count in ordered], unlisted

    return total, listing(counts["regions"], regions), listing(counts["themes"], themes)


@pytest.mark.parametrize(
    ("regions", "themes"),
    [
        ((), ()),
        (("USA",), ()),
        ((), ("earn",)),
        (("USA", "uk"), ()),
        (("japan",), ("trade", "money-fx")),
        (("canada", "west-germany"), ("grain", "wheat", "corn")),
        (("ussr",), ("earn",)),
        (("no-such-place",), ("acq",)),
    ],
)
def test_facet_counts_equal_counts_from_the_json(reuters_engine, raw_stories, regions, themes):
    result = reuters_engine.search(SearchRequest(filters={"region": regions, "theme": themes}))
    total, region_counts, theme_counts = expected_facets(raw_stories, regions, themes)

    assert result.total == total
    assert not result.facets["region"].timed_out and not result.facets["theme"].timed_out
    for name, expected in (("region", region_counts), ("theme", theme_counts)):
        facet = result.facets[name]
        assert ([(v.value, v.count, v.selected) for v in facet.values], facet.unlisted) == expected


def test_whole_corpus_facets_have_the_documented_shape(reuters_engine):
    result = reuters_engine.search(SearchRequest())
    regions, themes = result.facets["region"].values, result.facets["theme"].values
    assert result.total == STORIES
    # 147 regions and 120 themes, each facet listing its FACET_VALUE_LIMIT likeliest.
    assert (len(regions), result.facets["region"].unlisted) == (100, 47)
    assert (len(themes), result.facets["theme"].unlisted) == (100, 20)
    # The corpus README says 12,542 for USA: it counts the one story that lists USA twice.
    assert (regions[0].value, regions[0].count) == ("USA", 12541)
    assert (themes[0].value, themes[0].count) == ("earn", 3987)


# --- the word being typed, read with the words before it ---


@pytest.fixture(scope="module")
def typing_engine(reuters_engine) -> SearchEngine:
    """The Reuters index, searched with its vocabulary however long it takes to build."""
    return SearchEngine(reuters_engine.index_dir, vocabulary_seconds=None)


def _top_ids(engine: SearchEngine, q: str) -> set[str]:
    return {hit.id for hit in engine.search(SearchRequest(q=q)).hits}


@pytest.mark.parametrize(
    "typed, finished, read_as",
    [
        ("hostile take", "hostile takeover ", "takeover"),  # "take" is a word, rare with hostile
        ("group of seven curren", "group of seven currency ", "currency"),  # alone: "current"
    ],
)
def test_the_word_being_typed_is_read_with_the_words_before_it(
    typing_engine, typed, finished, read_as
):
    result = typing_engine.search(SearchRequest(q=typed))
    assert next(iter(result.completions.values()))[0] == read_as
    shown = _top_ids(typing_engine, typed) & _top_ids(typing_engine, finished)
    assert len(shown) >= 8  # of the finished query's top 10


@pytest.mark.parametrize(
    "typed, read_as",
    [
        ("curren", "current"),  # 2,096 bodies and 62 titles; "currency" 887 and 114
        ("whe", "wheat"),  # 451 bodies and 205 titles; "whether" 573 and 1
    ],
)
def test_a_word_typed_alone_is_read_by_the_articles_holding_it_in_body_and_title(
    typing_engine, typed, read_as
):
    assert typing_engine.search(SearchRequest(q=typed)).completions[typed][0] == read_as
    shown = _top_ids(typing_engine, typed) & _top_ids(typing_engine, read_as + " ")
    assert len(shown) >= 5  # of the likeliest reading's top 10


@pytest.mark.parametrize(
    "typed, finished",
    [("dollar exchang", "dollar exchange "), ("wheat shipmen", "wheat shipments ")],
)
def test_a_word_with_one_likely_completion_shows_the_finished_words_answers(
    typing_engine, typed, finished
):
    """Letters that are no word: the likeliest completion scores as the finished word
    would, so the same top 10 in the same order."""
    result = typing_engine.search(SearchRequest(q=typed))
    assert len(next(iter(result.completions.values()))) >= 1
    shown = [hit.id for hit in result.hits]
    assert shown == [hit.id for hit in typing_engine.search(SearchRequest(q=finished)).hits]


def test_a_word_being_typed_is_read_as_its_five_likeliest_completions(typing_engine):
    completions = typing_engine.search(SearchRequest(q="int")).completions["int"]
    assert completions[:2] == ("internation", "interest") and len(completions) == 5
