"""gunicorn settings for ``article-search serve`` (``--config python:web.gunicorn_conf``).

Workers are sized to the machine unless ARTICLE_SEARCH_WORKERS (or --workers)
says otherwise. Each worker opens the index itself after the fork
(``preload_app = False``), and its SearchEngine follows newer index
generations without a restart. Workers are recycled now and then (with
jitter, so not all at once) to keep memory in check.
"""

from __future__ import annotations

import multiprocessing
import os


def default_workers() -> int:
    """2 x cores + 1, at most 8: searches are CPU-bound and each worker holds the index."""
    configured = os.environ.get("ARTICLE_SEARCH_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return min(2 * multiprocessing.cpu_count() + 1, 8)


bind = os.environ.get("ARTICLE_SEARCH_BIND", "127.0.0.1:8000")
workers = default_workers()
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 2
preload_app = False
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("ARTICLE_SEARCH_LOG_LEVEL", "info")
proc_name = "article-search"
# Bounded request lines and headers: nothing legitimate here is longer.
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket defaults to one path per user, which two servers
# (say, a test server beside `make run`) would take from each other.
control_socket_disable = True
