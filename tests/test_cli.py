"""The article-search command: index and search, through main() and as a real process."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from index.cli import main
from index.lock import indexer_lock
from search.engine import SearchEngine
from search.results import SearchRequest
from search.storage.index_folder import IndexFolder
from tests.conftest import DEMO_ARTICLES, article_search_command


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


# --- index ---


def test_index_clean_folder_exits_0(tmp_path, capsys):
    status, out, err = run(capsys, "index", DEMO_ARTICLES, "--index", tmp_path / "ix")
    assert status == 0
    assert err == ""
    assert out.startswith("added 40, updated 0, removed 0, unchanged 0, skipped 0 in ")
    assert out.rstrip().endswith("(40 articles in the index)")

    status, out, err = run(capsys, "index", DEMO_ARTICLES, "--index", tmp_path / "ix")
    assert status == 0
    assert out.startswith("added 0, updated 0, removed 0, unchanged 40, skipped 0 in ")


def test_index_with_bad_files_reports_each_and_exits_1(tmp_path, capsys):
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "good.txt").write_text("A good one\n\nTest Wire, May 1, 2024\n\nFine text.\n")
    (folder / "latin1.txt").write_bytes("Caf\xe9\n\nBody.\n".encode("latin-1"))
    (folder / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (folder / "empty.txt").write_text("   \n")
    (folder / "untitled.txt").write_text("Theme: [Trade](#)\n\nText.\n")
    (folder / "when.txt").write_text("Undated\n\nTest Wire, Smarch 3, 2024\n\nText.\n")
    (folder / "lines.jsonl").write_text(
        '{"id": "ok-1", "title": "First"}\n{"id": "broken"\n{"id": "ok-2", "title": "Second"}\n'
    )

    status, out, err = run(capsys, "index", folder, "--index", tmp_path / "ix")

    assert status == 1
    assert "added 3," in out and "skipped 6 " in out
    assert sorted(err.splitlines()) == sorted(
        [
            f"skipped {folder / 'binary.md'}: binary file",
            f"skipped {folder / 'empty.txt'}: empty file",
            f"skipped {folder / 'latin1.txt'}: not UTF-8 text (byte 0xe9 at offset 3)",
            f"skipped {folder / 'untitled.txt'}: no title",
            f"skipped {folder / 'when.txt'}: unparseable date 'Smarch 3, 2024'",
            f"skipped {folder / 'lines.jsonl'}:2: bad JSON: Expecting ',' delimiter (column 16)",
        ]
    )
    engine = SearchEngine(tmp_path / "ix")
    assert {hit.id for hit in engine.search(SearchRequest()).hits} == {"good.txt", "ok-1", "ok-2"}


def test_index_missing_path_exits_1(tmp_path, capsys):
    status, _, err = run(capsys, "index", tmp_path / "nowhere", "--index", tmp_path / "ix")
    assert status == 1
    assert err == f"skipped {tmp_path / 'nowhere'}: no such file or folder\n"


def test_index_while_another_indexer_holds_the_lock_exits_2(tmp_path, capsys):
    index_dir = tmp_path / "ix"
    with indexer_lock(index_dir):
        status, out, err = run(capsys, "index", DEMO_ARTICLES, "--index", index_dir)
    assert status == 2
    assert out == ""
    assert err == (
        f"article-search: another indexer is running on {index_dir} (pid {os.getpid()}); "
        "wait for it to finish, then run this again\n"
    )
    assert not (index_dir / "current").exists()  # nothing was written


def test_index_rebuild_swaps_the_live_build(tmp_path, capsys):
    index_dir = tmp_path / "ix"
    assert run(capsys, "index", DEMO_ARTICLES, "--index", index_dir)[0] == 0
    before = IndexFolder(index_dir).live_build()
    status, out, _ = run(capsys, "index", DEMO_ARTICLES, "--index", index_dir, "--rebuild")
    assert status == 0
    assert out.startswith("added 40, updated 0, removed 0, unchanged 0, skipped 0")
    assert IndexFolder(index_dir).live_build() != before


def test_index_folder_from_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARTICLE_SEARCH_INDEX", str(tmp_path / "from-env"))
    assert run(capsys, "index", DEMO_ARTICLES)[0] == 0
    assert IndexFolder(tmp_path / "from-env").live_build().is_dir()


# --- search ---


@pytest.fixture(scope="module")
def demo_index_dir(demo_index) -> str:
    return str(demo_index)


def test_search_prints_total_and_hits(demo_index_dir, demo_articles, capsys):
    status, out, err = run(capsys, "search", "heat pump", "--index", demo_index_dir)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "10 articles"
    assert len(lines) == 11
    first = demo_articles["2019-10-15-rural-households-heat-pump-grants.txt"]
    heat_pump_titles = {
        f"{a.date.isoformat()}  {a.title}  [{i}]"
        for i, a in demo_articles.items()
        if "Heat Pump" in a.title
    }
    assert f"{first.date}  {first.title}  [{first.id}]" in heat_pump_titles
    assert set(lines[1:4]) == heat_pump_titles


def test_search_with_region_and_theme(demo_index_dir, demo_articles, capsys):
    status, out, _ = run(
        capsys,
        "search",
        "",
        "--region",
        "Europe",
        "--region",
        "Asia",
        "--theme",
        "Energy",
        "--index",
        demo_index_dir,
    )
    expected = {
        i
        for i, a in demo_articles.items()
        if {"Europe", "Asia"} & set(a.regions) and "Energy" in a.themes
    }
    lines = out.splitlines()
    assert status == 0
    assert lines[0] == f"{len(expected)} articles"
    assert {line.rsplit("[", 1)[1].rstrip("]") for line in lines[1:]} == expected


def test_search_value_with_an_ampersand(demo_index_dir, demo_articles, capsys):
    value = "Latin America & Caribbean"
    status, out, _ = run(capsys, "search", "", "--region", value, "--index", demo_index_dir)
    expected = sum(value in a.regions for a in demo_articles.values())
    assert (status, out.splitlines()[0]) == (0, f"{expected} articles")


def _ids(out: str) -> set[str]:
    return {line.rsplit("[", 1)[1].rstrip("]") for line in out.splitlines()[1:]}


def test_search_filters_by_any_configured_facet(demo_index_dir, demo_articles, capsys, monkeypatch):
    monkeypatch.setenv("ARTICLE_SEARCH_FACETS", "region,theme,author,year")
    status, out, err = run(
        capsys,
        "search",
        "",
        "--filter",
        "author=Radosław Nowak",
        "--filter",
        "year=2021",
        "--filter",
        "YEAR = 2022",
        "--region",
        "Europe",
        "--limit",
        "100",
        "--index",
        demo_index_dir,
    )
    expected = {
        i
        for i, a in demo_articles.items()
        if "Radosław Nowak" in a.authors
        and a.date
        and a.date.year in (2021, 2022)
        and "Europe" in a.regions
    }
    assert (status, err) == (0, "")
    assert expected and out.splitlines()[0] == f"{len(expected)} articles"
    assert _ids(out) == expected


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("colour=red", "no facet named 'colour' in this archive: its facets are region, theme"),
        ("author=Radosław Nowak", "no facet named 'author'"),  # not configured
        ("year=21", "year must be a year written YYYY, not '21'"),
    ],
)
def test_search_filter_the_archive_does_not_count_exits_2(
    demo_index_dir, capsys, monkeypatch, given, says
):
    monkeypatch.setenv("ARTICLE_SEARCH_FACETS", "region,theme,year")
    status, out, err = run(capsys, "search", "", "--filter", given, "--index", demo_index_dir)
    assert (status, out) == (2, "")
    assert says in err


@pytest.mark.parametrize("given", ["region", "=Europe", "region=", "region= "])
def test_search_filter_not_written_name_equals_value_is_a_usage_error(
    demo_index_dir, capsys, given
):
    with pytest.raises(SystemExit) as exited:
        main(["search", "", "--filter", given, "--index", str(demo_index_dir)])
    assert exited.value.code == 2
    assert "expected NAME=VALUE" in capsys.readouterr().err


def test_search_json(demo_index_dir, demo_articles, capsys):
    status, out, _ = run(
        capsys, "search", "cocoa", "--theme", "Trade", "--json", "--index", demo_index_dir
    )
    assert status == 0
    data = json.loads(out)
    expected = [
        i for i, a in demo_articles.items() if "Trade" in a.themes and "cocoa" in a.body.lower()
    ]
    assert data["query"] == "cocoa"
    assert data["total"] == len(expected) == 1
    (hit,) = data["results"]
    article = demo_articles[expected[0]]
    assert hit["id"] == article.id
    assert (hit["title"], hit["date"], hit["regions"], hit["themes"]) == (
        article.title,
        article.date.isoformat(),
        list(article.regions),
        list(article.themes),
    )
    assert "<mark>" in hit["snippet"].lower()
    themes = {v["value"]: v for v in data["facets"]["theme"]}
    assert themes["Trade"] == {"value": "Trade", "count": 1, "selected": True}
    assert set(data) >= {"facets", "suggestion", "timeline", "took_ms", "page", "per_page"}


def test_search_limit_and_suggestion(demo_index_dir, capsys):
    status, out, _ = run(capsys, "search", "", "--limit", "3", "--index", demo_index_dir)
    assert status == 0 and len(out.splitlines()) == 4
    status, out, _ = run(capsys, "search", "hospitls", "--no-typos", "--index", demo_index_dir)
    assert status == 0
    assert out.splitlines() == ["0 articles", "did you mean: hospitals"]
    status, out, _ = run(capsys, "search", "hospitls", "--index", demo_index_dir)
    assert status == 0
    assert out.splitlines()[-1] == "showing results for: hospitals (--no-typos for as typed)"
    assert out.splitlines()[0] != "0 articles"
    status, out, _ = run(capsys, "search", "ukr", "--whole-words", "--index", demo_index_dir)
    assert out.splitlines() == ["0 articles"]


@pytest.mark.parametrize("query", ['"unbalanced', "title:", "-", "((", "!@#$%" * 1000])
def test_search_malformed_queries_exit_0(demo_index_dir, capsys, query):
    status, out, err = run(capsys, "search", query, "--index", demo_index_dir)
    assert status == 0 and err == ""
    assert out.splitlines()[0].endswith(" articles")


def test_search_without_an_index_exits_2(tmp_path, capsys):
    status, out, err = run(capsys, "search", "heat", "--index", tmp_path / "none")
    assert (status, out) == (2, "")
    assert err == (
        f"article-search: no index in {tmp_path / 'none'}: run 'article-search index PATH' first\n"
    )


@pytest.mark.slow
def test_real_process_indexes_and_searches(tmp_path):
    command = article_search_command()
    env = {**os.environ, "ARTICLE_SEARCH_INDEX": str(tmp_path / "ix")}
    indexed = subprocess.run(
        [command, "index", str(DEMO_ARTICLES)], env=env, capture_output=True, text=True, timeout=60
    )
    assert indexed.returncode == 0, indexed.stderr
    assert indexed.stdout.startswith("added 40,")

    searched = subprocess.run(
        [command, "search", "Séverin", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert searched.returncode == 0, searched.stderr
    data = json.loads(searched.stdout)
    assert [hit["id"] for hit in data["results"]] == [
        "2021-09-14-severin-night-trains-regional-rail.txt"
    ]

    plain = subprocess.run(
        [command, "search", "severin", "--region", "Europe"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plain.returncode == 0
    assert plain.stdout.splitlines() == [
        "1 articles",
        "2021-09-14  Minister Élodie Séverin Bets on Night Trains to Revive Regional Rail  "
        "[2021-09-14-severin-night-trains-regional-rail.txt]",
    ]

    with indexer_lock(tmp_path / "ix"):
        locked_out = subprocess.run(
            [command, "index", str(DEMO_ARTICLES)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert locked_out.returncode == 2
    assert "another indexer is running on" in locked_out.stderr
