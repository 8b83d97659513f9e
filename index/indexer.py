"""Articles -> the Whoosh index: incremental updates, deletes, rebuild-and-swap."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex

from index.formats import ArticleFormatError, ImportProblem
from index.formats.jsonl import read_jsonl
from index.formats.text_export import read_text_export
from index.indexed_state import IndexedArticles
from index.lock import indexer_lock
from index.memory import budget_mb
from index.merge_policy import merge_small_segments
from index.repair import IndexUnrepairableError, repair
from index.segment_writer import build_writer, update_writer
from index.sources import SourceFile, covers, find_sources
from index.vectors import add_vectors
from search.article import Article
from search.schema import article_document, build_schema
from search.storage.index_folder import INDEX_NAME, IndexFolder, IndexNotFoundError

Progress = Callable[[Iterable[SourceFile]], Iterable[SourceFile]]


class IndexBuildError(RuntimeError):
    """A new build came out incomplete; it was thrown away and the live index kept."""


@dataclass
class IndexReport:
    """What one indexer run did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    seconds: float = 0.0
    documents: int = 0
    repairs: list[str] = field(default_factory=list)  # what was found damaged and undone
    embedded: int = 0  # articles given vectors by the second pass (index.vectors)
    words_seconds: float = 0.0  # from the start until the words were committed (searchable)

    @property
    def skipped(self) -> int:
        return len(self.problems)

    def summary(self) -> str:
        second_pass = (
            f" (searchable by words after {self.words_seconds:.1f} s, "
            f"{self.embedded} articles' vectors in {self.seconds - self.words_seconds:.1f} s)"
            if self.embedded
            else ""
        )
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, "
            f"unchanged {self.unchanged}, skipped {self.skipped} "
            f"in {self.seconds:.1f} s{second_pass} ({self.documents} articles in the index)"
        )


class _Run:
    """One pass over the sources: decides what is new, changed, unchanged or gone."""

    def __init__(self, state: IndexedArticles, report: IndexReport):
        self.state = state
        self.report = report
        self.seen_rows = np.zeros(len(state), dtype=bool)  # indexed articles met this run
        self.read: dict[str, str] = {}  # id -> file, of the articles read this run
        self.troubled_files: set[str] = set()  # files with a problem this run

    def changes(self, sources: Iterable[SourceFile]) -> Iterator[tuple[Article, str]]:
        """Yield (article, stamp) for every article that must be written.

        The first article of a JSON Lines file waits for the end of the file: if the
        file had a problem it is stored with an empty stamp, so the next run reads the
        file again, and reports its bad lines again, even when nothing changed.
        """
        for source in sources:
            if self._unchanged_file(source):
                continue
            held: Article | None = None
            for item in self._read(source):
                if isinstance(item, ImportProblem):
                    self.report.problems.append(item)
                    self.troubled_files.add(str(source.path))
                elif not self._first_sighting(item):
                    continue
                elif source.is_json_lines and held is None:
                    held = item
                elif self._changed(item, source.stamp):
                    yield item, source.stamp
            if held is not None:
                stamp = "" if str(source.path) in self.troubled_files else source.stamp
                if self._changed(held, stamp, troubled_mark=True):
                    yield held, stamp

    def _changed(self, article: Article, stamp: str, *, troubled_mark: bool = False) -> bool:
        """Whether ``article`` differs from the index (or, with ``troubled_mark``, whether
        its file's "read me again" empty stamp has to be set or cleared)."""
        row = self.state.row_of(article.id)
        if (
            row is not None
            and self.state.content_hash(row) == article.content_hash()
            # Moved to another file: rewrite, so the index knows where it lives now.
            and self.state.source_file(row) == (article.source_file or "")
            and (not troubled_mark or (self.state.source_stamp(row) == "") == (stamp == ""))
        ):
            self.report.unchanged += 1
            return False
        return True

    def gone(self, roots: Iterable[Path]) -> list[str]:
        """Ids imported earlier from under ``roots`` that this run did not see.

        Articles of a file that has a problem this run (unreadable, broken, a bad
        line) are kept: a file damaged or half-copied loses none of what was imported.
        """
        roots = list(roots)
        file_may_lose = np.array(
            [
                name not in self.troubled_files and any(covers(root, name) for root in roots)
                for name in self.state.files
            ],
            dtype=bool,
        )
        if not len(self.state):
            return []
        rows = np.flatnonzero(~self.seen_rows & file_may_lose[self.state.file_codes])
        return [self.state.article_id(row) for row in rows.tolist()]

    def _unchanged_file(self, source: SourceFile) -> bool:
        """Skip reading a file whose size and mtime match the last import."""
        rows = self.state.rows_of_file(str(source.path))
        if not len(rows) or not self.state.all_stamped(rows, source.stamp):
            return False
        if not source.is_json_lines and (
            len(rows) != 1 or self.state.article_id(int(rows[0])) != source.article_id
        ):
            return False
        if self.seen_rows[rows].any():
            return False  # read it, so the clash is reported as a duplicate
        self.seen_rows[rows] = True
        self.report.unchanged += len(rows)
        return True

    def _read(self, source: SourceFile) -> Iterable[Article | ImportProblem]:
        if source.is_json_lines:
            return self._read_jsonl(source)
        try:
            return [read_text_export(source.path, source.article_id)]
        except ArticleFormatError as error:
            return [ImportProblem(str(source.path), str(error))]
        except OSError as error:
            return [ImportProblem(str(source.path), f"cannot read: {error.strerror}")]

    @staticmethod
    def _read_jsonl(source: SourceFile) -> Iterator[Article | ImportProblem]:
        try:
            yield from read_jsonl(source.path)
        except ArticleFormatError as error:
            yield ImportProblem(str(source.path), str(error))
        except OSError as error:
            yield ImportProblem(str(source.path), f"cannot read: {error.strerror}")

    def _first_sighting(self, article: Article) -> bool:
        """Whether this run meets ``article.id`` for the first time (in any file)."""
        first = self.read.get(article.id)
        row = self.state.row_of(article.id) if first is None else None
        if row is not None and self.seen_rows[row]:
            first = self.state.source_file(row)  # an unchanged file, not read
        if first is None:
            self.read[article.id] = article.source_file or ""
            if row is not None:
                self.seen_rows[row] = True
            return True
        self.troubled_files.add(article.source_file or "")
        self.report.problems.append(
            ImportProblem(
                article.source_file or "",
                f"duplicate id {article.id!r} (already imported from {first})",
            )
        )
        return False


def _discover(paths: Iterable[Path], report: IndexReport) -> tuple[list[SourceFile], list[Path]]:
    sources, roots = [], []
    for path in paths:
        path = Path(path).absolute()
        if not path.exists():
            report.problems.append(ImportProblem(str(path), "no such file or folder"))
            continue
        roots.append(path)
        sources.extend(find_sources(path))
    return sources, roots


def index_paths(
    index_dir: Path,
    paths: Iterable[Path],
    *,
    rebuild: bool = False,
    procs: int | None = None,
    progress: Progress | None = None,
    memory_mb: int | None = None,
) -> IndexReport:
    """Bring the index in ``index_dir`` up to date with the articles under ``paths``.

    Incremental unless ``rebuild`` (or there is no index yet): then a new
    build is written beside the live one and swapped in when complete, its
    processes held within ``memory_mb`` (index.memory.budget_mb: the
    environment's or 1 GB when not given).
    Raises IndexLockedError when another indexer holds the folder.
    """
    started = time.perf_counter()
    folder = IndexFolder(index_dir)
    procs = procs or os.cpu_count() or 1
    budget_bytes = budget_mb(memory_mb) * 1024 * 1024
    report = IndexReport()
    paths = list(paths)
    missing = [path for path in paths if not Path(path).exists()]
    if rebuild and missing:
        # A rebuild replaces the whole index: a mistyped or unmounted path would empty it.
        raise IndexBuildError(
            f"{Path(missing[0]).absolute()}: no such file or folder; a rebuild replaces "
            "the whole index, so nothing was changed"
        )
    with indexer_lock(folder.path):
        run_state = folder.run_record.start(paths, rebuild)
        outcome = "failed: stopped"
        try:
            if not rebuild:
                report.repairs = repair(folder)
            sources, roots = _discover(paths, report)
            live = None if rebuild else folder.open_for_writing()
            with IndexedArticles(live) as state:
                run = _Run(state, report)
                articles = run.changes(progress(sources) if progress else sources)
                if live is None:
                    _write_new_build(folder, articles, report, procs, budget_bytes)
                else:
                    _update_live(live, run, articles, roots, report)
            report.words_seconds = time.perf_counter() - started
            report.embedded = add_vectors(folder.path, procs)
            outcome = "skipped files" if report.problems else "ok"
        except (IndexBuildError, IndexUnrepairableError) as error:
            outcome = f"failed: {error}"
            raise
        finally:
            generation, documents = _served(folder)
            report.documents = documents or 0
            folder.run_record.finish(run_state, outcome, generation, documents)
    report.seconds = time.perf_counter() - started
    return report


def _served(folder: IndexFolder) -> tuple[str | None, int | None]:
    """The generation readers open now, and its article count (None, None if there is none)."""
    try:
        live = folder.served()
    except IndexNotFoundError:
        return None, None
    return live.generation.name, live.open().doc_count()


def _write_new_build(
    folder: IndexFolder,
    articles: Iterable[tuple[Article, str]],
    report: IndexReport,
    procs: int,
    budget_bytes: int,
) -> None:
    previous = folder.open_for_writing()
    keep = folder.builds_in_use()
    folder.remove_builds_but(keep)  # leftovers of a killed rebuild, the build before
    build = folder.new_build()
    # Without mmap, as readers open it (search.storage.index_folder): ``ix.doc_count()``
    # below opens every segment, and Whoosh copies a mapped compound segment's postings
    # into memory (1.4 GB for a million articles, in the process that has just kept
    # within the budget).
    storage = FileStorage(str(build), supports_mmap=False)
    ix = storage.create_index(build_schema(), indexname=INDEX_NAME)
    # Even with one process: the indexing process writes a segment whenever the budget
    # is used, which the main process (reading the articles) could not do alone.
    writer = build_writer(ix, procs, budget_bytes)
    try:
        for article, stamp in articles:
            writer.add_document(**article_document(article, stamp))
            report.added += 1
        writer.commit()
    except BaseException:
        writer.cancel()
        shutil.rmtree(build, ignore_errors=True)
        raise
    # Whoosh's indexing subprocesses can die (a crash, the OOM killer) without the
    # writer noticing: it then commits what it has, even nothing. Count before swapping.
    built = ix.doc_count()
    if built != report.added:
        shutil.rmtree(build, ignore_errors=True)
        raise IndexBuildError(
            f"the new index came out with {built} of the {report.added} articles written; "
            "it was thrown away and the live index left as it was"
        )
    if built == 0 and previous is not None and previous.doc_count() > 0:
        shutil.rmtree(build, ignore_errors=True)
        raise IndexBuildError(
            f"the new index would hold no articles, the live one holds "
            f"{previous.doc_count()}: the live index was kept (to start empty, delete "
            f"{folder.path} and index again)"
        )
    folder.make_live(build)
    folder.remove_builds_but(keep | {build.resolve()})


def _update_live(
    ix: FileIndex,
    run: _Run,
    articles: Iterable[tuple[Article, str]],
    roots: list[Path],
    report: IndexReport,
) -> None:
    """Apply the run's changes to the live index in one commit, or not at all.

    The writer is opened at the first change, so a run that finds nothing
    new writes nothing.
    """
    writer = None
    try:
        for article, stamp in articles:
            writer = writer or update_writer(ix)
            document = article_document(article, stamp)
            if run.state.row_of(article.id) is not None:
                writer.update_document(**document)
                report.updated += 1
            else:
                writer.add_document(**document)
                report.added += 1
        for article_id in run.gone(roots):
            writer = writer or update_writer(ix)
            writer.delete_by_term("id", article_id)
            report.removed += 1
        if writer is not None:
            writer.commit(mergetype=merge_small_segments)
    except BaseException:
        if writer is not None:
            writer.cancel()
        raise
