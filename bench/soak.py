"""Soak test: concurrent clients against a real ``article-search serve`` on loopback.

Starts the server on a free 127.0.0.1 port, runs N client threads for a bounded
time (searches with facets, dates, sorts and pages, HTML pages, suggestions,
article pages, feeds, a few deliberately bad requests), then prints throughput,
latency percentiles per kind of request, errors, and each worker's memory (RSS)
sampled from start to end. Exits 1 on any error or when worker memory grew.

    .venv/bin/python bench/soak.py                      # 60 s, Reuters if present
    .venv/bin/python bench/soak.py --index var/index --seconds 30 --clients 8
    .venv/bin/python bench/soak.py --burst 200 --seconds 30   # overload: answered or shed

``--events`` adds the search page's analytics beacons (POST /api/events, a
fifth of the requests), as pages whose readers settle on searches send them.

``--burst N`` is the overload case: N clients at once, each asking again as soon
as it has its answer; every request must be answered within the search time limit
or shed with a quick 503 and Retry-After. It prints answered, shed, late and failed
counts with latency percentiles, and exits 1 on any late or failed request.

Gunicorn's worker recycling (max_requests) is switched off for the run, so a leak
shows as growth instead of being hidden by restarts (``--recycle`` keeps it on).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from corpus import REUTERS
from harness import DEMO, Server, get, index_corpus, percentiles, rss_mb

from search.engine import SEARCH_SECONDS

WARMUP_SECONDS = 3.0
RSS_GROWTH_LIMIT_MB = 25.0  # after warm-up; a leak grows with every request
MAX_REQUESTS = 200_000  # a bound on the loop whatever the time


class Workload:
    """What the clients ask for, made from words and values of the served index."""

    def __init__(self, url: str, events: bool = False):
        self.url = url
        self.events = events
        data = json.loads(get(f"{url}/api/search?per_page=100&sort=newest")[1])
        self.ids = [hit["id"] for hit in data["results"]]
        titles = " ".join(hit["title"] for hit in data["results"])
        words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{4,}", titles)})
        self.words = words or ["news"]
        self.regions = [v["value"] for v in data["facets"].get("region", [])][:20] or ["x"]
        self.themes = [v["value"] for v in data["facets"].get("theme", [])][:20] or ["x"]

    def request(self, rng: random.Random) -> tuple[str, str, tuple[int, ...], bytes | None]:
        """(kind, URL, acceptable statuses, the body to POST or None)."""
        if self.events and rng.random() < 0.2:
            return "event", f"{self.url}/api/events", (204,), self._event(rng)
        kind, url, expected = self._get(rng)
        return kind, url, expected, None

    def _event(self, rng: random.Random) -> bytes:
        """A beacon as the search page sends it: a settled search, or a result opened."""
        view = f"{rng.getrandbits(128):032x}"
        if rng.random() < 0.3:
            event = {"type": "click", "view": view, "seq": 1, "position": rng.randint(1, 10)}
        else:
            words = " ".join(rng.sample(self.words, min(len(self.words), rng.randint(1, 3))))
            params = urlencode({"q": words})
            event = {"type": "search", "view": view, "seq": 1, "params": params, "results": 5}
        return json.dumps(event).encode()

    def _get(self, rng: random.Random) -> tuple[str, str, tuple[int, ...]]:
        roll = rng.random()
        words = " ".join(rng.sample(self.words, min(len(self.words), rng.randint(1, 3))))
        if roll < 0.40:
            params = {"q": words}
            if rng.random() < 0.4:
                params["region"] = rng.choice(self.regions)
            if rng.random() < 0.3:
                params["theme"] = rng.choice(self.themes)
            if rng.random() < 0.3:
                params["sort"] = rng.choice(["newest", "oldest"])
            if rng.random() < 0.3:
                params["page"] = str(rng.randint(1, 5))
            if rng.random() < 0.2:
                params["from"] = f"{rng.randint(1985, 2020)}-01-01"
            return "api/search", f"{self.url}/api/search?{urlencode(params)}", (200,)
        if roll < 0.60:
            return "search page", f"{self.url}/search?{urlencode({'q': words})}", (200,)
        if roll < 0.75:
            prefix = rng.choice(self.words)[: rng.randint(2, 4)]
            return "suggest", f"{self.url}/api/suggest?{urlencode({'q': prefix})}", (200,)
        if roll < 0.85:
            article = quote(rng.choice(self.ids)) if self.ids else "none"
            return "article page", f"{self.url}/articles/{article}", (200,)
        if roll < 0.92:
            return "feed", f"{self.url}/search.atom?{urlencode({'q': words})}", (200,)
        if roll < 0.97:
            return "browse", f"{self.url}/api/search?sort=newest&page={rng.randint(1, 50)}", (200,)
        return "bad request", f"{self.url}/api/search?page=0&q={quote(words)}", (400,)


def run_clients(workload: Workload, clients: int, seconds: float, seed: int):
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    count = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        while time.monotonic() < deadline:
            with lock:
                if count[0] >= MAX_REQUESTS:
                    return
                count[0] += 1
            kind, url, expected, body = workload.request(rng)
            started = time.perf_counter()
            try:
                status, _ = get(url, body=body)
            except Exception as error:  # a failed request is a finding, whatever its kind
                status, _ = None, error
            elapsed = time.perf_counter() - started
            with lock:
                latencies[kind].append(elapsed)
                if status not in expected:
                    errors.append(f"{status} {url}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    return threads, latencies, errors


async def _ask(url: str, timeout: float, body: bytes | None) -> tuple[int | str, str | None]:
    """GET ``url`` (POST ``body``) on a new connection: (status or error, Retry-After)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port), timeout
        )
        try:
            method = "GET" if body is None else "POST"
            request = f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
            if body is not None:
                request += f"Content-Length: {len(body)}\r\n"
            writer.write(request.encode() + b"\r\n" + (body or b""))
            response = await asyncio.wait_for(reader.read(), timeout)
        finally:
            writer.close()
    except Exception as error:  # no answer at all: the finding this case looks for
        return repr(error), None
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    if not head[0].startswith("HTTP/1.1 "):
        return f"no status line: {head[0][:60]!r}", None
    headers = dict(line.split(":", 1) for line in head[1:] if ":" in line)
    retry_after = next((v.strip() for k, v in headers.items() if k.lower() == "retry-after"), None)
    return int(head[0].split()[1]), retry_after


def run_burst(workload: Workload, clients: int, seconds: float, seed: int) -> dict[str, list]:
    """``clients`` clients asking without pause; each answer sorted by what came back.

    answered: the expected status within the search time limit; shed: 503 with
    Retry-After; late: the expected status after the limit; failed: anything else
    (no answer, a refused or dropped connection, another status). The clients are
    coroutines in one thread, so the client costs little of the machine's CPU; a
    shed client waits the Retry-After seconds it was given, as a browser would.
    """
    outcomes: dict[str, list] = {"answered": [], "shed": [], "late": [], "failed": []}

    async def client(number: int, deadline: float) -> None:
        rng = random.Random(seed * 1000 + number)
        while time.monotonic() < deadline:
            kind, url, expected, body = workload.request(rng)
            started = time.perf_counter()
            status, retry_after = await _ask(url, timeout=30, body=body)
            elapsed = time.perf_counter() - started
            if status in expected:
                outcome = "answered" if elapsed <= SEARCH_SECONDS else "late"
            elif status == 503 and retry_after:
                outcome = "shed"
            else:
                outcome = "failed"
            outcomes[outcome].append((elapsed, f"{status} {url}", kind))
            if outcome == "shed":
                await asyncio.sleep(float(retry_after))

    async def everyone() -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(client(n, deadline) for n in range(clients)))

    asyncio.run(everyone())
    return outcomes


def report_burst(args, outcomes: dict[str, list], elapsed: float, server_log: str) -> dict:
    total = sum(len(v) for v in outcomes.values())
    print(f"\n{total} requests from {args.burst} clients in {elapsed:.1f} s")
    print(f"{'outcome':<10}{'count':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    figures = {}
    for outcome, results in outcomes.items():
        figures[outcome] = latency_figures([t for t, _, _ in results]) or {"count": 0}
        shown = figures[outcome]
        print(
            f"{outcome:<10}{len(results):>8}"
            + "".join(f"{shown.get(k, '-'):>9}" for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms"))
        )
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(outcomes, 0))
    for outcome, results in outcomes.items():
        for _, _, kind in results:
            by_kind[kind][outcome] += 1
    if "event" in by_kind:
        print("by kind: " + "; ".join(f"{k} {dict(v)}" for k, v in sorted(by_kind.items())))
    for _, what, _ in (outcomes["late"] + outcomes["failed"])[:10]:
        print(f"  {what}")
    tracebacks = server_log.count("Traceback")
    if tracebacks:
        print(f"server log: {tracebacks} tracebacks")
    ok = not outcomes["late"] and not outcomes["failed"] and tracebacks == 0
    print(f"burst: answered within {SEARCH_SECONDS:.0f} s or shed: " + ("OK" if ok else "FAILED"))
    return {
        "clients": args.burst,
        "workers": args.workers,
        "seconds": round(elapsed, 1),
        "requests": total,
        "outcomes": figures,
        "by_kind": by_kind,
        "problems": [what for _, what, _ in (outcomes["late"] + outcomes["failed"])[:100]],
        "server_tracebacks": tracebacks,
        "ok": ok,
    }


def latency_figures(seconds: list[float]) -> dict[str, float]:
    """Count, p50, p90, p99, max and mean (ms, to 0.1) of latencies in seconds."""
    if not seconds:
        return {}
    ms = [value * 1000 for value in seconds]
    return {
        "count": len(ms),
        **{key: round(value, 1) for key, value in percentiles(ms, (50, 90, 99)).items()},
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
    }


def prepare_index(args: argparse.Namespace, workdir: Path) -> tuple[Path, str]:
    if args.index:
        return Path(args.index), f"the index in {args.index}"
    source = REUTERS if REUTERS.exists() and not args.demo else DEMO
    return index_corpus(source, None, workdir), str(source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", help="serve this index folder (default: build one)")
    parser.add_argument("--demo", action="store_true", help="build from the demo articles")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients run")
    parser.add_argument("--clients", type=int, default=6, help="concurrent client threads")
    parser.add_argument(
        "--burst", type=int, metavar="N", help="overload case: N clients asking without pause"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--events", action="store_true", help="also send the search page's analytics beacons"
    )
    parser.add_argument("--recycle", action="store_true", help="keep gunicorn's max_requests")
    parser.add_argument("--gunicorn-args", default="", help="extra gunicorn arguments")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="soak-run-") as tmp:
        workdir = Path(tmp)
        index_dir, corpus = prepare_index(args, workdir)
        server = Server.article_search(
            index_dir, args.workers, args.recycle, args.gunicorn_args, workdir / "server.log"
        )
        try:
            health = server.wait_healthy(30)
            workload = Workload(server.url, events=args.events)
            print(
                f"soak: {health['documents']} articles ({corpus}), {args.workers} workers, "
                f"{args.burst or args.clients} clients, {args.seconds:.0f} s on {server.url}",
                flush=True,
            )
            if args.burst:
                started = time.monotonic()
                outcomes = run_burst(workload, args.burst, args.seconds, args.seed)
                elapsed = time.monotonic() - started
                time.sleep(0.5)  # the access log of the last answers
                figures = report_burst(
                    args, outcomes, elapsed, server.log.read_text("utf-8", "replace")
                )
                time.sleep(1.0)  # the recorders' last batches (search.analytics.recorder)
                figures["analytics"] = server.wait_healthy().get("analytics")
                print(f"/healthz analytics: {figures['analytics']}")
                if args.json:
                    Path(args.json).write_text(json.dumps(figures, indent=2))
                return 0 if figures["ok"] else 1
            started = time.monotonic()
            threads, latencies, errors = run_clients(
                workload, args.clients, args.seconds, args.seed
            )
            samples: list[tuple[float, dict[int, float | None]]] = []
            while any(thread.is_alive() for thread in threads):
                samples.append(
                    (time.monotonic() - started, {p: rss_mb(p) for p in server.workers()})
                )
                time.sleep(min(2.0, max(0.5, args.seconds / 20)))
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            samples.append((elapsed, {p: rss_mb(p) for p in server.workers()}))
            server_log = server.log.read_text(errors="replace")
        finally:
            server.stop()

    figures = report(args, latencies, errors, samples, elapsed, server_log)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if figures["ok"] else 1


def report(args, latencies, errors, samples, elapsed, server_log) -> dict:
    everything = [value for values in latencies.values() for value in values]
    total = len(everything)
    print(f"\n{total} requests in {elapsed:.1f} s: {total / elapsed:.1f} requests/s")
    print(f"{'kind':<14}{'count':>7}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    per_kind = {kind: latency_figures(values) for kind, values in sorted(latencies.items())}
    per_kind["all"] = latency_figures(everything)
    for kind, figures in per_kind.items():
        print(
            f"{kind:<14}{figures['count']:>7}{figures['p50_ms']:>9}{figures['p90_ms']:>9}"
            f"{figures['p99_ms']:>9}{figures['max_ms']:>9}"
        )
    print(f"errors: {len(errors)}")
    for error in errors[:10]:
        print(f"  {error}")

    # Memory: each worker's RSS after warm-up against its RSS at the end.
    first_after_warmup = next((s for t, s in samples if t >= WARMUP_SECONDS), samples[0][1])
    last = samples[-1][1]
    memory = {}
    for pid in sorted(set(first_after_warmup) | set(last)):
        start, end = first_after_warmup.get(pid), last.get(pid)
        memory[str(pid)] = {"start_mb": start, "end_mb": end}
        shown = (
            f"{start:.1f} MB -> {end:.1f} MB ({end - start:+.1f})"
            if start is not None and end is not None
            else f"{start} -> {end} (not alive for the whole run)"
        )
        print(f"worker {pid} RSS after {WARMUP_SECONDS:.0f} s warm-up: {shown}")
    marks = [elapsed * f for f in (0.25, 0.5, 0.75, 1.0)]
    for pid in sorted(last):
        series = [
            next((s.get(pid) for t, s in samples if t >= mark and s.get(pid)), None)
            for mark in marks
        ]
        memory.setdefault(str(pid), {})["series_mb"] = series
        shown = " ".join(f"{v:.1f}" if v else "-" for v in series)
        print(f"worker {pid} RSS at 25/50/75/100% of the run: {shown} MB")
    growth = [
        m["end_mb"] - m["start_mb"]
        for m in memory.values()
        if m["start_mb"] is not None and m["end_mb"] is not None
    ]
    replaced = any(m["start_mb"] is None or m["end_mb"] is None for m in memory.values())
    tracebacks = server_log.count("Traceback")
    if tracebacks:
        print(f"server log: {tracebacks} tracebacks")
    ok = (
        not errors
        and bool(growth)
        and max(growth) <= RSS_GROWTH_LIMIT_MB
        and (args.recycle or not replaced)
        and tracebacks == 0
    )
    print("soak: OK" if ok else "soak: FAILED")
    return {
        "seconds": round(elapsed, 1),
        "clients": args.clients,
        "workers": args.workers,
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "latency": per_kind,
        "errors": errors[:100],
        "error_count": len(errors),
        "worker_rss": memory,
        "max_rss_growth_mb": round(max(growth), 1) if growth else None,
        "workers_replaced": replaced,
        "server_tracebacks": tracebacks,
        "ok": ok,
    }


if __name__ == "__main__":
    sys.exit(main())
