"""What recording readers' searches costs a search: p95 with and without analytics, on Reuters.

Starts ``article-search serve`` over the index again and again, recording off
(``ARTICLE_SEARCH_ANALYTICS=0``) and on, alternately, and runs the same clients
against each: they ask for the search page's results region as htmx does
(``HX-Request``), for the queries of bench/queries.txt, and, with recording on,
send the page's beacons as well -- one settled search for every search asked
(a page sends fewer: typing asks several times for each one settled) and a
result opened for one in three. Only the searches' latencies are counted.
Prints each run's p50/p95 and the medians over the runs, and the load average.

Over HTTP on a shared machine a p95 moves by tens of milliseconds from run to
run, far more than recording could add, so the script also measures in one
process (``--passes``): two apps on the same index, recording on and off, the
query log's searches (the results region, as htmx asks) taking turns between
them, and what a beacon itself costs the worker that takes it.

    .venv/bin/python bench/analytics.py                     # builds a Reuters index first
    .venv/bin/python bench/analytics.py --index var/reuters --runs 5 --seconds 20

The target (issue 24): recording adds at most 1 ms to a search's p95.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from corpus import REUTERS
from harness import Server, get, index_corpus, percentiles
from query_logs import QUERY_LOG, read_query_log

WARMUP_SECONDS = 5.0


def queries() -> list[str]:
    """The query strings of bench/queries.txt (page 1 of /api/search), as /search takes them."""
    return [urlencode(parse_qsl(line)) for line in read_query_log(QUERY_LOG)]


def run_clients(url: str, clients: int, seconds: float, events: bool, seed: int) -> list[float]:
    """Search latencies (seconds) of ``clients`` threads asking for ``seconds``."""
    asked = queries()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(seed * 100 + number)
        view = f"{rng.getrandbits(128):032x}"
        seq = 0
        while time.monotonic() < deadline:
            params = rng.choice(asked)
            started = time.perf_counter()
            try:
                status, _ = get(f"{url}/search?{params}", headers={"HX-Request": "true"})
            except OSError as error:
                errors.append(str(error))
                continue
            if status != 200:
                errors.append(f"{status} for /search?{params}")
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
            if not events:
                continue
            seq += 1
            beacons = [{"type": "search", "params": params, "results": 10, "searched": ""}]
            if rng.random() < 1 / 3:
                beacons.append({"type": "click", "position": rng.randint(1, 10)})
            for beacon in beacons:
                body = json.dumps({**beacon, "view": view, "seq": seq}).encode()
                with suppress(OSError):  # shed under load: the page would not notice either
                    get(f"{url}/api/events", body=body, headers={"Content-Type": "text/plain"})

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        print(f"  {len(errors)} search errors, e.g. {errors[0]}")
    return latencies


def one_run(index_dir: Path, recording: bool, args, workdir: Path, number: int) -> dict:
    env = {**os.environ, "ARTICLE_SEARCH_ANALYTICS": "1" if recording else "0"}
    log = workdir / f"server-{number}.log"
    server = Server.article_search(index_dir, args.workers, recycle=False, log=log, env=env)
    try:
        server.wait_healthy(60)
        run_clients(server.url, args.clients, WARMUP_SECONDS, recording, seed=0)  # warm caches
        latencies = run_clients(server.url, args.clients, args.seconds, recording, seed=number)
    finally:
        server.stop()
    figures = p50_p95(latencies)
    label = "on " if recording else "off"
    print(
        f"  run {number:>2} recording {label}: {len(latencies):>5} searches, "
        f"p50 {figures['p50_ms']:>6.1f} ms, p95 {figures['p95_ms']:>6.1f} ms",
        flush=True,
    )
    return {"recording": recording, **figures}


def p50_p95(seconds: list[float]) -> dict[str, float]:
    """The median and 95th percentile, in ms, of latencies in seconds."""
    return percentiles([value * 1000 for value in seconds], (50, 95))


def search_event_cost(app, asked: list[str], repeat: int = 20) -> float:
    """Microseconds a search spends on recording: what its page carries for the beacon."""
    from web import engine, facet_names
    from web.params import parse_search_request
    from web.recording import search_event_data

    total, count = 0.0, 0
    for params in asked:
        with app.test_request_context(f"/search?{params}"):
            result = engine().search(parse_search_request(dict(parse_qsl(params)), facet_names()))
            started = time.perf_counter()
            for _ in range(repeat):
                search_event_data(result)
            total += time.perf_counter() - started
            count += repeat
    return total / count * 1e6


def in_process(index_dir: Path, passes: int) -> dict:
    """Each search of the query log, in one process, on an app recording and one not, in
    turns (a random order each time); and the beacon's own cost. Figures in ms."""
    from web import create_app

    apps = {
        recording: create_app({"INDEX_DIR": str(index_dir), "ANALYTICS": recording}).test_client()
        for recording in (False, True)
    }
    asked = queries()
    headers = {"HX-Request": "true"}
    times: dict[bool, list[float]] = {False: [], True: []}
    rng = random.Random(7)
    for client in apps.values():  # warm both: each app opens the index itself
        for params in asked:
            client.get(f"/search?{params}", headers=headers)
    for _ in range(passes):
        for params in asked:
            for recording in rng.sample([False, True], 2):
                started = time.perf_counter()
                apps[recording].get(f"/search?{params}", headers=headers)
                times[recording].append(time.perf_counter() - started)
    beacons = []
    for seq, params in enumerate(asked * passes, start=1):
        body = json.dumps(
            {"type": "search", "view": "ab" * 16, "seq": seq, "params": params, "results": 3}
        )
        started = time.perf_counter()
        apps[True].post("/api/events", data=body, content_type="text/plain")
        beacons.append(time.perf_counter() - started)
    figures = {
        "search_event_data_us": search_event_cost(apps[True].application, asked),
        "off": p50_p95(times[False]),
        "on": p50_p95(times[True]),
        "beacon_p50_ms": round(statistics.median(beacons) * 1000, 3),
        "beacon_p95_ms": round(p50_p95(beacons)["p95_ms"], 3),
        "searches": len(times[True]),
    }
    print(
        f"in process, {figures['searches']} searches each way in turns: recording off p50 "
        f"{figures['off']['p50_ms']:.1f} ms, p95 {figures['off']['p95_ms']:.1f} ms; on p50 "
        f"{figures['on']['p50_ms']:.1f} ms, p95 {figures['on']['p95_ms']:.1f} ms "
        f"(adds {figures['on']['p95_ms'] - figures['off']['p95_ms']:.2f} ms to p95); "
        f"a beacon takes {figures['beacon_p50_ms']} ms (p95 {figures['beacon_p95_ms']} ms) "
        f"of a worker; what a search itself does for recording (web.recording.search_event_data): "
        f"{figures['search_event_data_us']:.1f} us; load average {os.getloadavg()}",
        flush=True,
    )
    return figures


def http_summary(runs: list[dict]) -> dict:
    """The medians of the HTTP runs' p50 and p95, recording off and on; printed."""
    summary = {}
    for recording in (False, True):
        mine = [run for run in runs if run["recording"] == recording]
        summary["on" if recording else "off"] = {
            "p50_ms": round(statistics.median(run["p50_ms"] for run in mine), 1),
            "p95_ms": round(statistics.median(run["p95_ms"] for run in mine), 1),
        }
    added = round(summary["on"]["p95_ms"] - summary["off"]["p95_ms"], 1)
    print(
        f"medians over {len(runs) // 2} runs: recording off p50 {summary['off']['p50_ms']} ms, "
        f"p95 {summary['off']['p95_ms']} ms; on p50 {summary['on']['p50_ms']} ms, "
        f"p95 {summary['on']['p95_ms']} ms; recording adds {added} ms to p95 "
        f"(target: at most 1 ms); load average after: {os.getloadavg()}"
    )
    return {"medians": summary, "added_p95_ms": added}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", help="serve this index folder (default: index Reuters)")
    parser.add_argument("--runs", type=int, default=5, help="runs with recording on, and off")
    parser.add_argument("--seconds", type=float, default=20.0, help="each run's measured time")
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--passes", type=int, default=3, help="passes over the query log in process (0: none)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="analytics-bench-") as tmp:
        workdir = Path(tmp)
        index_dir = index_corpus(REUTERS, args.index, workdir)
        print(
            f"{args.runs} runs each way, {args.clients} clients, {args.seconds:.0f} s a run, "
            f"{args.workers} workers; load average before: {os.getloadavg()}",
            flush=True,
        )
        measured = in_process(index_dir, args.passes) if args.passes else None
        runs = []
        for number in range(args.runs):
            # Alternate which goes first, so a drift of the machine's speed hits both alike.
            for recording in (number % 2 == 0, number % 2 == 1):
                runs.append(one_run(index_dir, recording, args, workdir, number))
    figures = {"in_process": measured, "runs": runs}
    if runs:
        figures.update(http_summary(runs))
    if args.json:
        Path(args.json).write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
