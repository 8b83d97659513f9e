"""gunicorn settings for ``article-search serve`` (``--config python:web.gunicorn_conf``).

gevent workers: a connection costs a greenlet, not a worker, so clients that
connect and send nothing, or trickle their headers, cannot take the workers
away from everyone else (a sync worker is held by each such connection, and a
gthread worker's thread by each trickle: bench/slow_clients.py measures all
three). A request's headers must arrive within ``keepalive`` seconds, or the
connection is closed. Searches are CPU-bound and take turns in the engine, so
each worker still runs one at a time (web/admission.py sheds what would wait
too long). Workers are sized to the machine unless ARTICLE_SEARCH_WORKERS (or --workers)
says otherwise. Each worker opens the index itself after the fork
(``preload_app = False``), before it takes a request (``post_worker_init``: its
typing vocabulary then builds while the first requests come in), and its
SearchEngine follows newer index generations without a restart. Workers are
recycled now and then (with jitter, so not all at once) to keep memory in
check, but seldom: a new worker reads every common word again (at a million
articles its first pass over the benchmark's query log took 15 s CPU, a warm
worker's 6 s), and its caches are bounded in bytes anyway. At 2,000 requests, each of two busy
workers was recycled every minute.
"""

from __future__ import annotations

import resource

from search import settings


def raise_open_file_limit(wanted: int) -> None:
    """Lift the soft limit on open files (often 1,024) towards ``wanted``, up to the hard limit.

    Each connection is a file descriptor; workers inherit the master's limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


bind = settings.BIND.read()
workers = settings.WORKERS.read()
worker_class = "web.gevent_worker.EagerGeventWorker"
# Open connections per worker, idle or not; past it a worker stops accepting.
worker_connections = settings.WORKER_CONNECTIONS.read()
raise_open_file_limit(worker_connections + 256)
timeout = 30
graceful_timeout = 20
# Also how long a request's headers may take to arrive (gevent worker).
keepalive = 5
preload_app = False
max_requests = 20000
max_requests_jitter = 2000
accesslog = "-"
errorlog = "-"
loglevel = settings.LOG_LEVEL.read()
proc_name = "article-search"
# Bounded request lines and headers: nothing legitimate here is longer.
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = settings.FORWARDED_ALLOW_IPS.read()
# gunicorn's control socket defaults to one path per user, which two servers
# (say, a test server beside `make run`) would take from each other.
control_socket_disable = True


def post_worker_init(worker) -> None:
    """Open the index in a new worker before it accepts a connection.

    Opened on its first request instead, a worker's first clients wait for
    the opening (5 s over a million articles) while the other worker, ready,
    could have taken them; a recycled worker likewise. The engine's typing
    vocabulary starts building when it opens (search.expansion). Any error is
    left for the first request to meet and report: a worker that failed to
    boot would stop the server.
    """
    from web import EXTENSION

    holder = getattr(worker.wsgi, "extensions", {}).get(EXTENSION)
    if holder is None:  # another app under these settings (bench/fts5_app.py)
        return
    try:
        holder.get()
    except Exception:
        worker.log.exception("opening the index before the first request failed")
