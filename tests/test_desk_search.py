"""The desk applied when searching, on a real index of articles written to show each lever:
synonyms (typed, being typed, misspelt, phrases, one-way), rules (triggers, filters, pins
under filters, hides, time windows) and freshness."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from index.indexer import index_paths
from search.analysis import fast_analyzer
from search.desk import Desk, Synonym
from search.engine import SearchEngine
from search.results import SearchRequest
from search.serialize import result_json
from search.storage.index_folder import IndexFolder
from search.synonyms import SynonymTables

FILLER = "The council met on Tuesday to discuss the harbour budget and the new ferry timetable."
TODAY = dt.datetime.now(dt.UTC).date()


def _article(id: str, body: str, date: str = "2024-01-10", regions=(), themes=()) -> dict:
    return {
        "id": id,
        "title": f"Report {id}",
        "body": body,
        "date": date,
        "regions": list(regions),
        "themes": list(themes),
    }


ARTICLES = [
    _article("kiev-1", "Kiev transport news today."),
    _article("kiev-2", "Kiev transport news tonight."),
    _article("kyiv-1", "Kyiv transport news today."),
    _article("kyiv-2", "Kyiv transport news tonight."),
    _article("chernobyl", "The chernobyl reactor site was visited."),
    _article("chornobyl", "The chornobyl reactor site was visited."),
    _article("nato-long", "The North Atlantic Treaty Organization met in Brussels."),
    _article("nato-short", "NATO ministers met in Brussels."),
    _article("vote-europe-1", "Elections were held.", regions=["Europe"], themes=["Elections"]),
    _article(
        "vote-asia", "Elections held.", date="2023-05-01", regions=["Asia"], themes=["Elections"]
    ),
    _article("vote-europe-2", "The count goes on.", regions=["Europe"], themes=["Elections"]),
    _article("vote-africa", "Local elections results.", regions=["Africa"], themes=["Politics"]),
    _article("dredging-old", "Canal dredging plan. Dredging again.", date="2001-03-01"),
    _article("dredging-new", "Canal dredging plan.", date=(TODAY - dt.timedelta(7)).isoformat()),
] + [_article(f"filler-{n}", FILLER) for n in range(20)]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("desk-search")
    corpus = folder / "articles.jsonl"
    corpus.write_text("\n".join(json.dumps(a) for a in ARTICLES) + "\n", encoding="utf-8")
    assert not index_paths(folder / "index", [corpus], procs=1).problems
    return folder / "index"


@pytest.fixture(scope="module")
def engine(index_dir):
    return SearchEngine(index_dir, desk_check_seconds=0, desk_build_seconds=None)


@pytest.fixture()
def desk(index_dir):
    desk = Desk(index_dir)
    desk.restore(0, "test") if desk.history() else None
    yield desk
    desk.restore(0, "test")


def ranked(engine, q: str, **options) -> list[str]:
    return [hit.id for hit in engine.search(SearchRequest(q=q, per_page=50, **options)).hits]


def test_an_empty_desk_changes_nothing(engine, desk, index_dir):
    queries = ["kiev", "elections", "canal dredging", "chernobly", "kie", "nato"]
    before = [result_json(engine.search(SearchRequest(q=q))) for q in queries]
    desk.add_synonym({"words": ["kyiv", "kiev"]}, "ana")
    desk.restore(0, "ana")  # a desk with a history but nothing in it
    after = [result_json(engine.search(SearchRequest(q=q))) for q in queries]
    for old, new in zip(before, after, strict=True):
        old.pop("took_ms"), new.pop("took_ms")
        assert old == new
        assert new["synonyms_applied"] == [] and new["rules_applied"] == []


def test_multi_way_synonyms_find_both_and_the_typed_word_first(engine, desk):
    assert set(ranked(engine, "kiev ")) == {"kiev-1", "kiev-2"}
    synonym = desk.add_synonym({"words": ["Kyiv", "Kiev"]}, "ana")
    assert set(ranked(engine, "kiev ")[:2]) == {"kiev-1", "kiev-2"}
    assert set(ranked(engine, "kiev ")[2:]) == {"kyiv-1", "kyiv-2"}
    assert set(ranked(engine, "KYIV ")[:2]) == {"kyiv-1", "kyiv-2"}  # either way, typed first
    result = result_json(engine.search(SearchRequest(q="kiev ")))
    assert result["synonyms_applied"] == [{"id": synonym.id, "word": "kiev", "read_as": ["Kyiv"]}]
    kyiv_hit = next(hit for hit in result["results"] if hit["id"] == "kyiv-1")
    assert "<mark>Kyiv</mark>" in kyiv_hit["snippet"]  # the synonym's word is marked
    # The reader's way out: synonyms=0 searches the words alone.
    assert set(ranked(engine, "kiev ", synonyms=False)) == {"kiev-1", "kiev-2"}
    assert set(ranked(engine, "kiev ", desk=False)) == {"kiev-1", "kiev-2"}


def test_a_word_being_typed_fires_synonyms(engine, desk):
    desk.add_synonym({"words": ["kyiv", "kiev"]}, "ana")
    # "kie" completes to kiev (in the index), whose synonym brings the Kyiv articles.
    assert {"kyiv-1", "kyiv-2", "kiev-1"} <= set(ranked(engine, "kie"))
    # A synonym word the index lacks completes too: "kyj" -> kyjiw -> kyiv.
    assert not ranked(engine, "kyj", semantic=False)  # by words (meaning: test_hybrid)
    desk.add_synonym({"from": ["kyjiw"], "to": ["kyiv"]}, "ana")
    assert set(ranked(engine, "kyj")) == {"kyiv-1", "kyiv-2"}


def test_a_misspelt_word_fires_the_synonyms_of_its_correction(engine, desk):
    assert set(ranked(engine, "chernobly ")) == {"chernobyl"}
    desk.add_synonym({"words": ["chernobyl", "chornobyl"]}, "ana")
    assert ranked(engine, "chernobly ") == ["chernobyl", "chornobyl"]
    assert ranked(engine, "chernobly") == ["chernobyl", "chornobyl"]  # while typing too
    # Near a synonym word the index lacks: "pripyta" is one edit from "pripyat".
    desk.add_synonym({"from": ["pripyat"], "to": ["chornobyl"]}, "ana")
    assert ranked(engine, "pripyta ") == ["chornobyl"]
    assert ranked(engine, "pripyta ", typos=False) == []


def test_one_way_synonyms_and_phrases(engine, desk):
    desk.add_synonym({"from": ["nato"], "to": ["north atlantic treaty organization"]}, "ana")
    assert ranked(engine, "nato ") == ["nato-short", "nato-long"]
    assert ranked(engine, "north atlantic treaty organization ") == ["nato-long"]  # not back
    hit = engine.search(SearchRequest(q="nato ")).hits[1]
    assert "<mark>North</mark> <mark>Atlantic</mark> <mark>Treaty</mark>" in hit.snippet
    # A phrase as the source: its words typed in a row fire it, in any case.
    desk.add_synonym({"from": ["North Atlantic Treaty Organization"], "to": ["NATO"]}, "ana")
    assert ranked(engine, "north atlantic treaty organization ") == ["nato-long", "nato-short"]
    result = engine.search(SearchRequest(q="north atlantic treaty organization "))
    assert [a.word for a in result.synonyms_applied] == ["north atlantic treaty organization"]


def test_rules_trigger_after_the_searchs_analysis(engine, desk):
    exact = desk.add_rule({"query": "Élection", "pin": ["vote-europe-2"]}, "ana")
    contains = desk.add_rule(
        {"query": "election results", "match": "contains", "hide": ["vote-asia"]}, "ana"
    )
    prefix = desk.add_rule({"query": "local", "match": "prefix", "pin": ["nato-short"]}, "ana")
    result = engine.search(SearchRequest(q="ELECTIONS "))
    assert result.rules_applied == (exact.id,)
    assert result.hits[0].id == "vote-europe-2" and result.hits[0].pinned  # not a word match
    assert result.total == 4
    assert engine.search(SearchRequest(q="elections 2024")).rules_applied == ()
    result = engine.search(SearchRequest(q="local elections results"))
    assert result.rules_applied == (contains.id, prefix.id)
    assert "vote-asia" not in [h.id for h in result.hits] and result.hits[0].id == "nato-short"
    assert engine.search(SearchRequest(q="results of local elections")).rules_applied == ()
    assert result_json(engine.search(SearchRequest(q="elections")))["rules_applied"] == [exact.id]
    assert engine.search(SearchRequest(q="elections", desk=False)).rules_applied == ()


def test_rules_trigger_on_the_words_searched_for_not_negated_or_filter_words(engine, desk):
    exact = desk.add_rule({"query": "elections", "pin": ["vote-europe-2"]}, "ana")
    contains = desk.add_rule({"query": "Elections", "match": "contains", "hide": ["kyiv-1"]}, "ana")

    def fired(q: str) -> tuple[int, ...]:
        return engine.search(SearchRequest(q=q)).rules_applied

    assert fired("elections") == (exact.id, contains.id)
    # A negated word is not searched for: the rule about it does not fire.
    assert fired("kyiv -elections") == fired('kyiv -"local elections"') == ()
    assert "kyiv-1" in ranked(engine, "kyiv -elections")
    # Nor does a facet's value or a name, though they read as the trigger.
    assert fired("kyiv theme:elections") == fired("author:elections") == ()
    # A quoted phrase's words are searched for: it contains the trigger, and title: words too.
    assert fired('"local elections"') == (contains.id,)
    assert fired("title:elections") == (exact.id, contains.id)
    assert fired("ELECTIONS OR kyiv") == (contains.id,)


def test_pins_under_filters_keep_their_order_with_no_gaps(engine, desk):
    pins = ["vote-europe-2", "vote-asia", "kiev-1", "vote-europe-1"]
    desk.add_rule({"query": "elections", "pin": pins, "hide": ["vote-africa"]}, "ana")
    assert ranked(engine, "elections")[:4] == pins
    assert "vote-africa" not in ranked(engine, "elections")
    europe = {"region": ("Europe",)}
    assert ranked(engine, "elections", filters=europe) == ["vote-europe-2", "vote-europe-1"]
    paged = [
        engine.search(SearchRequest(q="elections", filters=europe, per_page=1, page=n)).hits
        for n in (1, 2, 3)
    ]
    assert [[h.id for h in hits] for hits in paged] == [["vote-europe-2"], ["vote-europe-1"], []]
    # Dates leave some out too; and in date order the pins are results in their date's place.
    recent = ranked(engine, "elections", date_from=dt.date(2024, 1, 1))
    assert recent == ["vote-europe-2", "kiev-1", "vote-europe-1"]
    newest = engine.search(SearchRequest(q="elections", sort="newest"))
    assert not any(hit.pinned for hit in newest.hits) and newest.total == 4
    assert [hit.id for hit in newest.hits][-1] == "vote-asia"  # the oldest, pinned or not


def test_a_rule_with_filters_fires_only_with_them_selected(engine, desk):
    rule = {"query": "elections", "filters": {"theme": ["Elections"]}, "pin": ["vote-asia"]}
    made = desk.add_rule(rule, "ana")
    assert engine.search(SearchRequest(q="elections")).rules_applied == ()
    chosen = engine.search(SearchRequest(q="elections", filters={"theme": ("Elections",)}))
    assert chosen.rules_applied == (made.id,) and chosen.hits[0].id == "vote-asia"


def test_a_rule_starts_and_stops_on_time(engine, desk):
    now = dt.datetime.now(dt.UTC)
    desk.add_rule(
        {"query": "elections", "pin": ["kiev-1"], "starts_at": (now + dt.timedelta(1)).isoformat()},
        "ana",
    )
    desk.add_rule(
        {"query": "elections", "pin": ["kiev-2"], "ends_at": (now - dt.timedelta(1)).isoformat()},
        "ana",
    )
    assert engine.search(SearchRequest(q="elections")).rules_applied == ()
    running = desk.add_rule(
        {
            "query": "elections",
            "pin": ["kyiv-1"],
            "starts_at": (now - dt.timedelta(1)).isoformat(),
            "ends_at": (now + dt.timedelta(1)).isoformat(),
        },
        "ana",
    )
    assert engine.search(SearchRequest(q="elections")).rules_applied == (running.id,)


def test_freshness_decays_relevance_order_only(engine, desk):
    assert ranked(engine, "canal dredging") == ["dredging-old", "dredging-new"]
    desk.set_freshness({"half_life_days": 365, "weight": 0.5}, "ana")
    assert ranked(engine, "canal dredging") == ["dredging-new", "dredging-old"]
    assert ranked(engine, "canal dredging", sort="oldest") == ["dredging-old", "dredging-new"]
    assert ranked(engine, "canal dredging", desk=False) == ["dredging-old", "dredging-new"]
    desk.set_freshness({"weight": 0}, "ana")
    assert ranked(engine, "canal dredging") == ["dredging-old", "dredging-new"]


def test_the_page_says_which_synonyms_applied_and_links_to_searching_without(index_dir, desk):
    import time

    from web import create_app

    client = create_app({"INDEX_DIR": index_dir, "TESTING": True}).test_client()
    desk.add_synonym({"words": ["kyiv", "kiev"]}, "ana")
    time.sleep(0.6)  # the app's engine looks at the desk every 0.5 s
    page = client.get("/search", query_string={"q": "<b>kiev</b> "}).get_data(as_text=True)
    assert "Also searched: <strong>&lt;b&gt;kiev&lt;/b&gt;</strong> → kyiv." in " ".join(
        page.split()
    )
    assert "<b>kiev" not in page and "/articles/kyiv-1" in page
    assert 'href="/search?q=%3Cb%3Ekiev%3C%2Fb%3E+&amp;synonyms=0"' in page
    without = client.get("/search", query_string={"q": "kiev ", "synonyms": "0"})
    text = without.get_data(as_text=True)
    assert "Also searched:" not in text and "/articles/kyiv-1" not in text
    assert 'name="synonyms" value="0"' in text  # the next search keeps it off


def test_a_changed_synonym_table_is_built_while_searches_use_the_last(index_dir):
    analyzer = fast_analyzer(IndexFolder(index_dir).open_served()[0].schema["body"].analyzer)
    many = tuple(Synonym(n, words=(f"word{n}a", f"word{n}b")) for n in range(10_000))
    tables = SynonymTables(wait_seconds=None)
    first = tables.table((*many, Synonym(10_000, words=("kyiv", "kiev"))), analyzer)
    assert [t.text for t in first.targets(("kiev",))] == ["kyiv"]
    # Synonyms equal to the table's (a rule changed, say) are the same table, not a new one.
    same = (*many, Synonym(10_000, words=("kyiv", "kiev")))
    assert tables.table(same, analyzer) is first
    # A change: the next searches do not wait for its 10,000 sets to be read again ...
    tables.wait_seconds = 0
    changed = (*many, Synonym(10_000, words=("kyiv", "kiev", "kyjiw")))
    assert tables.table(changed, analyzer) is first
    # ... and take the new table once it is built (within the desk's 2 s, well before).
    deadline = time.monotonic() + 10
    while (table := tables.table(changed, analyzer)) is first:
        assert time.monotonic() < deadline, "the new synonym table was never built"
        time.sleep(0.01)
    assert sorted(t.text for t in table.targets(("kiev",))) == ["kyiv", "kyjiw"]
    assert tables.table((), analyzer) is None
