"""An index's generations: Whoosh's table of contents (TOC) files, segment file names,
and an index opened at a chosen generation."""

from __future__ import annotations

import re

from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, FileIndex


def toc_filename(indexname: str, generation: int) -> str:
    """The file name of ``indexname``'s TOC for ``generation``."""
    return TOC._filename(indexname, generation)


def toc_pattern(indexname: str) -> re.Pattern:
    """Matches ``indexname``'s TOC file names; group 1 is the generation."""
    return TOC._pattern(indexname)


def segment_file_pattern(indexname: str) -> re.Pattern:
    """Matches ``indexname``'s segment file names; group 1 is the segment id."""
    return TOC._segment_pattern(indexname)


class GenerationIndex(FileIndex):
    """A Whoosh FileIndex held at one generation.

    Whoosh's own opens the newest TOC, which may be the damaged one; writers
    started from this index commit the generation after it.
    """

    def __init__(self, storage: FileStorage, indexname: str, generation: int):
        self.storage = storage
        self._schema = None
        self.indexname = indexname
        self.generation = generation
        self._read_toc()

    def latest_generation(self) -> int:
        return self.generation

    def _read_toc(self) -> TOC:
        return TOC.read(self.storage, self.indexname, gen=self.generation)
