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

Accepting eagerly also lets one worker take most of a few clients' keep-alive
connections; a request web/admission.py marks ``HAND_OVER`` (others were
waiting in this worker) is therefore answered with ``Connection: close``, so
that the client's next connection can go to a worker with less to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import gunicorn
from gevent.server import StreamServer
from gunicorn.workers import ggevent

from web.admission import HAND_OVER

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


class HandOver:
    """The WSGI application, closing each connection whose request is marked HAND_OVER.

    gunicorn passes its response's bound ``start_response``; the response's
    ``force_close`` makes it send ``Connection: close`` and close the
    connection once the body is written (it writes the headers only then).
    Attributes are the application's (``extensions``, for the worker hook).
    """

    def __init__(self, application: Callable[[dict, Callable], Iterable[bytes]]):
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        body = self.application(environ, start_response)
        if environ.get(HAND_OVER):
            force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
            if force_close is not None:
                force_close()
        return body

    def __getattr__(self, name: str) -> Any:
        return getattr(self.application, name)


class EagerGeventWorker(ggevent.GeventWorker):
    def load_wsgi(self) -> None:
        super().load_wsgi()
        if gunicorn.__version__ == VERIFIED_GUNICORN:
            self.wsgi = HandOver(self.wsgi)

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
