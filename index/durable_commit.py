"""Commits that survive a power cut: every file on disk before the new generation goes live.

Whoosh writes a commit's segment files, then its table of contents (TOC)
under a temporary name renamed into place, and never calls fsync: after a
power cut the TOC can name files whose data never reached the disk.
``DurableCommit.publish_toc`` (in place of SegmentWriter's TOC write) flushes the
segment files the commit wrote, writes the generation's manifest
(search.storage.manifest), writes and flushes the TOC, renames it into place and
flushes the folder. Unlike Whoosh it keeps the generation before the new one,
so that readers can go back to it if the new one is found damaged; the
commit after removes it.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

from whoosh.filedb.filestore import RamStorage
from whoosh.index import TOC

from search.storage.manifest import (
    Manifest,
    ManifestError,
    VerifiedChecksums,
    checksum,
    fsync_path,
    manifest_pattern,
)
from search.whoosh_internals import (
    CommitHook,
    segment_file_pattern,
    toc_filename,
    toc_pattern,
)


class DurableCommit(CommitHook):
    """Mixin for Whoosh writers (SegmentWriter, MpWriter): a durable commit."""

    def publish_toc(self, segments: list) -> None:
        commit_generation(self.storage, self.indexname, self.schema, segments, self.generation)


def commit_generation(storage, indexname: str, schema, segments, generation: int) -> None:
    folder = Path(storage.folder)
    try:
        before = Manifest.read(folder, indexname, generation - 1)
    except ManifestError:
        before = None
    known = before.files if before else {}
    files = {}
    verified = VerifiedChecksums(folder)
    for name in sorted({name for segment in segments for name in segment.list_files(storage)}):
        path = folder / name
        entry = known.get(name)
        stat = path.stat()
        if entry is None or entry[0] != stat.st_size:
            fsync_path(path)  # written by this commit (segment files never change after)
            entry = verified.checksum(name, stat)
        files[name] = entry
    verified.save()

    toc_name = toc_filename(indexname, generation)
    memory = RamStorage()
    TOC(schema, segments, generation).write(memory, indexname)
    toc_bytes = memory.open_file(toc_name).read()
    temporary = folder / f"{toc_name}.tmp"
    with open(temporary, "wb") as out:
        out.write(toc_bytes)
        out.flush()
        os.fsync(out.fileno())
    files[toc_name] = checksum(temporary)
    Manifest.new(generation, files).write(folder, indexname)
    os.replace(temporary, folder / toc_name)  # the commit point: readers see it from here
    fsync_path(folder)
    remove_unneeded_files(storage, indexname, keep={generation, generation - 1})


def remove_unneeded_files(storage, indexname: str, keep: set[int]) -> None:
    """Delete the TOCs, manifests and segment files no generation in ``keep`` needs."""
    needed = set()
    for generation in keep:
        try:
            toc = TOC.read(storage, indexname, gen=generation)
        except Exception:  # absent or unreadable: it keeps nothing
            continue
        needed.update(segment.segment_id() for segment in toc.segments)
    tocs = toc_pattern(indexname)
    segment_files = segment_file_pattern(indexname)
    manifests = manifest_pattern(indexname)
    for name in storage.list():
        generation_match = tocs.match(name) or manifests.match(name)
        segment_match = segment_files.match(name)
        if generation_match:
            unneeded = int(generation_match.group(1)) not in keep
        elif segment_match:
            unneeded = segment_match.group(1) not in needed
        else:
            unneeded = name.endswith(".tmp")
        if unneeded:
            # Gone already, or held open elsewhere: the next commit tries again.
            with suppress(OSError):
                storage.delete_file(name)
