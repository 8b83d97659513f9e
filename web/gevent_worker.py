"""gunicorn's gevent worker, accepting connections as they come rather than one per turn.

With more than one worker, gunicorn's gevent worker accepts one connection
each time round its loop (``max_accept = 1``, to spread connections over the
workers). A worker busy with searches then accepts no faster than it
answers, and a burst queues in the kernel's listen backlog, where nothing can
see it or shed it: with 200 clients, answers took 3 to 7 s. Accepting up to
``MAX_ACCEPT`` at a time moves the queue into the worker, where
web/admission.py answers what it can in time and sheds the rest with a
quick 503 (bench/soak.py --burst measures both). Verified against gunicorn
VERIFIED_GUNICORN; on any other version this worker is gunicorn's own, with
one log line.
"""

from __future__ import annotations

import gunicorn
from gevent.server import StreamServer
from gunicorn.workers import ggevent

VERIFIED_GUNICORN = "27.0.1"
MAX_ACCEPT = 32


class EagerStreamServer(StreamServer):
    """A StreamServer whose ``max_accept`` stays MAX_ACCEPT (GeventWorker.run sets it to 1)."""

    @property
    def max_accept(self) -> int:
        return MAX_ACCEPT

    @max_accept.setter
    def max_accept(self, _value: int) -> None:
        pass


class EagerGeventWorker(ggevent.GeventWorker):
    def run(self) -> None:
        if gunicorn.__version__ == VERIFIED_GUNICORN:
            # GeventWorker.run builds its servers from this module global.
            ggevent.StreamServer = EagerStreamServer
        else:
            self.log.warning(
                "gunicorn %s, not %s: accepting one connection at a time (gunicorn's default)",
                gunicorn.__version__,
                VERIFIED_GUNICORN,
            )
        super().run()
