"""Which segments an incremental run merges: small ones, a bounded number of articles at a time.

Every run adds a segment; searching many small segments costs a little
more each, and rewriting big ones costs minutes. Whoosh's default policy
(MERGE_SMALL) merges everything up to a Fibonacci bound, which with a first
import written in many segments (a memory budget) plus a few weeks of daily
runs reaches all of them: a million articles rewritten in one daily run.
Here a run merges only segments under MERGE_MAX_DOCUMENTS, smallest first,
at most MERGE_MAX_DOCUMENTS articles together, once there are MERGE_AT of
them: daily runs of 1,000 articles merge 10,000 every tenth run (seconds).
Bigger segments are never rewritten by an incremental run; ``--rebuild``
writes everything afresh.
"""

from __future__ import annotations

from whoosh.reading import SegmentReader

MERGE_AT = 10
MERGE_MAX_DOCUMENTS = 20_000


def merge_small_segments(writer, segments: list) -> list:
    """A Whoosh merge policy (``writer.commit(mergetype=...)``): the segments kept as they are."""
    small = sorted(
        (s for s in segments if s.doc_count_all() < MERGE_MAX_DOCUMENTS),
        key=lambda s: s.doc_count_all(),
    )
    if len(small) < MERGE_AT:
        return segments
    chosen, documents = [], 0
    for segment in small:
        if chosen and documents + segment.doc_count_all() > MERGE_MAX_DOCUMENTS:
            break
        chosen.append(segment)
        documents += segment.doc_count_all()
    if len(chosen) < 2:
        return segments
    for segment in chosen:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    merged = {id(segment) for segment in chosen}
    return [segment for segment in segments if id(segment) not in merged]
