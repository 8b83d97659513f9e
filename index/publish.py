"""Copy the live index generation to a read replica with rsync, and switch the replica to it.

The index is a series of immutable generations, so read traffic scales by
more hosts each serving a copy. A publish, run on the indexing host after
each indexer run:

1. holds the indexer lock, so no commit changes the generation while it is copied;
2. copies the build of the generation this host serves (the newest intact
   one, search.storage.index_folder.IndexFolder.served: a damaged newer generation's table of
   contents and manifest stay behind) with ``rsync`` into
   ``REPLICA/builds/.<name>.partial``, hard-linking the files the replica
   already has from the generation it serves (``--link-dest``: Whoosh never
   rewrites a segment's files, so only new segments and the new table of
   contents travel);
3. renames the finished copy to ``REPLICA/builds/<name>`` and points
   ``REPLICA/current`` at it with one atomic rename, so a replica serves the
   old generation or the new one, never a half-copied one;
4. deletes the replica's older copies but the one it served before;
5. copies the editors' desk (search.desk: synonyms, rules, freshness) with
   SQLite's backup API, a consistent copy even while editors change it, to
   ``REPLICA/desk.sqlite`` by way of a temporary name and one rename, marked
   as a replica's (a replica has no desk of its own). Every publish copies it,
   a new generation or not, so a desk change reaches replicas with the next
   publish. Nothing else of the index folder travels: not the editors'
   accounts, not the indexer's lock;
6. brings the replica's search analytics back (search.analytics: each
   serving host records its own readers' searches): a consistent copy of
   ``REPLICA/analytics/searches.sqlite`` made on the replica with SQLite's backup
   API (its ``python3``), copied to ``<index>/analytics/replicas/<replica>.sqlite``
   with one rename, where ``article-search analytics`` and /admin/analytics
   read it beside this host's own. A replica that has recorded nothing yet is
   skipped.

Each replica's ``article-search serve`` moves to the new generation by itself
within a second. ``REPLICA`` is a folder on this host or ``host:folder``
(rsync and the replica-side steps then go through ssh).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from index.lock import indexer_lock
from search.analytics.reports import REPLICAS_DIR
from search.analytics.storage import FILENAME as ANALYTICS_FILE
from search.analytics.storage import FOLDER as ANALYTICS_FOLDER
from search.desk import DESK_FILE, Desk
from search.storage.index_folder import (
    BUILDS_DIR,
    CURRENT_LINK,
    INDEX_NAME,
    Generation,
    IndexFolder,
    toc_generations,
)
from search.storage.manifest import manifest_name
from search.whoosh_internals import toc_filename

PARTIAL_SUFFIX = ".partial"


class PublishError(RuntimeError):
    """rsync or a replica-side step failed; the replica still serves what it served."""


@dataclass(frozen=True)
class Replica:
    """Where a replica's index folder is: ``host`` None for a folder on this host."""

    host: str | None
    folder: PurePosixPath

    @classmethod
    def parse(cls, text: str) -> Replica:
        host, colon, folder = text.partition(":")
        if colon and host and "/" not in host:
            return cls(host, PurePosixPath(folder))
        return cls(None, PurePosixPath(text))

    def rsync_target(self, path: PurePosixPath) -> str:
        return f"{self.host}:{path}" if self.host else str(path)

    def run(self, script: str) -> str:
        """Run a POSIX shell ``script`` where the replica's folder is; its output."""
        command = ["sh", "-c", script]
        if self.host:
            command = ["ssh", self.host, shlex.join(command)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise PublishError(f"{self}: {done.stderr.strip() or 'failed'}")
        return done.stdout

    def __str__(self) -> str:
        return self.rsync_target(self.folder)


def generation_name(index_dir) -> str:
    """The name of the generation to publish, the one this host serves: ``<build>.<n>``."""
    return IndexFolder(index_dir).served().generation.copy_name


def _left_behind(generation: Generation) -> list[str]:
    """rsync exclusions for the generations newer than ``generation`` (damaged ones)."""
    newer = [n for n in toc_generations(generation.build) if n > generation.number]
    names = [toc_filename(INDEX_NAME, n) for n in newer] + [
        manifest_name(INDEX_NAME, n) for n in newer
    ]
    return [f"--exclude=/{name}" for name in names]


def publish(index_dir, replica_text: str) -> str:
    """Publish the live generation of ``index_dir`` to one replica; its name.

    Raises IndexLockedError while an indexer runs (try again after it), and
    PublishError when a step fails (the replica keeps serving what it served).
    """
    replica = Replica.parse(replica_text)
    builds = replica.folder / BUILDS_DIR
    with indexer_lock(index_dir):
        generation = IndexFolder(index_dir).served().generation
        name = generation.copy_name
        link = _quoted(replica.folder / CURRENT_LINK)
        serving = replica.run(f"mkdir -p {_quoted(builds)} && readlink {link} || true").strip()
        served = PurePosixPath(serving).name if serving else None
        if served != name:
            _copy_generation(replica, generation, served)
        _copy_desk(index_dir, replica)
    _collect_analytics(index_dir, replica)
    return name


def _copy_generation(replica: Replica, generation: Generation, served: str | None) -> None:
    """Copy one generation's build to the replica and switch its ``current`` to it."""
    name, builds = generation.copy_name, replica.folder / BUILDS_DIR
    partial = builds / f".{name}{PARTIAL_SUFFIX}"
    command = ["--archive", "--delete", "--delete-excluded", "--exclude", "*.tmp/"]
    command += _left_behind(generation)
    if served:
        command.append(f"--link-dest={builds / served}")
    _rsync(replica, command + [f"{generation.build}/", replica.rsync_target(partial) + "/"])
    replica.run(_switch_script(replica.folder, partial, name, served))


def _copy_desk(index_dir, replica: Replica) -> None:
    """A consistent copy of the desk to ``REPLICA/desk.sqlite``, swapped in with one rename."""
    incoming = replica.folder / f".{DESK_FILE}.incoming"
    with tempfile.TemporaryDirectory(prefix="desk-") as folder:
        copy = Path(folder) / DESK_FILE
        desk = Desk(index_dir)
        try:
            desk.copy_to(copy)
        finally:
            desk.close()
        _rsync(replica, ["--times", str(copy), replica.rsync_target(incoming)])
    replica.run(f"mv -f {_quoted(incoming)} {_quoted(replica.folder / DESK_FILE)}")


# Run by the replica's python3: a consistent copy of its analytics file, even while it records.
_SNAPSHOT = (
    "import sqlite3, sys; source = sqlite3.connect(sys.argv[1], timeout=10); "
    "copy = sqlite3.connect(sys.argv[2]); source.backup(copy); copy.close(); source.close()"
)


def replica_analytics_path(index_dir, replica: Replica) -> Path:
    """Where this host keeps the copy of ``replica``'s analytics: named after the replica."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(replica)).strip("_.") or "replica"
    return Path(index_dir) / REPLICAS_DIR / f"{name}.sqlite"


def _collect_analytics(index_dir, replica: Replica) -> None:
    """Copy the replica's analytics file back beside this host's (step 6 above)."""
    source = replica.folder / ANALYTICS_FOLDER / ANALYTICS_FILE
    snapshot = replica.folder / ANALYTICS_FOLDER / f".{ANALYTICS_FILE}.outgoing"
    made = replica.run(
        f"if [ -f {_quoted(source)} ]; then python3 -c {_quoted(_SNAPSHOT)} "
        f"{_quoted(source)} {_quoted(snapshot)} && echo made; fi"
    )
    if "made" not in made:
        return
    target = replica_analytics_path(index_dir, replica)
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f".{target.name}.incoming")
    _rsync(replica, [replica.rsync_target(snapshot), str(incoming)])
    replica.run(f"rm -f {_quoted(snapshot)}")
    incoming.replace(target)


def _rsync(replica: Replica, arguments: list[str]) -> None:
    try:
        done = subprocess.run(["rsync", *arguments], capture_output=True, text=True)
    except OSError as error:  # no rsync installed
        raise PublishError(f"cannot run rsync: {error.strerror}") from None
    if done.returncode:
        raise PublishError(f"rsync to {replica} failed: {done.stderr.strip()}")


def _quoted(path: PurePosixPath | str) -> str:
    return shlex.quote(str(path))


def _switch_script(folder: PurePosixPath, partial: PurePosixPath, name: str, served) -> str:
    """The replica-side shell steps: finish the copy, switch ``current``, drop old copies."""
    builds = folder / BUILDS_DIR
    incoming = folder / f".{CURRENT_LINK}.incoming"
    keep = " ".join(sorted({name, served} - {None}))
    return (
        f"set -e; rm -rf {_quoted(builds / name)}; mv {_quoted(partial)} {_quoted(builds / name)}; "
        f"ln -sfn {_quoted(f'{BUILDS_DIR}/{name}')} {_quoted(incoming)}; "
        f"mv -T {_quoted(incoming)} {_quoted(folder / CURRENT_LINK)}; "
        f"cd {_quoted(builds)}; for old in * .*{PARTIAL_SUFFIX}; do "
        f'case " {keep} " in *" $old "*) ;; '
        '*) if [ -e "$old" ]; then rm -rf -- "$old"; fi ;; esac; done'
    )
