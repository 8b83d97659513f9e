"""A power cut (or a bad disk) damages what the last commit wrote: each file it wrote is
cut short, zeroed or removed in turn, and the table of contents too. The index still opens
on the newest intact generation and says so (/healthz), and the next indexer run repairs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from index.indexer import index_paths
from search.engine import SearchEngine
from search.results import SearchRequest
from search.storage.index_folder import INDEX_NAME, IndexFolder
from search.storage.manifest import VERIFIED_NAME, Manifest, VerifiedChecksums
from tests.conftest import DEMO_ARTICLES, article_search_command, serving
from web.health import health_report

pytestmark = pytest.mark.slow

NEW_ID = "late-news.txt"
NEW_ARTICLE = """\
Quarry Town Votes to Reopen Its Lido

By [Ada Brennan](#)

Demo Wire, August 5, 2025

Region: [Europe](#)

The quarry town of Holloway Ferns voted to reopen its lido after twelve dry summers.
"""


def damage(path: Path, how: str) -> None:
    if how == "removed":
        path.unlink()
    elif how == "truncated":
        with open(path, "r+b") as stream:
            stream.truncate(path.stat().st_size // 2)
    else:  # zeroed: the size a power cut often leaves, with nothing in it
        path.write_bytes(bytes(path.stat().st_size))


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> dict:
    """A demo index plus one incremental commit (the "last commit"), kept pristine."""
    root = tmp_path_factory.mktemp("power")
    source = root / "articles"
    shutil.copytree(DEMO_ARTICLES, source)
    index_dir = root / "index"
    index_paths(index_dir, [source], procs=1)
    build = IndexFolder(index_dir).live_build()
    before = {p.name: p.stat().st_mtime_ns for p in build.iterdir()}
    (source / NEW_ID).write_text(NEW_ARTICLE)
    assert index_paths(index_dir, [source], procs=1).added == 1
    written = sorted(
        p.name
        for p in build.iterdir()
        # The record of checksums read is no part of a commit (search.storage.manifest).
        if before.get(p.name) != p.stat().st_mtime_ns
        and "LOCK" not in p.name
        and p.name != VERIFIED_NAME
    )
    return {"root": root, "source": source, "index": index_dir, "written": written}


def last_commit_files(committed: dict) -> list[str]:
    return committed["written"]


def fresh_copy(committed: dict, tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(committed["source"], tmp_path / "articles")
    shutil.copytree(committed["index"], tmp_path / "index", symlinks=True)
    return tmp_path / "index", tmp_path / "articles"


def found(engine: SearchEngine, q: str) -> set[str]:
    """The articles holding ``q``'s words (by words only: never the nearest in meaning)."""
    request = SearchRequest(q=q, per_page=100, semantic=False)
    return {hit.id for hit in engine.search(request).hits}


def test_the_last_commit_wrote_segment_files_a_toc_and_a_manifest(committed):
    written = last_commit_files(committed)
    generation = IndexFolder(committed["index"]).served().generation.number
    assert f"_{INDEX_NAME}_{generation}.toc" in written
    assert f"_{INDEX_NAME}_{generation}.manifest" in written
    assert any(not name.startswith("_") for name in written), written  # a segment's files
    manifest = Manifest.read(IndexFolder(committed["index"]).live_build(), INDEX_NAME, generation)
    assert set(manifest.files) >= set(written) - {f"_{INDEX_NAME}_{generation}.manifest"}


@pytest.mark.parametrize("how", ["truncated", "zeroed", "removed"])
def test_damage_to_each_file_of_the_last_commit_is_survived_and_repaired(committed, tmp_path, how):
    for name in last_commit_files(committed):
        case = tmp_path / f"{name}-{how}"
        index_dir, source = fresh_copy(committed, case)
        damage(IndexFolder(index_dir).live_build() / name, how)

        engine = SearchEngine(index_dir, refresh_seconds=0)
        stats = engine.stats()
        # The generation before the last commit is served: the demo articles, not the new one.
        assert found(engine, "lido") == set(), name
        assert "2019-01-22-rhine-low-water-barges.txt" in found(engine, "barges"), name
        report = health_report(stats, index_dir)
        assert report["status"] == "degraded", (name, report)
        assert report["problems"], name

        rerun = index_paths(index_dir, [source], procs=1)
        assert rerun.added == 1, (name, rerun)  # the lost commit's article, again
        assert found(engine, "lido") == {NEW_ID}, name
        repaired = health_report(engine.stats(), index_dir)
        assert repaired["status"] == "ok", (name, repaired)
        assert repaired["documents"] == rerun.documents == 41


def test_a_damaged_rebuild_falls_back_to_the_build_before_it(committed, tmp_path):
    index_dir, source = fresh_copy(committed, tmp_path)
    old_build = IndexFolder(index_dir).live_build()
    (source / NEW_ID).unlink()
    index_paths(index_dir, [source], procs=1, rebuild=True)
    new_build = IndexFolder(index_dir).live_build()
    assert new_build != old_build
    for path in new_build.iterdir():
        if not path.name.startswith("_") and "LOCK" not in path.name:
            damage(path, "zeroed")

    engine = SearchEngine(index_dir, refresh_seconds=0)
    assert engine.stats().generation.startswith(old_build.name)
    assert found(engine, "lido") == {NEW_ID}  # the old build still has it
    assert health_report(engine.stats(), index_dir)["status"] == "degraded"

    rerun = index_paths(index_dir, [source], procs=1)
    assert any("went back to generation" in line for line in rerun.repairs), rerun.repairs
    assert f"generation {new_build.name}/1" in " ".join(rerun.repairs)
    assert not new_build.exists()
    assert IndexFolder(index_dir).live_build() == old_build
    assert health_report(engine.stats(), index_dir)["status"] == "ok"
    assert "2019-01-22-rhine-low-water-barges.txt" in found(engine, "barges")


def test_with_nothing_intact_the_indexer_says_to_rebuild(committed, tmp_path):
    index_dir, source = fresh_copy(committed, tmp_path)
    for path in IndexFolder(index_dir).live_build().iterdir():
        if not path.name.startswith("_") and "LOCK" not in path.name:
            damage(path, "truncated")  # the first commit's segment too: no generation is whole
    run = subprocess.run(
        [article_search_command(), "index", str(source), "--index", str(index_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"article-search index --rebuild --index {index_dir} PATH..." in run.stderr
    fixed = subprocess.run(
        [article_search_command(), "index", "--rebuild", str(source), "--index", str(index_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert fixed.returncode == 0, fixed.stderr
    assert found(SearchEngine(index_dir), "lido") == {NEW_ID}


@pytest.mark.server
def test_a_server_on_a_damaged_index_serves_logs_and_reports_it_until_repaired(committed, tmp_path):
    index_dir, source = fresh_copy(committed, tmp_path)
    segment = next(n for n in last_commit_files(committed) if not n.startswith("_"))
    damage(IndexFolder(index_dir).live_build() / segment, "truncated")
    with serving(index_dir, tmp_path) as server:
        health = server.json("/healthz")
        assert health["status"] == "degraded"
        assert any(segment in line for line in health["damaged"]), health
        assert health["last_index_run"]["finished"] is True
        assert server.search(q="barges")["total"] >= 1
        assert server.search(q="lido", semantic="0")["total"] == 0
        assert "INDEX DAMAGED" in server.log.read_text()

        run = subprocess.run(
            [article_search_command(), "index", str(source), "--index", str(index_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert "damaged" in run.stderr and segment in run.stderr
        health = server.json("/healthz")
        assert health["status"] == "ok", health
        assert health["generation_age_seconds"] < 60
        assert health["last_index_run"]["outcome"] == "ok"
        # Each worker moves to the repaired generation within about a second.
        deadline, streak = time.monotonic() + 10, 0
        while streak < 6 and time.monotonic() < deadline:
            streak = streak + 1 if server.search(q="lido")["total"] == 1 else 0
            time.sleep(0.05)
        assert streak == 6, "a worker still serves the damaged index's fallback"


def test_checksums_are_read_once_and_a_rewritten_file_is_read_again(committed, tmp_path):
    """Each file's checksum is recorded once read; the record is trusted only while the
    file is untouched: rewritten in place, same size, its modification time set back, it
    is read again and found damaged."""
    index_dir, _ = fresh_copy(committed, tmp_path)
    build = IndexFolder(index_dir).live_build()
    IndexFolder(index_dir).served()  # the copy's files are new inodes: read, then recorded
    generation = IndexFolder(index_dir).served().generation.number
    manifest = Manifest.read(build, INDEX_NAME, generation)
    record = VerifiedChecksums(build)
    for name, (_, crc) in manifest.files.items():
        assert record.crc(name, (build / name).stat()) == crc, name

    segment = next(n for n in last_commit_files(committed) if not n.startswith("_"))
    path = build / segment
    # The record is what is checked: a wrong CRC in it is taken at its word...
    stat = path.stat()
    record.remember(segment, stat, manifest.files[segment][1] ^ 1)
    record.save()
    assert any(segment in line for line in IndexFolder(index_dir).served().damaged)
    # ...until the file changes: then it is read again (here: intact after all).
    path.write_bytes(path.read_bytes())
    assert IndexFolder(index_dir).served().generation.number == generation

    flipped = bytearray(path.read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF
    path.write_bytes(bytes(flipped))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    served = IndexFolder(index_dir).served()
    assert served.generation.number < generation
    assert any(f"{segment}: contents changed" in line for line in served.damaged)


@pytest.mark.parametrize("how", ["truncated", "zeroed", "removed"])
def test_a_damaged_checksum_record_loses_nothing(committed, tmp_path, how):
    index_dir, _ = fresh_copy(committed, tmp_path)
    build = IndexFolder(index_dir).live_build()
    IndexFolder(index_dir).served()
    damage(build / VERIFIED_NAME, how)
    served = IndexFolder(index_dir).served()
    assert not served.damaged
    assert found(SearchEngine(index_dir), "lido") == {NEW_ID}
    manifest = Manifest.read(build, INDEX_NAME, served.generation.number)
    record = VerifiedChecksums(build)  # written again, whole
    for name, (_, crc) in manifest.files.items():
        assert record.crc(name, (build / name).stat()) == crc, name
