"""Hostile import files lose nothing: every bad one is reported by path and reason,
every good article is indexed. The fixtures are generated here, never committed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from index.formats import MAX_ARTICLE_BYTES, MAX_TITLE_LENGTH, MAX_VALUES
from search.engine import SearchEngine
from search.storage.index_folder import IndexFolder
from tests.conftest import article_search_command, cli
from tests.generated_corpus import article_id, write_articles

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def text_article(title: str, body: str = "A perfectly ordinary body.", regions=("Europe",)) -> str:
    region_line = ", ".join(f"[{r}](#)" for r in regions)
    return (
        f"{title}\n\nBy [Ann Author](#)\n\nTest Wire, March 11, 2024\n\n"
        f"Region: {region_line}\n\n{body}\n"
    )


def json_line(article_id: str, title: str, **extra) -> str:
    return json.dumps({"id": article_id, "title": title, "body": "Body text.", **extra})


def write_hostile_folder(folder: Path) -> tuple[set[str], dict[tuple[str, int | None], str]]:
    """Good and bad files side by side; returns (good ids, {(name, line): reason start})."""
    folder.mkdir()
    good: set[str] = set()
    bad: dict[tuple[str, int | None], str] = {}

    write_articles(folder / "good", 30)
    good |= {f"good/{article_id(n)}" for n in range(30)}

    (folder / "empty.txt").write_bytes(b"")
    bad["empty.txt", None] = "empty file"
    (folder / "blank.md").write_bytes(b" \n\t\n\r\n")
    bad["blank.md", None] = "empty file"
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 64)
    bad["binary.txt", None] = "binary file"
    (folder / "latin1.txt").write_bytes(text_article("Café à la carte").encode("latin-1"))
    bad["latin1.txt", None] = "not UTF-8 text"
    with open(folder / "huge.txt", "w", encoding="utf-8") as huge:  # 50 MB
        huge.write(text_article("A very long article", "word " * (10 * 1024 * 1024)))
    bad["huge.txt", None] = "file too large"
    (folder / "long-title.txt").write_text(text_article("T" * 100_000))
    bad["long-title.txt", None] = "title too long"
    many = [f"Region {n}" for n in range(1000)]
    (folder / "regions.txt").write_text(text_article("A thousand regions", regions=many))
    bad["regions.txt", None] = "too many regions"
    (folder / "dangling.txt").symlink_to(folder / "nowhere.txt")
    bad["dangling.txt", None] = "cannot read"
    os.mkfifo(folder / "pipe.txt")  # reading it would block for ever
    bad["pipe.txt", None] = "not a regular file"

    # Each good .txt file above whose name ends in "-ok" is an article too.
    (folder / "unicode-ok.txt").write_text(text_article("Ünïcödé ✓ 東京 ﷺ", "Ça va. 🚀"))
    good.add("unicode-ok.txt")
    (folder / "crlf-bom-ok.txt").write_bytes(
        b"\xef\xbb\xbf" + text_article("Windows line ends").replace("\n", "\r\n").encode()
    )
    good.add("crlf-bom-ok.txt")
    (folder / "limits-ok.txt").write_text(
        text_article("L" * MAX_TITLE_LENGTH, regions=[f"R{n}" for n in range(MAX_VALUES)])
    )
    good.add("limits-ok.txt")

    lines = [json_line(f"feed-{n}", f"Feed article {n}") for n in range(1, 11)]
    lines[4] = '{"id": "feed-5", "title": "Broken in the middle", '
    bad["feed.jsonl", 5] = "bad JSON"
    lines[6] = json_line("feed-7", "Too long", body="x" * (MAX_ARTICLE_BYTES + 10))
    bad["feed.jsonl", 7] = "line too long"
    lines[7] = json_line("feed-8", "N" * 100_000)
    bad["feed.jsonl", 8] = "title too long"
    lines[8] = json_line("feed-9", "Many themes", themes=[f"T{n}" for n in range(1000)])
    bad["feed.jsonl", 9] = "too many themes"
    raw = "\n".join(lines).encode() + b"\n\xff\xfe not utf-8\n" + b"[1, 2, 3]\n\n"
    (folder / "feed.jsonl").write_bytes(raw)
    bad["feed.jsonl", 11] = "not UTF-8 text"
    bad["feed.jsonl", 12] = "not a JSON object"
    good |= {f"feed-{n}" for n in (1, 2, 3, 4, 6, 10)}

    # Duplicate ids: the first one seen (files are read in name order) is kept.
    (folder / "dup-a.jsonl").write_text(json_line("dup", "First") + "\n")
    (folder / "dup-b.jsonl").write_text(
        json_line("dup", "Second") + "\n" + json_line("dup-b-only", "Kept") + "\n"
    )
    good |= {"dup", "dup-b-only"}
    bad["dup-b.jsonl", None] = "duplicate id 'dup'"
    return good, bad


def indexed_ids(index_dir: Path) -> list[str]:
    ix, _ = IndexFolder(index_dir).open_served()
    with ix.searcher() as searcher:
        return sorted(fields["id"] for fields in searcher.all_stored_fields())


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    folder = tmp / "import"
    good, bad = write_hostile_folder(folder)
    run = cli("index", str(folder), "--index", str(tmp / "ix"), "--procs", "1", cwd=ROOT)
    return folder, tmp / "ix", good, bad, run


def test_every_good_article_is_indexed_and_nothing_else(hostile_run):
    folder, index_dir, good, _, run = hostile_run
    assert run.returncode == 1, run.stderr  # 1: some files were skipped
    assert indexed_ids(index_dir) == sorted(good)
    assert SearchEngine(index_dir).article("dup").title == "First"


def test_every_bad_file_is_reported_by_path_and_reason(hostile_run):
    folder, _, _, bad, run = hostile_run
    reported = [line for line in run.stderr.splitlines() if line.startswith("skipped ")]
    found: dict[tuple[str, int | None], str] = {}
    for line in reported:
        where, _, reason = line.removeprefix("skipped ").partition(": ")
        path, _, number = where.partition(f"{folder}/")[2].partition(":")
        found[path, int(number) if number else None] = reason
    assert set(found) == set(bad), run.stderr
    for key, reason_start in bad.items():
        assert found[key].startswith(reason_start), (key, found[key])
    assert "Traceback" not in run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert f"skipped {len(bad)}" in summary and f"{len(hostile_run[2])} articles" in summary


def test_reasons_name_the_limits(hostile_run):
    _, _, _, _, run = hostile_run
    assert "file too large (50.0 MB; an article file may be at most 5 MB)" in run.stderr
    assert "title too long (100,000 characters; at most 1,000)" in run.stderr
    assert "too many regions (1,000; at most 100)" in run.stderr


def test_rerun_reports_the_same_problems_and_changes_nothing(hostile_run):
    folder, index_dir, good, bad, _ = hostile_run
    run = cli("index", str(folder), "--index", str(index_dir), "--procs", "1", cwd=ROOT)
    assert run.returncode == 1
    assert run.stdout.strip().endswith(f"({len(good)} articles in the index)")
    assert "added 0, updated 0, removed 0" in run.stdout
    assert len([line for line in run.stderr.splitlines() if line.startswith("skipped ")]) == len(
        bad
    )
    assert indexed_ids(index_dir) == sorted(good)


def test_a_file_that_turns_bad_keeps_its_articles_until_it_is_fixed(tmp_path):
    from index.indexer import index_paths

    folder = tmp_path / "import"
    write_articles(folder, 5)
    feed = folder / "feed.jsonl"
    feed.write_text("\n".join(json_line(f"f{n}", f"Feed {n}") for n in range(4)) + "\n")
    index_dir = tmp_path / "ix"
    assert not index_paths(index_dir, [folder], procs=1).problems
    everything = indexed_ids(index_dir)
    assert len(everything) == 9

    # A half-copied text file and a JSON line broken in place: reported, nothing removed.
    (folder / article_id(2)).write_bytes(b"\x00\x01 half copied")
    lines = feed.read_text().splitlines()
    feed.write_text("\n".join([lines[0], lines[1][:20], *lines[2:]]) + "\n")
    report = index_paths(index_dir, [folder], procs=1)
    assert sorted(str(p).removeprefix(f"{folder}/") for p in report.problems) == [
        f"{article_id(2)}: binary file",
        "feed.jsonl:2: bad JSON: Expecting ':' delimiter (column 21)",
    ]
    assert report.removed == 0
    assert indexed_ids(index_dir) == everything

    # Unchanged and still bad: read and reported again, so the exit status stays 1.
    again = index_paths(index_dir, [folder], procs=1)
    assert [str(p) for p in again.problems] == [str(p) for p in report.problems]
    assert (again.added, again.updated, again.removed) == (0, 0, 0)

    # Fixed: the JSON line's article is updated, the text file's article comes back.
    feed.write_text("\n".join(lines) + "\n")
    write_articles(folder, 5)
    fixed = index_paths(index_dir, [folder], procs=1)
    assert not fixed.problems and fixed.removed == 0
    assert indexed_ids(index_dir) == everything
    assert not index_paths(index_dir, [folder], procs=1).problems


def test_a_rebuild_of_a_missing_or_empty_folder_keeps_the_live_index(tmp_path):
    folder, index_dir, empty = tmp_path / "import", tmp_path / "ix", tmp_path / "unmounted"
    write_articles(folder, 5)
    empty.mkdir()
    assert cli("index", str(folder), "--index", str(index_dir)).returncode == 0
    everything = indexed_ids(index_dir)

    typo = cli("index", "--rebuild", str(tmp_path / "imprt"), "--index", str(index_dir))
    assert typo.returncode == 2
    assert typo.stderr == (
        f"article-search: {tmp_path / 'imprt'}: no such file or folder; a rebuild replaces "
        "the whole index, so nothing was changed\n"
    )
    unmounted = cli("index", "--rebuild", str(empty), "--index", str(index_dir))
    assert unmounted.returncode == 2
    assert unmounted.stderr.startswith("article-search: the new index would hold no articles")
    # An incremental run of a missing folder reports it and removes nothing either.
    incremental = cli("index", str(tmp_path / "imprt"), "--index", str(index_dir))
    assert incremental.returncode == 1 and "no such file or folder" in incremental.stderr
    assert indexed_ids(index_dir) == everything
    assert [p.name for p in (index_dir / "builds").iterdir()] == [
        (index_dir / "current").resolve().name
    ]


def test_an_index_begun_empty_can_be_added_to(tmp_path):
    empty, folder, index_dir = tmp_path / "empty", tmp_path / "import", tmp_path / "ix"
    empty.mkdir()
    write_articles(folder, 5)
    assert cli("index", str(empty), "--index", str(index_dir)).returncode == 0
    added = cli("index", str(folder), "--index", str(index_dir))  # was a traceback
    assert added.returncode == 0, added.stderr
    assert len(indexed_ids(index_dir)) == 5


def test_search_output_cut_short_by_head_is_no_traceback(tmp_path):
    folder, index_dir = tmp_path / "import", tmp_path / "ix"
    write_articles(folder, 200, paragraphs=(1, 1))
    assert cli("index", str(folder), "--index", str(index_dir)).returncode == 0
    # Far more than a pipe holds (64 KB), so the writer is still writing when head exits.
    shell = f"{article_search_command()} search '' --json --limit 200 --index {index_dir} | head -1"
    run = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "{"
    assert "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr, run.stderr
