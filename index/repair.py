"""Before a run: put the index back on its newest intact generation, and say what was lost.

A generation found damaged (a file missing, cut short or changed since its
commit; see search.storage.manifest) is what readers already pass over. The indexer
deletes it, and everything newer, so that its own commit follows the intact
generation; when no generation of the live build is intact it goes back to
the previous build. The run then re-imports whatever its paths hold that the
intact generation lacks.
"""

from __future__ import annotations

import datetime as dt

from index.durable_commit import remove_unneeded_files
from search.storage.index_folder import (
    INDEX_NAME,
    IndexDamagedError,
    IndexFolder,
    IndexNotFoundError,
)


class IndexUnrepairableError(RuntimeError):
    """No generation of the index is intact: only a rebuild can help."""


def repair(folder: IndexFolder) -> list[str]:
    """Discard what is damaged; one message per thing done (none when all was well)."""
    try:
        live = folder.served()
    except IndexDamagedError as error:
        raise IndexUnrepairableError(
            f"{error}. Rebuild it from every folder and file it is built from: "
            f"article-search index --rebuild --index {folder.path} PATH..."
        ) from None
    except IndexNotFoundError:
        return []
    if not live.damaged:
        return []
    target = live.generation
    if target.build != folder.live_build():
        folder.go_back_to(target.build)
    storage = live.open(readonly=False).storage
    remove_unneeded_files(storage, INDEX_NAME, keep={target.number, target.number - 1})
    committed = dt.datetime.fromtimestamp(live.committed_at, dt.UTC)
    return [
        *(f"damaged, removed: {what}" for what in live.damaged),
        f"went back to generation {target.name}, committed {committed:%Y-%m-%d %H:%M:%S} UTC: "
        "articles imported after it are indexed again when their files are given to this or "
        "a later run",
    ]
