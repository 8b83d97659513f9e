"""The article-search benchmark: indexing, search and HTTP, beside a SQLite FTS5 baseline.

For one corpus (Reuters-21578 by default; ``--size N`` cuts it short or grows
it to N articles) it measures, for article-search and for the FTS5 baseline in
the same run so the machine's noise falls on both:

- full index time (until the words are searchable) and the vectors' second pass
  after it, articles/s, the no-change re-run's time, peak memory
  (summed over the indexer's processes);
- adding a day's 1,000 new articles while a search engine serves the index,
  and the seconds from the indexer's exit until a search finds them all
  (the engine searching every POLL_SECONDS, as a served page would);
- search latency p50/p95/p99 in process over the query log (bench/queries.txt),
  each query doing what /api/search does for page 1 (top 10, total, both
  facets' counts, snippets, suggestion when needed, the JSON);
- HTTP requests/s, latency percentiles and errors under concurrent load
  (Debian's ``wrk`` when installed, else a Python load generator) against
  ``article-search serve`` with gunicorn, and the memory of each worker.

Usage: ``python bench/bench.py [--size 200000] [--skip-http] [--json out.json]``;
``--help`` lists the rest. Figures are medians over the runs asked for.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from corpus import REUTERS, count_articles, write_corpus
from fts5_baseline import Fts5Search
from harness import (
    ARTICLE_SEARCH,
    BENCH_DIR,
    ROOT,
    Server,
    TreeMemory,
    in_process_search,
    log,
    percentiles,
    rss_mb,
)
from query_logs import QUERY_LOG, read_query_log

DEFAULT_WORK = ROOT / "var" / "bench"
# Corpora at least this big are held to the 200,000-article and the million-article targets.
SCALE_THRESHOLDS = (100_000, 500_000)
DAILY_ARTICLES = 1_000  # a daily import: new articles added to the full index
# A word in every daily article's title (and in no other article): a search for it finds them.
DAILY_WORD = "dailyimportmarker"
POLL_SECONDS = 0.1  # how often the serving engine searches while the daily import runs
SEARCHABLE_LIMIT = 60.0  # seconds after the import when the search for its articles gives up

# figure -> (Reuters target, 200k target, 1M target, True when bigger is better); None: no target
TARGETS = {
    "index_seconds": (12.0, 180.0, 240.0, False),
    "vectors_seconds": (None, None, 300.0, False),
    "index_peak_mb": (None, None, 1024.0, False),
    "rerun_seconds": (3.0, 20.0, 15.0, False),
    "add_seconds": (None, None, 20.0, False),
    "searchable_seconds": (None, None, 2.0, False),
    "search_p50_ms": (25.0, 60.0, 30.0, False),
    "search_p95_ms": (80.0, 250.0, 120.0, False),
    "search_p99_ms": (None, None, 400.0, False),
    "http_rps": (100.0, 40.0, 40.0, True),
    "http_errors": (0, 0, 0, False),
    "worker_mb": (300.0, 800.0, 600.0, False),
    "start_seconds": (None, None, 10.0, False),
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(command: list[str]) -> tuple[float, float, float, str]:
    """Run ``command``; (wall seconds, CPU seconds, peak summed RSS in MB, its stdout).

    CPU seconds (user + system, every process of the run) change little when
    other work shares the machine; wall seconds are what the targets count.
    """
    cpu_before = _children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(process.pid)
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    peak = memory.stop()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{err}")
    return seconds, _children_cpu() - cpu_before, peak, out.strip()


# --- indexing -------------------------------------------------------------------------


def ours_index_commands(corpus: Path, index_dir: Path, *more: Path) -> list[str]:
    paths = [str(corpus), *map(str, more)]
    return [*ARTICLE_SEARCH, "index", *paths, "--index", str(index_dir)]


def write_daily_import(corpus: Path, out: Path) -> Path:
    """DAILY_ARTICLES new articles (the corpus's first ones under new ids, DAILY_WORD added
    to their titles), as a day brings."""
    with corpus.open(encoding="utf-8") as lines, out.open("w", encoding="utf-8") as daily:
        for _, line in zip(range(DAILY_ARTICLES), lines, strict=False):
            article = json.loads(line)
            article["id"] = f"{article['id']}~daily"
            article["title"] = f"{article['title']} {DAILY_WORD}"
            daily.write(json.dumps(article, ensure_ascii=False) + "\n")
    return out


def add_while_serving(command: list[str], index_dir: Path, articles: int) -> dict:
    """Run the daily import ``command`` while an engine serves ``index_dir``, searching for
    DAILY_WORD every POLL_SECONDS: the import's wall, CPU and peak memory, and the seconds
    (wall, and CPU of this searching process) from its exit until a search found all its
    ``articles`` (0 when one found them before the indexer had exited; at most
    SEARCHABLE_LIMIT, the search then giving up)."""
    from search.engine import SearchEngine
    from search.results import SearchRequest

    engine = SearchEngine(index_dir)
    request = SearchRequest(q=DAILY_WORD, prefix=False, typos=False)
    engine.search(request)
    ran: dict = {}

    def run() -> None:
        ran["figures"] = timed_run(command)
        ran["ended"], ran["ended_cpu"] = time.perf_counter(), time.process_time()

    indexer = threading.Thread(target=run, name="daily import")
    indexer.start()
    found = None
    while found is None or indexer.is_alive():
        if found is None and engine.search(request).total >= articles:
            found = time.perf_counter(), time.process_time()
        elif found is None and time.perf_counter() - ran.get("ended", np.inf) > SEARCHABLE_LIMIT:
            log(f"  the day's articles were not found {SEARCHABLE_LIMIT:g} s after the import")
            found = time.perf_counter(), time.process_time()
        time.sleep(POLL_SECONDS)
    indexer.join()
    seconds, cpu, peak, _ = ran["figures"]
    return {
        "add": seconds,
        "add_cpu": cpu,
        "peak": peak,
        "searchable": max(0.0, found[0] - ran["ended"]),
        "searchable_cpu": max(0.0, found[1] - ran["ended_cpu"]),
    }


def second_pass_seconds(summary: str) -> float:
    """The seconds the indexer's second pass (vectors) took, from its summary line; 0 if
    it had none. The full index's words were searchable that much before the run ended."""
    found = re.search(r"articles' vectors in ([0-9.]+) s", summary)
    return float(found.group(1)) if found else 0.0


def fts5_commands(command: str, corpus: Path, db: Path) -> list[str]:
    return [sys.executable, str(BENCH_DIR / "fts5_baseline.py"), command, str(corpus), str(db)]


def measure_indexing(corpus: Path, work: Path, runs: int, baseline: bool) -> dict:
    """Full index and no-change re-run, ``runs`` times each; medians and peak memory."""
    figures: dict[str, dict] = {"ours": {}, "fts5": {}}
    samples: dict[str, dict[str, list[float]]] = {
        name: {
            "full": [],
            "vectors": [],
            "cpu": [],
            "rerun": [],
            "add": [],
            "peak": [],
            "searchable": [],
        }
        for name in ("ours", "fts5")
    }
    index_dir, db = work / "index", work / "fts5.sqlite"
    daily = write_daily_import(corpus, work / "daily.jsonl")
    for run in range(runs):
        shutil.rmtree(index_dir, ignore_errors=True)
        seconds, cpu, peak, out = timed_run(ours_index_commands(corpus, index_dir))
        vectors = second_pass_seconds(out)
        seconds -= vectors
        rerun, _, _, _ = timed_run(ours_index_commands(corpus, index_dir))
        add = add_while_serving(
            ours_index_commands(corpus, index_dir, daily), index_dir, count_articles(daily)
        )
        samples["ours"]["full"].append(seconds)
        samples["ours"]["vectors"].append(vectors)
        samples["ours"]["cpu"].append(cpu)
        samples["ours"]["rerun"].append(rerun)
        samples["ours"]["add"].append(add["add"])
        samples["ours"]["searchable"].append(add["searchable"])
        samples["ours"]["peak"].append(max(peak, add["peak"]))
        log(
            f"  index run {run + 1}: ours {seconds:.1f} s then vectors {vectors:.1f} s, "
            f"cpu {cpu:.1f} s, peak {peak:.0f} MB; "
            f"re-run {rerun:.2f} s; {DAILY_ARTICLES:,} added in {add['add']:.2f} s "
            f"({add['add_cpu']:.1f} s CPU), searchable {add['searchable']:.2f} s after "
            f"({add['searchable_cpu']:.2f} s CPU searching)"
        )
        if baseline:
            seconds, cpu, peak, _ = timed_run(fts5_commands("index", corpus, db))
            rerun, _, _, _ = timed_run(fts5_commands("update", corpus, db))
            samples["fts5"]["full"].append(seconds)
            samples["fts5"]["cpu"].append(cpu)
            samples["fts5"]["rerun"].append(rerun)
            samples["fts5"]["peak"].append(peak)
            log(f"  index run {run + 1}: fts5 {seconds:.1f} s; re-run {rerun:.2f} s")
    articles = count_articles(corpus)
    for name, sample in samples.items():
        if sample["full"]:
            full = statistics.median(sample["full"])
            figures[name] = {
                "index_seconds": full,
                **(
                    {"vectors_seconds": statistics.median(sample["vectors"])}
                    if sample["vectors"]
                    else {}
                ),
                "index_cpu_seconds": statistics.median(sample["cpu"]),
                "articles_per_second": articles / full,
                "rerun_seconds": statistics.median(sample["rerun"]),
                **({"add_seconds": statistics.median(sample["add"])} if sample["add"] else {}),
                **(
                    {"searchable_seconds": statistics.median(sample["searchable"])}
                    if sample["searchable"]
                    else {}
                ),
                "index_peak_mb": max(sample["peak"]),
                "index_runs": sample["full"],
            }
    return figures


# --- in-process search ----------------------------------------------------------------


def ours_search(index_dir: Path) -> Callable[[str], str]:
    """What /api/search does for one query string, in process: request -> JSON text."""
    search = in_process_search(index_dir)
    return lambda query_string: json.dumps(search(query_string))


def fts5_search(db: Path) -> Callable[[str], str]:
    searcher = Fts5Search(db)
    return lambda query_string: json.dumps(searcher.search(query_string))


def measure_search(searchers: dict[str, Callable[[str], str]], queries: list[str], rounds: int):
    """Every query of the log ``rounds`` times per system, systems alternating per round."""
    # The first pass, timed on its own: every cache empty (term lists, phrases,
    # corrections); the later rounds show a server that has seen the queries.
    cold: dict[str, list[float]] = {name: [] for name in searchers}
    for name, search in searchers.items():
        for query in queries:
            started = time.perf_counter()
            search(query)
            cold[name].append((time.perf_counter() - started) * 1000)
    samples: dict[str, list[float]] = {name: [] for name in searchers}
    cpu: dict[str, list[float]] = {name: [] for name in searchers}
    per_query: dict[str, dict[str, list[float]]] = {name: {} for name in searchers}
    for _ in range(rounds):
        for name, search in searchers.items():
            for query in queries:
                started, cpu_started = time.perf_counter(), time.thread_time()
                search(query)
                elapsed = (time.perf_counter() - started) * 1000
                cpu[name].append((time.thread_time() - cpu_started) * 1000)
                samples[name].append(elapsed)
                per_query[name].setdefault(query, []).append(elapsed)
    figures = {}
    for name, sample in samples.items():
        slowest = sorted(per_query[name].items(), key=lambda item: -statistics.median(item[1]))
        figures[name] = {
            **{f"search_{k}": v for k, v in percentiles(sample).items()},
            "search_mean_ms": statistics.fmean(sample),
            **{f"search_cpu_{k}": v for k, v in percentiles(cpu[name]).items()},
            **{f"search_cold_{k}": v for k, v in percentiles(cold[name]).items()},
            "slowest": [(q, round(statistics.median(t), 1)) for q, t in slowest[:8]],
        }
    return figures


# --- HTTP ------------------------------------------------------------------------------


def python_load(port: int, paths: list[str], clients: int, seconds: float) -> dict:
    """A bounded load generator: ``clients`` threads with keep-alive connections."""
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, failed, position = [], 0, offset
        while time.monotonic() < deadline:
            path = paths[position % len(paths)]
            position += 1
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i * 7919,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        **percentiles(latencies or [0.0]),
        "errors": errors[0],
        "non_2xx": 0,
    }


def wrk_load(port: int, paths_file: Path, clients: int, seconds: float) -> dict:
    command = ["wrk", "-t2", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
    command += ["-s", str(BENCH_DIR / "wrk.lua"), f"http://127.0.0.1:{port}", "--", str(paths_file)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure_http(
    name: str, server: Server, queries: list[str], clients: int, seconds: float, tool: str
) -> dict:
    paths = ["/api/search?" + q for q in queries]
    try:
        server.wait_healthy()
        memory = TreeMemory(server.process.pid, interval=0.25)
        python_load(server.port, paths, clients, min(3.0, seconds))  # warm every worker up
        if tool == "wrk":
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
                file.write("\n".join(paths) + "\n")
            try:
                figures = wrk_load(server.port, Path(file.name), clients, seconds)
            finally:
                os.unlink(file.name)
        else:
            figures = python_load(server.port, paths, clients, seconds)
        figures["http_rps"] = figures["requests"] / figures["seconds"]
        figures["http_errors"] = figures["errors"] + figures["non_2xx"]
        memory.stop()
        figures["worker_mb"] = memory.largest_descendant
        figures["workers"] = len(memory.descendants)  # more than --workers: some recycled
        figures["load_tool"] = tool
        figures["start_seconds"] = server.start_seconds
    finally:
        server.stop()
    log(
        f"  http {name}: {figures['http_rps']:.0f} req/s, p50 {figures['p50_ms']:.1f} ms, "
        f"p95 {figures['p95_ms']:.1f} ms, errors {figures['http_errors']}"
    )
    return {f"http_{k}" if k.endswith("_ms") else k: v for k, v in figures.items()}


def fts5_server(db: Path, workers: int) -> Server:
    """The FTS5 baseline (bench/fts5_app.py) under gunicorn with article-search's settings."""

    def command(port: int) -> list[str]:
        return [
            *[sys.executable, "-m", "gunicorn", "--config", "python:web.gunicorn_conf"],
            *["--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            *["--pythonpath", str(BENCH_DIR), "fts5_app:create_app()"],
        ]

    env = dict(os.environ, BENCH_FTS5_DB=str(db), ARTICLE_SEARCH_LOG_LEVEL="warning")
    return Server(command, env)


def measure_all_http(args, work: Path, queries: list[str], baseline: bool) -> dict:
    tool = "wrk" if shutil.which("wrk") and not args.python_load else "python"
    figures = {}
    runs = {"ours": [], "fts5": []}
    load = (queries, args.clients, args.http_seconds, tool)
    for _ in range(args.http_runs):
        ours = Server.article_search(work / "index", args.workers)
        runs["ours"].append(measure_http("ours", ours, *load))
        if baseline:
            fts5 = fts5_server(work / "fts5.sqlite", args.workers)
            runs["fts5"].append(measure_http("fts5", fts5, *load))
    for name, results in runs.items():
        if results:
            # The run with the median throughput, whole, so its figures belong together.
            ranked = sorted(results, key=lambda r: r["http_rps"])
            figures[name] = ranked[len(ranked) // 2]
            figures[name]["http_errors"] = sum(r["http_errors"] for r in results)
    return figures


# --- report ---------------------------------------------------------------------------

ROWS = [
    ("full index (s)", "index_seconds", "{:.1f}"),
    ("then vectors (s)", "vectors_seconds", "{:.1f}"),
    ("full index, CPU (s)", "index_cpu_seconds", "{:.1f}"),
    ("articles/s", "articles_per_second", "{:.0f}"),
    ("no-change re-run (s)", "rerun_seconds", "{:.2f}"),
    (f"add {DAILY_ARTICLES:,} articles (s)", "add_seconds", "{:.2f}"),
    ("searchable after add (s)", "searchable_seconds", "{:.2f}"),
    ("index peak memory (MB)", "index_peak_mb", "{:.0f}"),
    ("index opened for search (s)", "open_seconds", "{:.2f}"),
    ("search p50 (ms)", "search_p50_ms", "{:.1f}"),
    ("search p95 (ms)", "search_p95_ms", "{:.1f}"),
    ("search p99 (ms)", "search_p99_ms", "{:.1f}"),
    ("search p50, first pass (ms)", "search_cold_p50_ms", "{:.1f}"),
    ("search p95, first pass (ms)", "search_cold_p95_ms", "{:.1f}"),
    ("search p50, CPU (ms)", "search_cpu_p50_ms", "{:.1f}"),
    ("search p95, CPU (ms)", "search_cpu_p95_ms", "{:.1f}"),
    ("search process memory (MB)", "search_process_mb", "{:.0f}"),
    ("HTTP requests/s", "http_rps", "{:.1f}"),
    ("HTTP p50 (ms)", "http_p50_ms", "{:.1f}"),
    ("HTTP p95 (ms)", "http_p95_ms", "{:.1f}"),
    ("HTTP p99 (ms)", "http_p99_ms", "{:.1f}"),
    ("HTTP errors", "http_errors", "{:d}"),
    ("memory per worker (MB)", "worker_mb", "{:.0f}"),
    ("serve start to answer (s)", "start_seconds", "{:.1f}"),
]


def target_text(key: str, value, articles: int) -> str:
    if key not in TARGETS:
        return ""
    *targets, bigger = TARGETS[key]
    target = targets[sum(articles >= threshold for threshold in SCALE_THRESHOLDS)]
    if target is None:
        return ""
    sign = "≥" if bigger else "≤"
    if value is None:
        return f"{sign} {target:g}"
    met = value >= target if bigger else value <= target
    return f"{sign} {target:g} {'ok' if met else 'MISSED'}"


def report(results: dict) -> str:
    ours, fts5 = results["ours"], results.get("fts5", {})
    articles = results["articles"]
    lines = [
        f"article-search benchmark: {results['corpus']} ({articles:,} articles), "
        f"{results['queries']} queries, {results['cores']} cores, python {results['python']}, "
        f"load average {results['load_before']:.1f} before, {results['load_after']:.1f} after",
        f"{'figure':<28}{'ours':>12}{'FTS5':>12}{'ours/FTS5':>11}   target",
    ]
    for label, key, style in ROWS:
        if key not in ours and key not in fts5:
            continue
        mine, theirs = ours.get(key), fts5.get(key)
        ratio = f"{mine / theirs:.1f}×" if mine is not None and theirs else ""
        mine_text = style.format(mine) if mine is not None else "-"
        theirs_text = style.format(theirs) if theirs is not None else "-"
        target = target_text(key, mine, articles)
        lines.append(f"{label:<28}{mine_text:>12}{theirs_text:>12}{ratio:>11}   {target}")
    if ours.get("slowest"):
        lines.append("slowest queries (ours, median ms): ")
        lines += [f"  {ms:8.1f}  {query}" for query, ms in ours["slowest"]]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REUTERS, help="JSON Lines articles")
    parser.add_argument("--size", type=int, help="cut the corpus short or grow it to N articles")
    parser.add_argument("--queries", type=Path, default=QUERY_LOG, help="the query log")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch folder")
    parser.add_argument("--index-runs", type=int, default=3, help="full index runs (median)")
    parser.add_argument("--search-rounds", type=int, default=3, help="passes over the query log")
    parser.add_argument("--http-runs", type=int, default=1, help="HTTP load runs per system")
    parser.add_argument("--http-seconds", type=float, default=20.0, help="length of a load run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--python-load", action="store_true", help="no wrk, even if installed")
    parser.add_argument("--skip-index", action="store_true", help="reuse the last run's indexes")
    parser.add_argument("--skip-search", action="store_true", help="no in-process search")
    parser.add_argument("--skip-http", action="store_true", help="no HTTP measurement")
    parser.add_argument("--no-baseline", action="store_true", help="leave FTS5 out")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work.absolute()
    work.mkdir(parents=True, exist_ok=True)
    if not args.corpus.exists():
        log(f"bench: no corpus at {args.corpus} (see ../shared/corpora/README.md)")
        return 2
    corpus = args.corpus.absolute()
    if args.size:
        log(f"preparing a {args.size:,}-article corpus from {corpus.name}")
        corpus = write_corpus(corpus, args.size, work / f"corpus-{args.size}.jsonl")
    queries = read_query_log(args.queries)
    baseline = not args.no_baseline
    results = {
        "corpus": str(args.corpus.name if not args.size else corpus.name),
        "articles": count_articles(corpus),
        "queries": len(queries),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": os.getloadavg()[0],
        "ours": {},
        "fts5": {},
    }
    if not args.skip_index:
        log(f"indexing {results['articles']:,} articles, {args.index_runs} run(s)")
        for name, figures in measure_indexing(corpus, work, args.index_runs, baseline).items():
            results[name].update(figures)
    if not args.skip_search:
        log(f"searching: {len(queries)} queries x {args.search_rounds} round(s)")
        opening = time.perf_counter()
        searchers = {"ours": ours_search(work / "index")}
        results["ours"]["open_seconds"] = time.perf_counter() - opening
        if baseline:
            searchers["fts5"] = fts5_search(work / "fts5.sqlite")
        for name, figures in measure_search(searchers, queries, args.search_rounds).items():
            results[name].update(figures)
        results["ours"]["search_process_mb"] = rss_mb(os.getpid())
    if not args.skip_http:
        log(f"HTTP: {args.clients} clients, {args.workers} workers, {args.http_seconds:g} s")
        for name, figures in measure_all_http(args, work, queries, baseline).items():
            results[name].update(figures)
    results["load_after"] = os.getloadavg()[0]
    print(report(results))
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (work / f"results-{results['articles']}-{stamp}.json").write_text(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
