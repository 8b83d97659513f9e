"""The search engine over real indexes: schema, sorting, dates, facets, snippets, suggestions.

Most tests search the demo articles (a session index from conftest) and check
the engine against what the parsed articles say; the schema tests build a
small index of articles written here; the refresh tests index into tmp_path.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
from pathlib import Path

import pytest

from index.indexer import index_paths
from search.engine import SearchEngine
from search.results import SearchRequest
from search.schema import english_analyzer

ANALYZER = english_analyzer()
COURT_CASE = "2020-10-19-court-data-broker-smith-sons.txt"
DEMO_ARTICLES = Path(__file__).resolve().parents[1] / "demo" / "articles"


def analysed(text: str) -> set[str]:
    return {token.text for token in ANALYZER(text)}


def search(engine: SearchEngine, q: str = "", **options):
    options.setdefault("per_page", 100)
    return engine.search(SearchRequest(q=q, **options))


def ids(result) -> list[str]:
    return [hit.id for hit in result.hits]


def with_term(demo_articles, word: str) -> set[str]:
    (term,) = analysed(word)
    return {
        article_id
        for article_id, a in demo_articles.items()
        if term in analysed(f"{a.title}\n{a.body}\n{' '.join(a.authors)}")
    }


# --- schema: analysis, keyword values, dates (a small index written here) ---

SCHEMA_ARTICLES = [
    {
        "id": "minister",
        "title": "Séjourné meets Radosław Sikorski",
        "body": "The French minister Stéphane Séjourné spoke of a single troop rotation.",
        "authors": ["Zoë Ñúñez"],
        "date": "2019-12-31",
        "regions": ["Europe, Eastern", "Latin America & Caribbean"],
        "themes": ["Law and Justice"],
    },
    {
        "id": "pumps",
        "title": "Heat pump grants",
        "body": "Installers fitted a heat pump in every house; troops of engineers helped.",
        "date": "2020-01-01",
        "regions": ["Europe"],
        "themes": ["R&D, Science & Technology"],
    },
    {
        "id": "reversed",
        "title": "Pumps and heat",
        "body": "They pump the heat out of the ground.",
        "date": "2020-02-29",
        "regions": ["Europe, Eastern"],
        "themes": ["Law and Justice", "Energy"],
    },
    {
        "id": "undated",
        "title": "An undated note",
        "body": "The minister's diary: pumps, not a word on heating.",
        "regions": [],
    },
]


@pytest.fixture(scope="module")
def schema_engine(tmp_path_factory) -> SearchEngine:
    folder = tmp_path_factory.mktemp("schema")
    source = folder / "articles.jsonl"
    source.write_text("\n".join(json.dumps(a) for a in SCHEMA_ARTICLES) + "\n")
    (folder / "text").mkdir()
    (folder / "text" / "linked.txt").write_text(
        "Linked values\n\nTest Wire, March 1, 2021\n\n"
        "Region: [Europe, Eastern](#), [Latin America & Caribbean](#)\n\n"
        "Theme: [R&D, Science & Technology](#)\n\nA body.\n"
    )
    report = index_paths(folder / "ix", [source, folder / "text"], procs=1)
    assert (report.added, report.skipped) == (5, 0)
    return SearchEngine(folder / "ix")


def found(engine: SearchEngine, q: str = "", **options) -> set[str]:
    return set(ids(search(engine, q, **options)))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Sejourne", {"minister"}),
        ("SÉJOURNÉ", {"minister"}),
        ("Radoslaw", {"minister"}),
        ("radosław sikorski", {"minister"}),
        ("author:zoe", {"minister"}),
        ("author:nunez", {"minister"}),
        ("stephane", {"minister"}),
    ],
)
def test_accents_fold(schema_engine, typed, expected):
    assert found(schema_engine, typed) == expected


def test_stemming_joins_singular_and_plural(schema_engine):
    assert found(schema_engine, "troops") == {"minister", "pumps"}
    assert found(schema_engine, "troop") == {"minister", "pumps"}
    assert found(schema_engine, "title:pump") == {"pumps", "reversed"}


def test_phrase_search_needs_adjacent_words_in_order(schema_engine):
    assert found(schema_engine, '"heat pump"') == {"pumps"}
    assert found(schema_engine, '"pump the heat"') == {"reversed"}
    assert found(schema_engine, "heat pump") == {"pumps", "reversed", "undated"}


def test_keyword_values_survive_intact(schema_engine):
    article = schema_engine.article("minister")
    assert article.regions == ("Europe, Eastern", "Latin America & Caribbean")
    assert article.themes == ("Law and Justice",)
    linked = schema_engine.article("linked.txt")
    assert linked.regions == ("Europe, Eastern", "Latin America & Caribbean")
    assert linked.themes == ("R&D, Science & Technology",)

    facets = search(schema_engine).facets
    regions = {v.value: v.count for v in facets["region"].values}
    themes = {v.value: v.count for v in facets["theme"].values}
    assert regions == {"Europe, Eastern": 3, "Latin America & Caribbean": 2, "Europe": 1}
    assert themes == {"Law and Justice": 2, "R&D, Science & Technology": 2, "Energy": 1}


@pytest.mark.parametrize(
    ("regions", "themes", "expected"),
    [
        (("Europe, Eastern",), (), {"minister", "reversed", "linked.txt"}),
        (("Europe",), (), {"pumps"}),
        (("Latin America & Caribbean",), (), {"minister", "linked.txt"}),
        ((), ("R&D, Science & Technology",), {"pumps", "linked.txt"}),
        (("Europe, Eastern",), ("Law and Justice",), {"minister", "reversed"}),
        (("Eastern",), (), set()),
        (("Europe, Eastern, Latin America & Caribbean",), (), set()),
    ],
)
def test_keyword_values_filter_exactly(schema_engine, regions, themes, expected):
    result = search(schema_engine, filters={"region": regions, "theme": themes})
    assert set(ids(result)) == expected
    assert result.total == len(expected)


def test_region_prefix_takes_a_value_with_commas_and_ampersands(schema_engine):
    assert found(schema_engine, 'region:"europe, eastern"') == {
        "minister",
        "reversed",
        "linked.txt",
    }
    assert found(schema_engine, 'theme:"R&D, Science & Technology"') == {
        "pumps",
        "linked.txt",
    }


def test_date_is_a_date(schema_engine):
    assert schema_engine.article("reversed").date == dt.date(2020, 2, 29)
    assert schema_engine.article("undated").date is None
    newest = ids(search(schema_engine, sort="newest"))
    assert newest == ["linked.txt", "reversed", "pumps", "minister", "undated"]
    oldest = ids(search(schema_engine, sort="oldest"))
    assert oldest == ["minister", "pumps", "reversed", "linked.txt", "undated"]
    in_2020 = search(schema_engine, date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 12, 31))
    assert set(ids(in_2020)) == {"pumps", "reversed"}
    one_day = search(schema_engine, date_from=dt.date(2020, 2, 29), date_to=dt.date(2020, 2, 29))
    assert ids(one_day) == ["reversed"]
    assert found(schema_engine, date_to=dt.date(2019, 12, 31)) == {"minister"}


# --- sort, browse, date range (demo articles) ---


def test_empty_query_browses_everything_newest_first(engine, demo_articles):
    result = search(engine)
    assert result.total == len(demo_articles)
    expected = sorted(demo_articles, key=lambda i: demo_articles[i].date, reverse=True)
    assert ids(result) == expected


def test_browse_pages_continue(engine, demo_articles):
    everything = ids(search(engine))
    pages = [ids(search(engine, page=p, per_page=7)) for p in range(1, 8)]
    assert sum(pages, []) == everything
    assert pages[-1] == []


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sort_by_date(engine, demo_articles, sort):
    result = search(engine, "heat", sort=sort)
    dates = [hit.date for hit in result.hits]
    assert dates == sorted(dates, reverse=sort == "newest")
    assert set(ids(result)) == with_term(demo_articles, "heat")
    assert all(hit.score is None for hit in result.hits)


def test_relevance_sort_has_scores_in_order(engine):
    result = search(engine, "heat")
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(score > 0 for score in scores)


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
@pytest.mark.parametrize("q", ["", "heat", "heat pump price"])
def test_date_range_limits_results_and_hits(engine, demo_articles, q, sort):
    start, end = dt.date(2021, 7, 6), dt.date(2024, 3, 11)  # both days hold an article
    within = {i for i, a in demo_articles.items() if start <= a.date <= end}
    matching = set(ids(search(engine, q))) if q else set(demo_articles)
    result = search(engine, q, date_from=start, date_to=end, sort=sort)
    assert set(ids(result)) == within & matching
    assert result.total == len(within & matching)
    assert all(start <= hit.date <= end for hit in result.hits)


def test_open_ended_date_ranges(engine, demo_articles):
    since = dt.date(2024, 6, 25)
    assert found(engine, date_from=since) == {
        i for i, a in demo_articles.items() if a.date >= since
    }
    assert found(engine, date_to=since) == {i for i, a in demo_articles.items() if a.date <= since}


# --- facets (demo articles) ---


def expected_facets(demo_articles, matching: set[str], regions=(), themes=()):
    """Disjunctive counts worked out from the parsed articles: value -> (count, selected)."""

    def passes(article, field, selected):
        return not selected or bool(set(getattr(article, field)) & set(selected))

    def counts(field, selected, others_field, others_selected):
        tally: dict[str, int] = {}
        for article_id in matching:
            article = demo_articles[article_id]
            if passes(article, others_field, others_selected):
                for value in getattr(article, field):
                    tally[value] = tally.get(value, 0) + 1
        for value in selected:
            tally.setdefault(value, 0)
        ordered = sorted(tally.items(), key=lambda item: (-item[1], item[0].casefold()))
        return [(value, count, value in selected) for value, count in ordered]

    return {
        "region": counts("regions", regions, "themes", themes),
        "theme": counts("themes", themes, "regions", regions),
    }


def facet_lists(result):
    return {
        name: [(v.value, v.count, v.selected) for v in facet.values]
        for name, facet in result.facets.items()
    }


SELECTIONS = [
    ((), ()),
    (("Europe",), ()),
    ((), ("Energy",)),
    (("Europe", "Asia"), ()),
    (("Europe", "Asia"), ("Energy",)),
    (("Latin America & Caribbean",), ("Economy", "Elections")),
    (("Oceania",), ("Elections",)),  # no article is both: each selected value at zero
    (("Middle East & North Africa", "Russia and FSU"), ("Trade", "Labour", "Migration")),
    (("Atlantis",), ()),  # a value no article has
]


@pytest.mark.parametrize(("regions", "themes"), SELECTIONS)
@pytest.mark.parametrize("q", ["", "heat", "port OR harbour"])
def test_facet_counts_match_the_articles(engine, demo_articles, q, regions, themes):
    matching = set(ids(search(engine, q))) if q else set(demo_articles)
    result = search(engine, q, filters={"region": regions, "theme": themes})

    assert facet_lists(result) == expected_facets(demo_articles, matching, regions, themes)

    def passes(article):
        return (not regions or set(article.regions) & set(regions)) and (
            not themes or set(article.themes) & set(themes)
        )

    expected_ids = {i for i in matching if passes(demo_articles[i])}
    assert set(ids(result)) == expected_ids
    assert result.total == len(expected_ids)


def test_each_facet_count_is_the_total_after_ticking_it(engine):
    base = search(engine, "", filters={"region": ("Europe",)})
    for value in base.facets["theme"].values:
        ticked = search(engine, "", filters={"region": ("Europe",), "theme": (value.value,)})
        assert ticked.total == value.count, value
    for value in base.facets["region"].values:
        if value.selected:
            continue
        ticked = search(engine, "", filters={"region": ("Europe", value.value)})
        assert ticked.total == base.total + value.count - len(
            set(ids(base)) & set(ids(search(engine, filters={"region": (value.value,)})))
        )


def test_selected_value_without_articles_empties_relevance_results(engine):
    result = search(engine, "heat", filters={"region": ("Oceania",), "theme": ("Elections",)})
    assert (result.total, result.hits) == (0, ())
    result = search(engine, "heat", filters={"region": ("Atlantis",)})
    assert (result.total, result.hits) == (0, ())
    assert ("Atlantis", 0, True) in facet_lists(result)["region"]


# --- snippets and marked titles ---


def plain(marked: str) -> str:
    return html.unescape(re.sub(r"</?mark>", "", marked))


def test_snippets_are_passages_of_the_body_with_matches_marked(engine, demo_articles):
    result = search(engine, "sanctions harbour")
    assert result.hits
    for hit in result.hits:
        body = " ".join(demo_articles[hit.id].body.split())
        passage = plain(hit.snippet).strip("…")
        assert passage in body
        marked = re.findall(r"<mark>(.*?)</mark>", hit.snippet)
        assert marked
        assert {next(iter(analysed(m))) for m in marked} <= {"sanction", "harbour"}


def test_snippet_marks_stems(engine):
    (hit,) = [h for h in search(engine, "sanction").hits if "Caspian" in h.title]
    assert "<mark>sanctions</mark>" in hit.snippet
    assert "<mark>Sanctions</mark>" in hit.title_html


def test_snippet_is_built_from_escaped_text(engine):
    (hit,) = search(engine, "tag shown report source code").hits[:1]
    assert hit.id == COURT_CASE
    assert "&lt;b&gt;" in hit.snippet
    assert "<b>" not in hit.snippet and "<div" not in hit.snippet
    assert "<mark>tag</mark>" in hit.snippet
    assert set(re.findall(r"</?(\w+)", hit.snippet)) == {"mark"}

    (hit,) = [h for h in search(engine, "partners process").hits if h.id == COURT_CASE]
    assert "we &amp; our <mark>partners</mark> may <mark>process</mark>" in hit.snippet


def test_title_is_marked_and_escaped(engine):
    (hit,) = [h for h in search(engine, "smith reject").hits if h.id == COURT_CASE]
    assert hit.title_html == (
        "Court Finds Data Broker <mark>Smith</mark> &amp; Sons Hid the "
        "&quot;<mark>Reject</mark>&quot; Button"
    )
    assert hit.title == 'Court Finds Data Broker Smith & Sons Hid the "Reject" Button'


def test_snippet_marks_accented_words_typed_without_accents(engine):
    (hit,) = search(
        engine, "severin"
    ).hits  # a rare name: completed to nothing, corrected to nothing
    assert "<mark>Séverin</mark>" in hit.title_html
    assert "<mark>Séverin</mark>" in hit.snippet


def test_browsing_shows_the_start_of_the_body_unmarked(engine, demo_articles):
    hit = search(engine, per_page=1).hits[0]
    body = " ".join(demo_articles[hit.id].body.split())
    assert "<mark>" not in hit.snippet
    assert body.startswith(plain(hit.snippet).rstrip("…"))


# --- did you mean, completions, related articles ---


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("hospitls", "hospitals"),
        ("heat hospitls", "heat hospitals"),
        ("desalinaton plant", "desalination plant"),
        ("Chocolat", "chocolate"),
        ("cocao prices", "cocoa prices"),  # swapped letters: one edit, not two ("coal")
    ],
)
def test_did_you_mean(engine, typed, meant):
    result = search(engine, typed, prefix=False, typos=False)
    assert result.suggestion == meant
    assert search(engine, result.suggestion).total > 0


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("hospitls", "hospitals"),
        ("heat hospitls", "heat hospitals"),
        ("desalinaton plant", "desalination plant"),
        ("cocao prices", "cocoa prices"),
        ("ukriane", "ukraine"),
        ("ukrian", "ukraine"),  # still being typed: the beginning of "ukraine", mistyped
    ],
)
def test_misspelt_words_are_searched_as_corrected(engine, typed, read):
    result = search(engine, typed)
    assert result.showing_results_for == read
    assert result.suggestion is None
    assert result.total > 0
    as_read = search(engine, read + " ")  # a space after: whole words
    assert set(ids(as_read)) <= set(ids(result))
    assert ids(result)[0] == ids(as_read)[0]


def test_a_rare_word_is_not_corrected_into_a_frequent_one(engine):
    result = search(engine, "severin")  # one article; "severity" is one edit from its start
    assert (result.total, result.corrections, result.showing_results_for) == (1, {}, None)


def test_no_suggestion_for_known_words(engine):
    assert search(engine, "heat pump").suggestion is None
    assert search(engine, "").suggestion is None


def test_each_time_limit_run_out_cuts_its_own_part_short(engine):
    """A budget of 0 seconds is a deadline already past (search.deadline): each part that
    can stop early does, on any machine, and the rest of the answer is whole."""
    patient = SearchEngine(
        engine.index_dir, facet_seconds=None, spelling_seconds=None, search_seconds=None
    )
    whole = search(patient, "heat hospitls", prefix=False, typos=False)
    assert whole.suggestion == "heat hospitals" and not whole.partial
    no_facets = SearchEngine(engine.index_dir, facet_seconds=0)
    counted = search(no_facets, "heat hospitls", prefix=False, typos=False)
    assert all(f.timed_out and not f.values for f in counted.facets.values())
    assert (counted.total, counted.suggestion) == (whole.total, whole.suggestion)
    assert not any(f.timed_out for f in whole.facets.values())
    no_spelling = SearchEngine(engine.index_dir, spelling_seconds=0)
    spelt = search(no_spelling, "heat hospitls", prefix=False, typos=False)
    assert spelt.suggestion is None and spelt.total == whole.total
    no_matching = SearchEngine(engine.index_dir, search_seconds=0)
    cut = search(no_matching, "heat hospitls", prefix=False, typos=False)
    assert cut.partial and (cut.total, cut.hits) == (0, ())
    # Completions keep to the search's limit: out of time, no titles, the words still.
    title = ("Chocolate Makers Scramble as Cocoa Prices Hit Records", "title")
    hurried = [(s.text, s.kind) for s in no_matching.suggest("chocol")]
    assert title in [(s.text, s.kind) for s in engine.suggest("chocol")]
    assert title not in hurried and ("chocolate", "term") in hurried


def test_completions_for_a_prefix(engine):
    def suggestions(prefix):
        return [(s.text, s.kind) for s in engine.suggest(prefix)]

    assert ("Europe", "region") in suggestions("eur")
    assert ("Climate and Environment", "theme") in suggestions("clim")
    assert ("Radosław Nowak", "author") in suggestions("rados")
    assert ("Chocolate Makers Scramble as Cocoa Prices Hit Records", "title") in suggestions(
        "chocol"
    )
    terms = [text for text, kind in suggestions("heat pu") if kind == "term"]
    assert terms and all(t.startswith("heat pu") for t in terms)
    assert suggestions("e") == []
    assert len(engine.suggest("he", limit=3)) == 3


def test_word_completions_count_the_articles_whose_body_has_the_word(engine, demo_articles):
    analyzer = english_analyzer()
    bodies = [{t.text for t in analyzer(a.body)} for a in demo_articles.values()]
    words = [s for s in engine.suggest("pum") + engine.suggest("farm") if s.kind == "term"]
    assert words
    for suggestion in words:
        (stem,) = [t.text for t in analyzer(suggestion.text)]
        assert suggestion.count == sum(stem in body for body in bodies), suggestion
    # Asked again (answers are remembered per index generation): the same answer.
    assert engine.suggest("pum") == engine.suggest("pum")


def test_completion_counts_are_article_counts(engine, demo_articles):
    (europe,) = [s for s in engine.suggest("europ") if s.kind == "region"]
    assert europe.count == sum("Europe" in a.regions for a in demo_articles.values())


def test_related_articles(engine):
    source = "2024-09-03-heat-pump-sales-stall-subsidy-cut.txt"
    related = engine.related(source, limit=4)
    related_ids = [hit.id for hit in related]
    assert source not in related_ids
    assert len(related_ids) == 4 == len(set(related_ids))
    assert related_ids[0] in {
        "2022-04-12-installers-heat-pump-boom.txt",
        "2019-10-15-rural-households-heat-pump-grants.txt",
    }
    assert engine.related("no-such-article") == []


def test_article_by_id(engine, demo_articles):
    for article_id, article in demo_articles.items():
        assert engine.article(article_id) == article
    assert engine.article("missing.txt") is None


# --- a new generation is picked up without re-creating the engine ---


@pytest.fixture()
def live_copy(tmp_path):
    """A copy of the demo articles and an index of it, both free to change."""
    source = tmp_path / "articles"
    shutil.copytree(DEMO_ARTICLES, source)
    index_paths(tmp_path / "ix", [source], procs=1)
    return source, tmp_path / "ix"


def test_engine_picks_up_an_incremental_commit(live_copy):
    source, index_dir = live_copy
    engine = SearchEngine(index_dir, refresh_seconds=0)
    before = engine.stats()
    europe_before = search(engine, filters={"region": ("Europe",)}).total
    assert search(engine, "walrus", semantic=False).total == 0  # no word (meaning: test_hybrid)

    (source / "walrus.txt").write_text(
        "Walrus Colony Returns to the Fjord\n\nDemo Wire, August 1, 2025\n\n"
        "Region: [Europe](#)\n\nTheme: [Wildlife](#)\n\nA walrus colony has returned.\n"
    )
    rhine = source / "2019-01-22-rhine-low-water-barges.txt"
    rhine.write_text(rhine.read_text().replace("Region: [Europe](#)", "Region: [Oceania](#)"))
    report = index_paths(index_dir, [source], procs=1)
    assert (report.added, report.updated) == (1, 1)

    after = engine.stats()
    assert after.generation != before.generation
    assert after.documents == before.documents + 1
    result = search(engine, "walrus")
    assert ids(result) == ["walrus.txt"]
    assert result.hits[0].date == dt.date(2025, 8, 1)
    assert ids(search(engine, per_page=1)) == ["walrus.txt"]  # newest first
    browse = search(engine)
    themes = {v.value: v.count for v in browse.facets["theme"].values}
    assert themes["Wildlife"] == 1
    europe = search(engine, filters={"region": ("Europe",)})
    assert europe.total == europe_before  # +1 walrus, -1 Rhine
    assert rhine.name in ids(search(engine, filters={"region": ("Oceania",)}))
    assert rhine.name not in ids(search(engine, filters={"region": ("Europe",)}))
    assert ("Wildlife", "theme") in [(s.text, s.kind) for s in engine.suggest("wildl")]


def test_engine_keeps_dates_right_when_a_segment_has_none(live_copy):
    source, index_dir = live_copy
    engine = SearchEngine(index_dir, refresh_seconds=0)
    feed = source.parent / "undated.jsonl"
    feed.write_text(json.dumps({"id": "undated", "title": "No date here", "body": "Pelicans."}))
    index_paths(index_dir, [feed], procs=1)

    everything = search(engine)
    assert everything.total == 41
    assert ids(everything)[-1] == "undated"  # undated last, dated ones still in order
    dates = [hit.date for hit in everything.hits[:-1]]
    assert dates == sorted(dates, reverse=True) and None not in dates
    assert "undated" not in found(engine, date_from=dt.date(1900, 1, 1))
    assert engine.article("undated").date is None


def test_engine_follows_deletes(live_copy):
    source, index_dir = live_copy
    engine = SearchEngine(index_dir, refresh_seconds=0)
    assert search(engine, "cocoa").total == 2
    (source / "2024-03-11-chocolate-makers-cocoa-prices-record.txt").unlink()
    index_paths(index_dir, [source], procs=1)
    result = search(engine, "cocoa")
    assert result.total == 1 and len(result.hits) == 1
    browse = search(engine)
    assert browse.total == 39
    africa = {v.value: v.count for v in browse.facets["region"].values}["Africa"]
    assert africa == search(engine, filters={"region": ("Africa",)}).total == 6
