"""The index folder (IndexFolder): its builds, the links naming the live one and the one
before it, and which of their generations is served."""

from __future__ import annotations

import os
import re
import shutil
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex

from search.storage.manifest import (
    Manifest,
    ManifestError,
    fsync_path,
    manifest_name,
    manifest_pattern,
)
from search.storage.run_record import RUN_RECORD_FILE, RunRecord
from search.whoosh_internals import GenerationIndex, toc_filename, toc_pattern

CURRENT_LINK = "current"
PREVIOUS_LINK = "previous"
BUILDS_DIR = "builds"
INDEX_NAME = "articles"
# Readings of the folder before giving up on a rebuild moving it (each rebuild takes
# seconds; a reading, milliseconds).
READ_ATTEMPTS = 5


class IndexNotFoundError(LookupError):
    """The index folder holds no complete index yet."""


class IndexDamagedError(IndexNotFoundError):
    """The index folder has an index, but no generation of it is intact."""


# A replica's copy of generation n of build B is the folder "B.n" (index.publish).
_COPY_SUFFIX = re.compile(r"\.\d+$")


@dataclass(frozen=True)
class Generation:
    """One commit of one build: what a reader opens."""

    build: Path
    number: int

    @property
    def name(self) -> str:
        """``<build>/<n>``, on a replica too: a copy is named after the build it copies,
        so a replica and the primary serving the same generation say the same."""
        return f"{_COPY_SUFFIX.sub('', self.build.name)}/{self.number}"

    @property
    def copy_name(self) -> str:
        """The folder a replica keeps this generation's copy in: ``<build>.<n>``."""
        return f"{_COPY_SUFFIX.sub('', self.build.name)}.{self.number}"


@dataclass
class ServedGeneration:
    """The generation a reader should open, and what was passed over to get to it."""

    generation: Generation
    committed_at: float  # seconds since the epoch
    verified: bool  # False for a build written before manifests
    damaged: tuple[str, ...]  # newer generations passed over, each with what is wrong

    def open(self, readonly: bool = True) -> GenerationIndex:
        storage = FileStorage(str(self.generation.build), supports_mmap=False, readonly=readonly)
        return GenerationIndex(storage, INDEX_NAME, self.generation.number)


def build_names(build: Path) -> list[str]:
    """The names in a build folder; none once it is gone (a rebuild removes the build it
    replaced, whoever was reading it)."""
    try:
        return os.listdir(build)
    except (FileNotFoundError, NotADirectoryError):
        return []


def toc_generations(build: Path) -> list[int]:
    """The build's generations that have a TOC, newest first."""
    pattern = toc_pattern(INDEX_NAME)
    found = []
    for name in build_names(build):
        match = pattern.match(name)
        if match:
            found.append(int(match.group(1)))
    return sorted(found, reverse=True)


def has_manifests(build: Path) -> bool:
    pattern = manifest_pattern(INDEX_NAME)
    return any(pattern.match(name) for name in build_names(build))


def manifest_path(generation: Generation) -> Path:
    return generation.build / manifest_name(INDEX_NAME, generation.number)


def generation_problems(generation: Generation, checked: bool) -> list[str]:
    """What keeps a generation from being served; empty when it is intact.

    ``checked``: the build has manifests, so a generation without one is not whole.
    """
    build, number = generation.build, generation.number
    try:
        manifest = Manifest.read(build, INDEX_NAME, number)
    except ManifestError as error:
        return [str(error)]
    if manifest is None:
        return ["no manifest (the commit did not finish)"] if checked else []
    return manifest.problems(build)


class IndexFolder:
    """An index folder, and everything that can be done with the generations it holds.

    It holds ``builds/<name>/`` (complete Whoosh indexes), a ``current`` symlink
    naming the live one, a ``previous`` symlink naming the one it replaced, and
    the indexer's run record. A rebuild writes a new build beside the live one and
    replaces the symlink atomically, so a reader always opens a complete index:
    the old one or the new one.

    Within a build, each commit is a Whoosh generation (a TOC file) with a
    manifest (search.storage.manifest). Readers open the newest generation whose
    files match its manifest: the live build's newest, else an older one of it (a
    commit keeps the generation before it), else the previous build's. A build
    written before manifests existed is served as it is, unverified.

    This is the one place that knows the layout: the indexer, the repair,
    publishing and the engine ask it.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"IndexFolder({str(self.path)!r})"

    @property
    def run_record(self) -> RunRecord:
        """The indexer's record of its last run (started, finished, outcome)."""
        return RunRecord(self.path / RUN_RECORD_FILE)

    def _target(self, link_name: str) -> Path | None:
        """Where the link points, resolved (the folder may be gone); None without the link."""
        link = self.path / link_name
        try:
            return (link.parent / os.readlink(link)).resolve()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def _linked(self, link_name: str) -> Path | None:
        """The folder the link names; None without the link or the folder."""
        try:
            target = self._target(link_name)
        except OSError:
            return None
        return target if target is not None and target.is_dir() else None

    def live_build(self) -> Path:
        """The folder of the live build, resolved once (the link can change later)."""
        target = self._target(CURRENT_LINK)
        if target is None:
            raise IndexNotFoundError(
                f"no index in {self.path}: run 'article-search index PATH' first"
            )
        return target

    def previous_build(self) -> Path | None:
        """The build the live one replaced, while it is kept; None otherwise."""
        return self._linked(PREVIOUS_LINK)

    def _links(self) -> tuple[Path | None, Path | None]:
        """Where ``current`` and ``previous`` point now."""
        return self._target(CURRENT_LINK), self._target(PREVIOUS_LINK)

    def served(self) -> ServedGeneration:
        """The generation to serve: the newest intact one of the live build, else of the previous.

        Read again when a rebuild moved the links while it was read: a rebuild makes its
        build live, then removes the one it replaced, so a build chosen a moment before
        can be gone, or half gone (its newest generation would look damaged). Raises
        IndexNotFoundError without an index, IndexDamagedError when none is intact.
        """
        for _ in range(READ_ATTEMPTS - 1):
            links = self._links()
            try:
                served = self._served_now()
            except (IndexNotFoundError, FileNotFoundError):
                if self._links() == links:
                    raise
                continue
            if self._links() == links:
                return served
        return self._served_now()

    def _served_now(self) -> ServedGeneration:
        damaged: list[str] = []
        builds = [self.live_build()]
        previous = self.previous_build()
        if previous is not None and previous != builds[0]:
            builds.append(previous)
        for build in builds:
            checked = has_manifests(build)
            for number in toc_generations(build):
                generation = Generation(build, number)
                if number == 0 and checked and not manifest_path(generation).exists():
                    continue  # the empty TOC a build starts with, before its first commit
                problems = generation_problems(generation, checked)
                if problems:
                    damaged.append(f"generation {generation.name}: {'; '.join(problems)}")
                    continue
                manifest = Manifest.read(build, INDEX_NAME, number) if checked else None
                committed_at = (
                    manifest.committed_at
                    if manifest
                    else os.path.getmtime(build / toc_filename(INDEX_NAME, number))
                )
                return ServedGeneration(generation, committed_at, checked, tuple(damaged))
        if damaged:
            raise IndexDamagedError(
                f"the index in {self.path} is damaged and no earlier generation is intact: "
                + " | ".join(damaged)
            )
        raise IndexNotFoundError(f"no index in {builds[0]}")

    def open_served(self) -> tuple[GenerationIndex, Path]:
        """Open the served generation read-only; returns the index and its build folder.

        Without mmap: Whoosh maps a compound segment, then copies each part it
        opens into a BytesIO, in every process, so each worker would hold its own
        copy of the index. Plain file reads answer as fast (worker memory:
        ``make bench``).
        """
        served, index = self.open_newest()
        return index, served.generation.build

    def open_newest(
        self, served: ServedGeneration | None = None
    ) -> tuple[ServedGeneration, GenerationIndex]:
        """``served`` (default: the generation served now) and its index, opened read-only.

        When its build was replaced and removed before it could be opened, the generation
        served then is opened instead.
        """
        for _ in range(READ_ATTEMPTS - 1):
            served = served or self.served()
            try:
                return served, served.open()
            except FileNotFoundError:
                if served.generation.build == self._target(CURRENT_LINK):
                    raise  # files gone from the live build: damage, not a rebuild
                served = None
        served = self.served()
        return served, served.open()

    def open_for_writing(self) -> FileIndex | None:
        """The served generation, to commit on top of; None when there is none."""
        try:
            return self.served().open(readonly=False)
        except IndexNotFoundError:
            return None

    def fingerprint(self) -> tuple:
        """Changes whenever a commit, a rebuild or a repair could change what ``served`` says."""
        fingerprint = []
        for link in (CURRENT_LINK, PREVIOUS_LINK):
            build = self._linked(link)
            names = frozenset(build_names(build)) if build else frozenset()
            fingerprint.append((build, names))
        return tuple(fingerprint)

    def new_build(self) -> Path:
        """A fresh, empty build folder beside the live one."""
        builds = self.path / BUILDS_DIR
        builds.mkdir(parents=True, exist_ok=True)
        name = time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
        path = builds / name
        path.mkdir()
        return path

    def _point(self, link_name: str, build: Path) -> None:
        """Point ``link_name`` at ``build`` atomically (rename over the old link)."""
        temporary = self.path / f".{link_name}.{os.getpid()}"
        if temporary.is_symlink():
            temporary.unlink()
        os.symlink(os.path.relpath(build, self.path), temporary)
        os.replace(temporary, self.path / link_name)

    def make_live(self, build: Path) -> None:
        """Point ``current`` at ``build`` and ``previous`` at the build it replaces, durably.

        The build's folder entry is flushed before the switch, the switch before returning.
        """
        replaced = self._linked(CURRENT_LINK)
        fsync_path(build)
        fsync_path(build.parent)
        if replaced is not None and replaced != Path(build).resolve():
            self._point(PREVIOUS_LINK, replaced)
        self._point(CURRENT_LINK, build)
        fsync_path(self.path)

    def go_back_to(self, build: Path) -> None:
        """Make ``build`` live in place of the live build, which is deleted, with no previous."""
        current = self.live_build()
        self.make_live(build)
        (self.path / PREVIOUS_LINK).unlink(missing_ok=True)
        shutil.rmtree(current, ignore_errors=True)

    def builds_in_use(self) -> set[Path]:
        """The live build, and the previous one too while the live one is not intact."""
        keep = set()
        intact = False
        with suppress(IndexNotFoundError):
            keep.add(self.live_build())
            intact = not self.served().damaged
        previous = self.previous_build()
        if previous is not None and not intact:
            keep.add(previous)
        return keep

    def remove_builds_but(self, keep: set[Path]) -> None:
        """Delete every build but ``keep``'s (a killed rebuild's leftovers, replaced builds)."""
        builds = self.path / BUILDS_DIR
        for build in builds.iterdir() if builds.is_dir() else ():
            if build.resolve() not in keep:
                shutil.rmtree(build, ignore_errors=True)
