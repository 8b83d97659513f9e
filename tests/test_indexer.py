"""The indexer on real Whoosh indexes: incremental runs, bad files, rebuild-and-swap, lock."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from index.indexed_state import IndexedArticles
from index.indexer import index_paths
from index.lock import IndexLockedError, indexer_lock
from search.engine import SearchEngine
from search.results import SearchRequest
from search.storage.index_folder import BUILDS_DIR, CURRENT_LINK, INDEX_NAME, IndexFolder


def article_text(
    title: str,
    body: str,
    *,
    date: str = "March 11, 2024",
    source: str = "Test Wire",
    authors: tuple[str, ...] = (),
    regions: tuple[str, ...] = (),
    themes: tuple[str, ...] = (),
) -> str:
    """One article in the site's text export."""

    def links(values):
        return ", ".join(f"[{value}](#)" for value in values)

    lines = [title, ""]
    if authors:
        lines += [f"By {links(authors)}", ""]
    lines += [f"{source}, {date}", ""]
    if regions:
        lines += [f"Region: {links(regions)}", ""]
    if themes:
        lines += [f"Theme: {links(themes)}", ""]
    return "\n".join([*lines, body, ""])


def json_line(article_id: str, title: str, **members) -> str:
    return json.dumps({"id": article_id, "title": title, "body": f"About {title}.", **members})


def write_folder(folder: Path, count: int = 5) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for number in range(count):
        path = folder / f"story-{number}.txt"
        path.write_text(
            article_text(
                f"Story number {number}",
                f"The harbour board met for the {number} time to discuss dredging.",
                date=f"January {number + 1}, 2024",
                regions=("Europe",),
            )
        )
        paths[path.name] = path
    return paths


def index(index_dir: Path, *paths: Path, **options):
    return index_paths(index_dir, list(paths), procs=1, **options)


def counts(report) -> tuple[int, int, int]:
    return report.added, report.updated, report.removed


def build_state(index_dir: Path) -> tuple[int, dict[str, int]]:
    """The live build's Whoosh generation and its files with their modification times."""
    build = IndexFolder(index_dir).live_build()
    generation = whoosh_index.open_dir(build, indexname=INDEX_NAME).latest_generation()
    files = {p.name: p.stat().st_mtime_ns for p in build.iterdir() if "LOCK" not in p.name}
    return generation, files


def titles(index_dir: Path) -> dict[str, str]:
    engine = SearchEngine(index_dir)
    result = engine.search(SearchRequest(per_page=100))
    return {hit.id: hit.title for hit in result.hits}


# --- incremental runs over a folder of text-export files ---


def test_first_run_adds_every_article(tmp_path):
    write_folder(tmp_path / "src")
    report = index(tmp_path / "ix", tmp_path / "src")
    assert counts(report) == (5, 0, 0)
    assert (report.skipped, report.documents) == (0, 5)
    assert titles(tmp_path / "ix")["story-3.txt"] == "Story number 3"


def test_rerun_on_unchanged_folder_changes_and_writes_nothing(tmp_path):
    write_folder(tmp_path / "src")
    index(tmp_path / "ix", tmp_path / "src")
    before = build_state(tmp_path / "ix")
    link = os.readlink(tmp_path / "ix" / CURRENT_LINK)

    report = index(tmp_path / "ix", tmp_path / "src")

    assert counts(report) == (0, 0, 0)
    assert (report.unchanged, report.skipped) == (5, 0)
    assert build_state(tmp_path / "ix") == before
    assert os.readlink(tmp_path / "ix" / CURRENT_LINK) == link


def test_touched_but_identical_file_is_not_rewritten(tmp_path):
    paths = write_folder(tmp_path / "src")
    index(tmp_path / "ix", tmp_path / "src")
    before = build_state(tmp_path / "ix")
    stat = paths["story-2.txt"].stat()
    os.utime(paths["story-2.txt"], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))

    report = index(tmp_path / "ix", tmp_path / "src")

    assert counts(report) == (0, 0, 0)
    assert build_state(tmp_path / "ix") == before


def test_editing_one_file_updates_exactly_that_article(tmp_path):
    paths = write_folder(tmp_path / "src")
    index(tmp_path / "ix", tmp_path / "src")
    paths["story-1.txt"].write_text(
        article_text("Story number one, revised", "Dredging resumed.", date="May 5, 2024")
    )

    report = index(tmp_path / "ix", tmp_path / "src")

    assert counts(report) == (0, 1, 0)
    assert report.unchanged == 4
    found = titles(tmp_path / "ix")
    assert len(found) == 5
    assert found["story-1.txt"] == "Story number one, revised"
    assert found["story-0.txt"] == "Story number 0"
    engine = SearchEngine(tmp_path / "ix")
    assert engine.article("story-1.txt").regions == ()
    assert engine.search(SearchRequest(q="resumed")).total == 1
    assert engine.search(SearchRequest(q="harbour")).total == 4


def test_deleting_a_file_removes_its_article(tmp_path):
    paths = write_folder(tmp_path / "src")
    index(tmp_path / "ix", tmp_path / "src")
    paths["story-4.txt"].unlink()

    report = index(tmp_path / "ix", tmp_path / "src")

    assert counts(report) == (0, 0, 1)
    assert report.documents == 4
    engine = SearchEngine(tmp_path / "ix")
    assert engine.article("story-4.txt") is None
    assert engine.search(SearchRequest(q="harbour")).total == 4


def test_adding_a_file_adds_its_article(tmp_path):
    write_folder(tmp_path / "src")
    index(tmp_path / "ix", tmp_path / "src")
    (tmp_path / "src" / "sub").mkdir()
    (tmp_path / "src" / "sub" / "new.md").write_text(
        article_text("A new arrival", "Cormorants nest on the breakwater.")
    )

    report = index(tmp_path / "ix", tmp_path / "src")

    assert counts(report) == (1, 0, 0)
    assert report.documents == 6
    engine = SearchEngine(tmp_path / "ix")
    assert engine.article("sub/new.md").title == "A new arrival"
    assert engine.search(SearchRequest(q="cormorants")).total == 1


def test_indexing_another_folder_keeps_the_first(tmp_path):
    write_folder(tmp_path / "one", count=2)
    index(tmp_path / "ix", tmp_path / "one")
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "other.txt").write_text(article_text("Elsewhere", "Text."))

    report = index(tmp_path / "ix", tmp_path / "two")

    assert counts(report) == (1, 0, 0)
    assert report.documents == 3


# --- incremental runs over a JSON Lines file ---


@pytest.fixture()
def jsonl_file(tmp_path) -> Path:
    path = tmp_path / "feed" / "articles.jsonl"
    path.parent.mkdir()
    lines = [
        json_line(f"j{n}", f"Feed story {n}", date=f"2023-0{n + 1}-15", themes=["Trade"])
        for n in range(4)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def rewrite_lines(path: Path, change) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(change(lines)) + "\n")


def test_jsonl_rerun_unchanged_writes_nothing(tmp_path, jsonl_file):
    first = index(tmp_path / "ix", jsonl_file)
    assert counts(first) == (4, 0, 0)
    before = build_state(tmp_path / "ix")

    report = index(tmp_path / "ix", jsonl_file)

    assert counts(report) == (0, 0, 0)
    assert report.unchanged == 4
    assert build_state(tmp_path / "ix") == before


def test_jsonl_edited_line_updates_one_article(tmp_path, jsonl_file):
    index(tmp_path / "ix", jsonl_file.parent)

    def edit(lines):
        lines[2] = json_line("j2", "Feed story two, corrected", date="2023-03-16")
        return lines

    rewrite_lines(jsonl_file, edit)
    report = index(tmp_path / "ix", jsonl_file.parent)

    assert counts(report) == (0, 1, 0)
    assert report.unchanged == 3
    article = SearchEngine(tmp_path / "ix").article("j2")
    assert (article.title, article.date.isoformat(), article.themes) == (
        "Feed story two, corrected",
        "2023-03-16",
        (),
    )
    # The run after the edit changes and writes nothing.
    before = build_state(tmp_path / "ix")
    assert counts(index(tmp_path / "ix", jsonl_file.parent)) == (0, 0, 0)
    assert build_state(tmp_path / "ix") == before


def test_jsonl_removed_line_removes_one_article(tmp_path, jsonl_file):
    index(tmp_path / "ix", jsonl_file)
    rewrite_lines(jsonl_file, lambda lines: lines[:1] + lines[2:])

    report = index(tmp_path / "ix", jsonl_file)

    assert counts(report) == (0, 0, 1)
    engine = SearchEngine(tmp_path / "ix")
    assert engine.article("j1") is None
    assert engine.article("j0") is not None
    assert report.documents == 3


def test_jsonl_added_line_adds_one_article(tmp_path, jsonl_file):
    index(tmp_path / "ix", jsonl_file)
    rewrite_lines(jsonl_file, lambda lines: [*lines, json_line("j9", "Late addition")])

    report = index(tmp_path / "ix", jsonl_file)

    assert counts(report) == (1, 0, 0)
    assert SearchEngine(tmp_path / "ix").article("j9").title == "Late addition"


def test_duplicate_id_is_reported_and_first_kept(tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text(json_line("same", "First") + "\n" + json_line("same", "Second") + "\n")

    report = index(tmp_path / "ix", path)

    assert report.added == 1
    assert [p.reason for p in report.problems] == [
        f"duplicate id 'same' (already imported from {path})"
    ]
    assert SearchEngine(tmp_path / "ix").article("same").title == "First"
    assert SearchEngine(tmp_path / "ix").search(SearchRequest()).total == 1
    assert counts(index(tmp_path / "ix", path)) == (0, 0, 0)


def test_duplicate_id_in_a_new_file_is_reported_against_an_unchanged_one(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.jsonl").write_text(json_line("shared", "From a") + "\n")
    index(tmp_path / "ix", tmp_path / "src")
    (tmp_path / "src" / "b.jsonl").write_text(json_line("shared", "From b") + "\n")

    report = index(tmp_path / "ix", tmp_path / "src")

    assert counts(report) == (0, 0, 0)
    assert [str(p) for p in report.problems] == [
        f"{tmp_path / 'src' / 'b.jsonl'}: duplicate id 'shared' "
        f"(already imported from {tmp_path / 'src' / 'a.jsonl'})"
    ]
    assert SearchEngine(tmp_path / "ix").article("shared").title == "From a"


# --- a folder of bad files ---


def write_bad_folder(folder: Path) -> None:
    folder.mkdir()
    (folder / "good.txt").write_text(article_text("A good article", "Oysters return to the bay."))
    (folder / "latin1.txt").write_bytes("Café society\n\nBody.\n".encode("latin-1"))
    (folder / "binary.txt").write_bytes(b"GIF89a\x00\x01\x02\x00\xff\xfe")
    (folder / "empty.txt").write_text("")
    (folder / "no-title.md").write_text("Region: [Europe](#)\n\nThe body without a title.\n")
    (folder / "bad-date.txt").write_text(
        article_text("Dated nowhere", "Body.", date="Febtember 31, 2024")
    )
    lines = [
        json_line("feed-1", "Feed one"),
        json_line("feed-2", "Feed two"),
        '{"id": "feed-3", "title": "Broken", ',
        json_line("feed-4", "Feed four", date="2024-02-30"),
        json_line("feed-5", "Feed five"),
    ]
    (folder / "feed.jsonl").write_text("\n".join(lines) + "\n")


def test_bad_files_are_reported_and_good_ones_indexed(tmp_path):
    folder = tmp_path / "bad"
    write_bad_folder(folder)

    report = index(tmp_path / "ix", folder)

    problems = {(Path(p.path).name, p.line): p.reason for p in report.problems}
    assert set(problems) == {
        ("latin1.txt", None),
        ("binary.txt", None),
        ("empty.txt", None),
        ("no-title.md", None),
        ("bad-date.txt", None),
        ("feed.jsonl", 3),
        ("feed.jsonl", 4),
    }
    assert problems[("latin1.txt", None)].startswith("not UTF-8")
    assert problems[("binary.txt", None)] == "binary file"
    assert problems[("empty.txt", None)] == "empty file"
    assert problems[("no-title.md", None)] == "no title"
    assert problems[("bad-date.txt", None)] == "unparseable date 'Febtember 31, 2024'"
    assert problems[("feed.jsonl", 3)].startswith("bad JSON")
    assert problems[("feed.jsonl", 4)] == "unparseable date '2024-02-30'"
    assert all(Path(p.path).is_absolute() and Path(p.path).exists() for p in report.problems)
    assert str(report.problems[0]).startswith(str(folder))

    assert report.added == 4
    engine = SearchEngine(tmp_path / "ix")
    for article_id in ("good.txt", "feed-1", "feed-2", "feed-5"):
        assert engine.article(article_id) is not None, article_id
    assert engine.search(SearchRequest()).total == 4


def test_missing_path_is_reported(tmp_path):
    report = index(tmp_path / "ix", tmp_path / "nowhere")
    assert [(p.path, p.reason) for p in report.problems] == [
        (str(tmp_path / "nowhere"), "no such file or folder")
    ]


# --- rebuild and swap ---


def test_rebuild_builds_beside_the_live_index_and_swaps(tmp_path):
    paths = write_folder(tmp_path / "src")
    index_dir = tmp_path / "ix"
    index(index_dir, tmp_path / "src")
    first_build = IndexFolder(index_dir).live_build()
    engine = SearchEngine(index_dir, refresh_seconds=3600)
    assert engine.search(SearchRequest(q="harbour")).total == 5
    first_generation = engine.stats().generation

    paths["story-0.txt"].unlink()
    report = index(index_dir, tmp_path / "src", rebuild=True)

    assert counts(report) == (4, 0, 0)
    second_build = IndexFolder(index_dir).live_build()
    assert second_build != first_build
    assert second_build.parent == index_dir / BUILDS_DIR
    # The old build stays for readers that still have it open ...
    assert first_build.is_dir()
    # ... and the open engine keeps answering from it until it refreshes.
    assert engine.search(SearchRequest(q="harbour")).total == 5
    assert engine.article("story-0.txt") is not None
    engine.refresh_seconds = 0
    assert engine.search(SearchRequest(q="harbour")).total == 4
    assert engine.article("story-0.txt") is None
    assert engine.stats().generation != first_generation

    # The next rebuild removes the oldest build; the engine follows again.
    index(index_dir, tmp_path / "src", rebuild=True)
    assert not first_build.exists()
    assert second_build.is_dir()
    assert sorted(p.name for p in (index_dir / BUILDS_DIR).iterdir()) == sorted(
        [second_build.name, IndexFolder(index_dir).live_build().name]
    )
    assert engine.search(SearchRequest(q="harbour")).total == 4
    assert engine.stats().generation.startswith(IndexFolder(index_dir).live_build().name)


def test_rebuild_with_several_processes_gives_the_same_articles(tmp_path):
    write_folder(tmp_path / "src", count=12)
    index_paths(tmp_path / "one", [tmp_path / "src"], procs=1)
    index_paths(tmp_path / "two", [tmp_path / "src"], procs=2, rebuild=True)
    assert titles(tmp_path / "one") == titles(tmp_path / "two")


def test_a_second_indexer_is_refused_while_the_lock_is_held(tmp_path):
    write_folder(tmp_path / "src", count=1)
    with indexer_lock(tmp_path / "ix"), pytest.raises(IndexLockedError) as raised:
        index(tmp_path / "ix", tmp_path / "src")
    assert f"another indexer is running on {tmp_path / 'ix'} (pid {os.getpid()})" in str(
        raised.value
    )
    # Released: the next run goes ahead.
    assert index(tmp_path / "ix", tmp_path / "src").added == 1


def test_a_failed_rebuild_leaves_the_live_index_alone(tmp_path):
    write_folder(tmp_path / "src", count=3)
    index(tmp_path / "ix", tmp_path / "src")
    live = IndexFolder(tmp_path / "ix").live_build()

    def explode(sources):
        yield from list(sources)[:1]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index(tmp_path / "ix", tmp_path / "src", rebuild=True, progress=explode)

    assert IndexFolder(tmp_path / "ix").live_build() == live
    assert [p.resolve() for p in (tmp_path / "ix" / BUILDS_DIR).iterdir()] == [live]
    assert len(titles(tmp_path / "ix")) == 3


def test_copied_folder_keeps_ids(tmp_path):
    write_folder(tmp_path / "src", count=2)
    shutil.copytree(tmp_path / "src", tmp_path / "copy")
    index(tmp_path / "a", tmp_path / "src")
    index(tmp_path / "b", tmp_path / "copy")
    assert titles(tmp_path / "a") == titles(tmp_path / "b")


def test_a_line_moved_to_another_file_belongs_to_that_file(tmp_path):
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    first, second = feeds / "a.jsonl", feeds / "b.jsonl"
    moving, staying = json_line("moving", "Moving story"), json_line("staying", "Staying story")
    first.write_text(f"{moving}\n{staying}\n")
    index(tmp_path / "ix", feeds)
    first.write_text(f"{staying}\n")
    second.write_text(f"{moving}\n")

    index(tmp_path / "ix", feeds)

    assert SearchEngine(tmp_path / "ix").article("moving").source_file == str(second)
    # Re-importing the first file alone must not remove what now lives in the second.
    report = index(tmp_path / "ix", first)
    assert counts(report) == (0, 0, 0)
    assert SearchEngine(tmp_path / "ix").article("moving") is not None
    # Emptying the second file removes it.
    second.write_text("")
    assert counts(index(tmp_path / "ix", second)) == (0, 0, 1)


def test_indexed_articles_rows_follow_segments_and_deletions(tmp_path):
    """The compact run state reads every live article, over segments with deletions."""
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "a.jsonl").write_text("".join(json_line(f"a{n}", f"A {n}") + "\n" for n in range(5)))
    index(tmp_path / "ix", feeds)
    (feeds / "b.jsonl").write_text(json_line("b0", "B zero") + "\n" + json_line("a1", "A1") + "\n")
    (feeds / "a.jsonl").write_text("".join(json_line(f"a{n}", f"A {n}") + "\n" for n in (0, 2, 4)))
    index(tmp_path / "ix", feeds)  # a3 gone, a1 moved to b.jsonl: deleted rows in segment 1

    with IndexedArticles(IndexFolder(tmp_path / "ix").served().open()) as state:
        rows = {state.article_id(row): row for row in range(len(state))}
        assert sorted(rows) == ["a0", "a1", "a2", "a4", "b0"]
        assert all(state.row_of(article_id) == row for article_id, row in rows.items())
        assert state.row_of("a3") is None and state.row_of("a") is None
        in_b = sorted(state.article_id(row) for row in state.rows_of_file(str(feeds / "b.jsonl")))
        assert in_b == ["a1", "b0"]
        assert state.source_file(rows["a1"]) == str(feeds / "b.jsonl")
        assert not len(state.rows_of_file(str(feeds / "c.jsonl")))
        stamp = state.source_stamp(rows["a0"])
        assert state.all_stamped(state.rows_of_file(str(feeds / "a.jsonl")), stamp)
        assert not state.all_stamped(state.rows_of_file(str(feeds / "a.jsonl")), "0:0")
