"""Admission control: under overload a worker sheds requests with a quick 503, not a long wait.

A worker serves one request at a time (searches are CPU-bound and take turns
in the engine), so a burst queues up in front of it. A request that finds
``queue`` others already waiting in its worker, or so many that at the
worker's recent pace (the median of its last turns, so that one slow search
-- a new worker's first reads of a common word -- does not shed the requests
behind it) its turn would come after ``queue_seconds``, is
answered at once with 503 and ``Retry-After``; so is one that has waited
``queue_seconds`` without its turn after all, while others wait too. Each request gets its answer
within the search time limit or is told quickly to come back. Shedding must
cost far less than serving, or it would not relieve anything: the answer is a
fixed body written below Flask. Static files do not queue.

A client's keep-alive connection stays with the worker that accepted it, and
a worker accepts many connections at once (web/gevent_worker.py): eight
clients arriving together were seen held seven by one worker, one by the
other, which then sat idle half the time. So a request that leaves its turn
while others wait in its worker is marked ``HAND_OVER``: the worker answers
it with ``Connection: close``, and the client's next connection goes to
whichever worker accepts first -- one that is not busy searching.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping

from search import settings

LOW_PRIORITY_WAITING = 2  # a low-priority request is shed when this many others wait
PACE_TURNS = 15  # the worker's pace: the median length of its last turns
RETRY_AFTER_SECONDS = 1
MESSAGE = "The search service is busy. Please try again in a moment."
JSON_BODY = b'{"error": {"message": "' + MESSAGE.encode() + b'"}}\n'
HTML_BODY = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Busy</title>"
    b"<h1>Busy</h1><p>" + MESSAGE.encode() + b"</p></html>\n"
)
JSON_PATHS = ("/api/", "/healthz", "/openapi.json")
# Set in the WSGI environ when others were waiting as the request left its turn.
HAND_OVER = "article_search.hand_over"

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class AdmissionQueue:
    """One request at a time per worker; at most ``limit`` waiting, each for at most ``seconds``.

    Built on ``threading``, which gevent's workers patch: a waiting request
    is a greenlet parked on the semaphore; with threaded workers, a thread.
    """

    def __init__(self, limit: int, seconds: float):
        self.limit = limit
        self.seconds = seconds
        self._turn = threading.Semaphore(1)
        self._count_lock = threading.Lock()
        self._waiting = 0
        self._turns: deque[float] = deque([0.0], maxlen=PACE_TURNS)  # seconds each lasted
        self._turn_began = 0.0  # one turn at a time, so one start time

    def enter(self) -> bool:
        """Wait for this request's turn; False when it should be shed instead.

        Only a queue is shed: a request alone in line waits out whatever is ahead
        of it (a search, or the opening of a new index generation), since turning
        it away would relieve nothing.
        """
        arrived = time.monotonic()
        with self._count_lock:
            queued = self._waiting
            pace = statistics.median(self._turns)
            if queued >= self.limit or (queued and (queued + 1) * pace > self.seconds):
                return False
            self._waiting += 1
        try:
            while not self._turn.acquire(timeout=self.seconds):
                if self._others_waiting():
                    return False
            # A CPU-bound request ahead can overrun the timeout before the waiter wakes.
            if time.monotonic() - arrived > self.seconds and self._others_waiting():
                self._turn.release()
                return False
        finally:
            with self._count_lock:
                self._waiting -= 1
        self._turn_began = time.monotonic()
        return True

    def _others_waiting(self) -> bool:
        return self.waiting() > 1  # the asking request is among the waiting

    def waiting(self) -> int:
        """How many requests wait for their turn (the one being served is not counted)."""
        with self._count_lock:
            return self._waiting

    def leave(self) -> None:
        self._turns.append(time.monotonic() - self._turn_began)
        self._turn.release()


class AdmissionControl:
    """WSGI middleware: each request but static files waits its turn in the worker's queue.

    The turn is given back when the application returns its response, before
    the server writes it: a client slow to read holds no one up. A request
    for one of the ``low_priority`` paths (the page's analytics beacon) is
    shed at once when ``LOW_PRIORITY_WAITING`` others wait, so a burst's
    searches are never held up by it (one waiting is most often the same
    reader's next search, sent with the beacon); the path's function is
    called for each one shed (this way or the other).
    """

    def __init__(
        self,
        app: WSGIApp,
        queue: AdmissionQueue,
        low_priority: Mapping[str, Callable[[], None]] | None = None,
    ):
        self.app = app
        self.queue = queue
        self.low_priority = dict(low_priority or {})

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/static/"):
            return self.app(environ, start_response)
        shed_low_priority = self.low_priority.get(path)
        if shed_low_priority is not None and self.queue.waiting() >= LOW_PRIORITY_WAITING:
            shed_low_priority()
            return self._shed(path, start_response)
        if not self.queue.enter():
            if shed_low_priority is not None:
                shed_low_priority()
            return self._shed(path, start_response)
        try:
            return self.app(environ, start_response)
        finally:
            environ[HAND_OVER] = self.queue.waiting() > 0
            self.queue.leave()

    @staticmethod
    def _shed(path: str, start_response: Callable) -> list[bytes]:
        is_json = path.startswith(JSON_PATHS)
        body = JSON_BODY if is_json else HTML_BODY
        content_type = "application/json" if is_json else "text/html; charset=utf-8"
        start_response(
            "503 SERVICE UNAVAILABLE",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(RETRY_AFTER_SECONDS)),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]


def admission_control(
    app: WSGIApp, config, low_priority: Mapping[str, Callable[[], None]] | None = None
) -> AdmissionControl:
    """Wrap ``app`` (config QUEUE and QUEUE_SECONDS, else search.settings' QUEUE...)."""
    limit = config.get("QUEUE") or settings.QUEUE.read()
    seconds = config.get("QUEUE_SECONDS") or settings.QUEUE_SECONDS.read()
    return AdmissionControl(app, AdmissionQueue(int(limit), float(seconds)), low_priority)
