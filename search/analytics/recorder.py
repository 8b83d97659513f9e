"""Each serving process's recorder: events are queued in memory and written in batches by a thread.

``record()`` only appends to a bounded in-memory queue and never waits: a
search is never slowed or failed by recording. A thread of the process's own
(a real OS thread even under gevent's monkey-patching, so that SQLite's waits
for the file's lock block no greenlet) writes what is queued every
``FLUSH_SECONDS``, so a crash loses at most about that much. Events are
dropped, and counted, when the queue is full (a burst, or the file is slow),
when the process has taken ``per_minute`` events this minute, when the file
holds ``max_events`` raw events, or when a batch cannot be written (the file
locked for longer than storage.BUSY_MS, the disk full): one line on stderr a
minute says so, and the count is written to the file's ``dropped`` table for
/healthz. The thread also purges events older than the retention once an hour.

The thread is started on the first event in each process (gunicorn forks its
workers after the app is built); it writes what is left when the process exits.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from search import settings
from search.analytics import storage
from search.analytics.events import Event

FLUSH_SECONDS = 0.5
MAX_QUEUED = 5000
LOG_EVERY_SECONDS = 60.0
CHECK_EVERY_SECONDS = 60.0  # how often the thread counts the file's events against its cap
PURGE_EVERY_SECONDS = 3600.0


def _original(module: str, name: str):
    """``module.name`` as it was before gevent's monkey-patching (itself when unpatched)."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return getattr(__import__(module), name)
    return monkey.get_original(module, name)


@dataclass(frozen=True)
class RecorderSettings:
    """The limits recording keeps to; each has an environment variable (search.settings)."""

    retention_days: int = settings.ANALYTICS_DAYS.default
    per_minute: int = settings.ANALYTICS_PER_MINUTE.default  # events one process takes a minute
    max_events: int = settings.ANALYTICS_MAX_EVENTS.default  # raw events the file may hold
    busy_ms: int = storage.BUSY_MS  # how long a batch waits for the file's lock


class Recorder:
    """Queues events and writes them to ``path`` in batches from a thread of its own."""

    def __init__(self, path: Path, settings: RecorderSettings = RecorderSettings()):
        self.path = Path(path)
        self.settings = settings
        self._queue: deque[Event] = deque()
        self._pid: int | None = None
        self._minute = 0
        self._this_minute = 0
        self._full = False  # the file holds max_events
        self._unwritten_drops = 0  # dropped, not yet counted in the file
        self.dropped = 0  # dropped by this process since it started
        self._last_log = 0.0
        self._logged_drops = 0
        self._reason = ""
        self._counting = _original("_thread", "allocate_lock")()  # both threads count drops
        # Held while a batch is written: flush() returns only once a batch the writing thread
        # took before it is in the file too.
        self._writing = _original("_thread", "allocate_lock")()

    def record(self, event: Event) -> bool:
        """Queue ``event``; False when it is dropped instead. Never blocks, never raises."""
        self._started()
        minute = int(time.monotonic() // 60)
        if minute != self._minute:
            self._minute, self._this_minute = minute, 0
        if self._full:
            self._drop(1, f"the analytics file holds its limit of {self.settings.max_events}")
        elif self._this_minute >= self.settings.per_minute:
            self._drop(1, f"more than {self.settings.per_minute} events a minute in this process")
        elif len(self._queue) >= MAX_QUEUED:
            self._drop(1, "the queue is full (a burst, or the analytics file is slow)")
        else:
            self._this_minute += 1
            self._queue.append(event)
            return True
        return False

    def shed(self) -> None:
        """Count an event the server turned away before it was read (web/admission.py)."""
        self._started()
        self._drop(1, "events shed while searches waited (a burst)")

    def pending_drops(self) -> int:
        """Events this process dropped that the file does not count yet."""
        return self._unwritten_drops

    def _drop(self, count: int, reason: str) -> None:
        if not count:
            return
        with self._counting:
            self.dropped += count
            self._unwritten_drops += count
            self._reason = reason

    def _started(self) -> None:
        """Start this process's writing thread, unless it runs already."""
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._queue.clear()  # a forked child does not write its parent's events
        _original("_thread", "start_new_thread")(self._run, ())
        atexit.register(self.flush)

    def _run(self) -> None:
        sleep = _original("time", "sleep")
        connection = None
        last_check = last_purge = float("-inf")
        while True:
            sleep(FLUSH_SECONDS)
            try:
                if connection is None:
                    connection = storage.connect(self.path, busy_ms=self.settings.busy_ms)
                now = time.monotonic()
                if now - last_purge >= PURGE_EVERY_SECONDS:
                    storage.purge(connection, self.settings.retention_days)
                    last_purge = now
                if now - last_check >= CHECK_EVERY_SECONDS:
                    self._full = storage.raw_events(connection) >= self.settings.max_events
                    last_check = now
                self._write_batch(connection)
            except sqlite3.Error as error:
                # What is queued cannot be written either: dropped, not kept to pile up.
                self._drop(len(self._take()), f"the analytics file failed: {error}")
                if connection is not None:
                    connection.close()
                connection = None
            self._log_drops()

    def _take(self) -> list[Event]:
        batch = []
        while self._queue:
            batch.append(self._queue.popleft())
        return batch

    def _write_batch(self, connection: sqlite3.Connection) -> None:
        """Write the queued events, and the count of drops not yet in the file; on an error
        the batch is dropped (and counted) and the error raised."""
        with self._writing:
            batch = self._take()
            drops = self._unwritten_drops
            if not batch and not drops:
                return
            try:
                storage.write_events(connection, batch, dropped=drops)
            except sqlite3.Error as error:
                self._drop(len(batch), f"the analytics file failed: {error}")
                raise
            with self._counting:
                self._unwritten_drops -= drops

    def _log_drops(self) -> None:
        now = time.monotonic()
        if self.dropped == self._logged_drops or now - self._last_log < LOG_EVERY_SECONDS:
            return
        # stderr, not logging: logging's locks are gevent's and this thread is not.
        sys.stderr.write(
            f"article-search: analytics dropped {self.dropped - self._logged_drops} events "
            f"in process {os.getpid()} since the last report: {self._reason}\n"
        )
        sys.stderr.flush()
        self._last_log, self._logged_drops = now, self.dropped

    def flush(self) -> None:
        """Write what is queued now, in the calling thread (at exit, and in tests)."""
        try:
            connection = storage.connect(self.path)
            try:
                self._write_batch(connection)
            finally:
                connection.close()
        except sqlite3.Error as error:
            self._drop(len(self._take()), f"the analytics file failed: {error}")
