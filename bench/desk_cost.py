"""What a full editors' desk costs searches: 10,000 synonym sets and 1,000 rules against none.

On Reuters-21578 (``--corpus``), the desk of one index is switched between
empty and full (``Desk.restore``: the workers see it within a second) in
alternating rounds, so the machine's drift falls on both:

- search latency in process over bench/queries.txt (what /api/search does for
  page 1), each round's p50 and p95;
- keystroke latency over HTTP against ``article-search serve`` (2 workers):
  every mid-word state and typo of bench/typing_queries.txt (as
  bench/keystrokes.py types them), each round's p50 and p95;
- the CPU time of each search and keystroke in process (``thread_time``),
  which a machine shared with other work disturbs far less than elapsed time;
- interleaved: with the full desk, each search and keystroke in process with
  the desk and without it (``SearchRequest.desk``, the path an empty desk
  takes), one right after the other, the order swapped every pass (twice as
  many passes as rounds), so a loaded
  machine's drift, which moves whole rounds by a third, falls on both alike.

The figures are the medians of the rounds' figures, and full / empty. The
full desk is made of the corpus's own words, so searches fire it: of the
synonym sets, three fifths pair a word with a spelling the corpus lacks (as
"kiev" where the archive writes "Kyiv"), a fifth pair two of its words, a
fifth send a two-word phrase to a word; the words are sampled over the whole
vocabulary (common and rare alike);
rules trigger on sampled words (exact, prefix, contains, a tenth with a facet
filter) and on a tenth of the query log's searches as typed, each pinning
two articles and hiding one. How many searches fired a synonym or a rule is
printed beside the latencies.

Usage: ``python bench/desk_cost.py [--index DIR] [--rounds 5] [--synonyms 10000]
[--rules 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import numpy as np
from corpus import REUTERS
from harness import HttpSearches, Server, in_process_search, index_corpus
from query_logs import QUERY_LOG, TYPING_LOG, mid_word_states, read_query_log, typo_variants

SEED = 23
SWITCH_SECONDS = 1.5  # a desk change is live within CHECK_SECONDS (0.5 s); a margin
EDITOR = "bench"


def corpus_words(corpus: Path) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """The corpus's words seen 3+ times (most frequent first), its ids, and ids per theme."""
    counts: Counter[str] = Counter()
    ids, themes = [], {}
    with open(corpus, encoding="utf-8") as lines:
        for line in lines:
            article = json.loads(line)
            ids.append(article["id"])
            for theme in article.get("themes") or ():
                themes.setdefault(theme, []).append(article["id"])
            counts.update(re.findall(r"[a-z]{4,}", (article.get("body") or "").lower()))
    return [w for w, n in counts.most_common() if n >= 3], ids, themes


def fill_desk(desk, words, ids, themes, queries, synonyms: int, rules: int, rng) -> None:
    """``synonyms`` sets and ``rules`` rules made of the corpus's words (see the docstring)."""
    chosen = rng.sample(words, min(len(words), synonyms * 2))
    for number in range(synonyms):
        word = chosen[number]
        other = chosen[-number - 1]
        if number % 5 == 0:
            desk.add_synonym({"from": [f"{word} {other}"], "to": [word]}, EDITOR)
        elif number % 5 == 1:
            desk.add_synonym({"words": [word, other]}, EDITOR)
        else:
            desk.add_synonym({"words": [word, word[:-1] + "x" + word[-1]]}, EDITOR)
    typed = [q for q in (dict(parse_qsl(line)).get("q", "") for line in queries) if q.strip()]
    theme_names = sorted(themes)
    for number in range(rules):
        pin, hide = rng.sample(ids, 2), [rng.choice(ids)]
        hide = [article for article in hide if article not in pin]
        rule = {"pin": pin, "hide": hide, "note": "bench"}
        if number < rules // 10 and typed:
            rule.update(query=typed[number % len(typed)], match="exact")
        else:
            rule.update(query=rng.choice(words[:5000]), match=rng.choice(["exact", "prefix"]))
            if number % 3 == 0:
                rule["match"] = "contains"
            if number % 10 == 0:
                rule["filters"] = {"theme": [rng.choice(theme_names)]}
        desk.add_rule(rule, EDITOR)


def timed(search, items, cpu: list | None = None) -> tuple[list[float], int]:
    """Each item searched once: latencies (ms), and how many fired a synonym or a rule;
    each one's CPU time (ms) appended to ``cpu`` if given (steadier on a shared machine)."""
    latencies, fired = [], 0
    for item in items:
        started, cpu_started = time.perf_counter(), time.thread_time()
        answer = search(item)
        latencies.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - cpu_started) * 1000)
        fired += bool(answer["synonyms_applied"] or answer["rules_applied"])
    return latencies, fired


def interleaved(search, items, passes: int) -> dict[bool, list[float]]:
    """CPU ms of each item searched with the desk (True) and without (False), one right
    after the other, the order swapped every pass (``passes`` even: the second of a pair
    finds the first's articles read, so each side is second as often)."""
    cpu: dict[bool, list[float]] = {True: [], False: []}
    for number in range(passes):
        for item in items:
            for desk in (False, True) if number % 2 == 0 else (True, False):
                started = time.thread_time()
                search(item, desk)
                cpu[desk].append((time.thread_time() - started) * 1000)
    return cpu


def summary(rounds: list[list[float]]) -> dict:
    p50 = statistics.median(float(np.percentile(r, 50)) for r in rounds)
    p95 = statistics.median(float(np.percentile(r, 95)) for r in rounds)
    return {
        "p50_ms": p50,
        "p95_ms": p95,
        "rounds_p50": [round(np.percentile(r, 50), 2) for r in rounds],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REUTERS, help="a JSON Lines corpus")
    parser.add_argument("--index", type=Path, help="an index of the corpus (else one is built)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each desk (default 5)")
    parser.add_argument("--synonyms", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from search.desk import Desk
    from search.synonyms import SynonymTable

    rng = random.Random(SEED)
    queries = read_query_log(QUERY_LOG)
    typing = [q for line in read_query_log(TYPING_LOG) for q, _ in mid_word_states(line)]
    typing += [q for line in read_query_log(TYPING_LOG) for q, _ in typo_variants(line)]
    typed = [urlencode({"q": q}) for q in typing]
    with tempfile.TemporaryDirectory(prefix="desk-bench-") as work:
        index_dir = index_corpus(args.corpus, args.index, Path(work))
        desk = Desk(index_dir)
        if desk.history():
            desk.restore(0, EDITOR)
        empty_number = desk.history(1)[0].number if desk.history() else 0
        words, ids, themes = corpus_words(args.corpus)
        started = time.perf_counter()
        fill_desk(desk, words, ids, themes, queries, args.synonyms, args.rules, rng)
        filled_seconds = time.perf_counter() - started
        full_number = desk.history(1)[0].number
        state = desk.state()
        from search.analysis import fast_analyzer
        from search.storage.index_folder import IndexFolder

        analyzer = fast_analyzer(IndexFolder(index_dir).open_served()[0].schema["body"].analyzer)
        started = time.process_time()
        SynonymTable(state.synonyms, analyzer)
        table_seconds = time.process_time() - started

        def switch(full: bool) -> None:
            desk.restore(full_number if full else empty_number, EDITOR)
            time.sleep(SWITCH_SECONDS)

        search = in_process_search(index_dir)
        server = Server.article_search(index_dir, args.workers)
        server.wait_healthy()
        try:

            def keystrokes() -> list[float]:
                """Every typing state once, on a new kept-alive connection (a worker closes
                one left idle for 5 s), after 20 unmeasured to make the desk ready."""
                http = HttpSearches(server.port)
                for q in typing[:20]:
                    http.top(q, "warm")
                for q in typing:
                    http.top(q, "keystroke")
                return http.latencies["keystroke"]

            kinds = ("search", "search_cpu", "keys", "keys_cpu")
            samples = {(kind, full): [] for kind in kinds for full in (False, True)}
            fired = {}
            timed(search, queries)  # a first pass fills the caches any desk uses
            keystrokes()
            for number in range(args.rounds):
                # Empty first, then full first: a drift of the machine's speed falls on both.
                for full in (False, True) if number % 2 == 0 else (True, False):
                    switch(full)
                    timed(search, queries[:20])  # the desk made ready (its table built)
                    cpu: list[float] = []
                    latencies, fired[full] = timed(search, queries, cpu)
                    samples["search", full].append(latencies)
                    samples["search_cpu", full].append(cpu)
                    samples["keys", full].append(keystrokes())
                    cpu = []
                    timed(search, typed, cpu)  # the same keystrokes in process, for CPU time
                    samples["keys_cpu", full].append(cpu)
            typing_fired = {
                full: (switch(full), timed(search, typed)[1])[1] for full in (False, True)
            }
            side_by_side = {
                "search": interleaved(search, queries, 2 * args.rounds),
                "keys": interleaved(search, typed, 2 * args.rounds),
            }
        finally:
            server.stop()
            desk.restore(empty_number, EDITOR)
    load = os.getloadavg()
    figures = {
        "desk": {"synonyms": args.synonyms, "rules": args.rules},
        "desk_filled_seconds": filled_seconds,
        "synonym_table_seconds": table_seconds,
        "load_average": load,
    }
    print(
        f"desk: {args.synonyms:,} synonym sets, {args.rules:,} rules (written in "
        f"{filled_seconds:.1f} s; a worker builds its synonym table in {table_seconds:.2f} s CPU)"
    )
    print(
        f"fired a synonym or a rule: {fired[True]} of {len(queries)} logged searches, "
        f"{typing_fired[True]} of {len(typing)} keystrokes (empty desk: {fired[False]}, "
        f"{typing_fired[False]})"
    )
    print(f"{f'median of {args.rounds} rounds':<40}{'empty':>10}{'full':>10}{'full/empty':>12}")
    labels = {
        "search": "search in process",
        "search_cpu": "search in process, CPU",
        "keys": "keystroke over HTTP",
        "keys_cpu": "keystroke in process, CPU",
    }
    for kind, label in labels.items():
        empty, full = summary(samples[kind, False]), summary(samples[kind, True])
        figures[kind] = {"empty": empty, "full": full}
        for key in ("p50_ms", "p95_ms"):
            ratio = full[key] / empty[key]
            print(f"{label + ' ' + key[:3]:<40}{empty[key]:>10.2f}{full[key]:>10.2f}{ratio:>12.3f}")
    print(f"interleaved in process, CPU ({2 * args.rounds} passes){'without':>13}{'with':>10}")
    for kind, label in (("search", "search"), ("keys", "keystroke")):
        without, with_desk = side_by_side[kind][False], side_by_side[kind][True]
        figures[f"{kind}_interleaved"] = {"without": without, "with": with_desk}
        for name, of in (("p50", np.median), ("p95", lambda v: np.percentile(v, 95))):
            low, high = float(of(without)), float(of(with_desk))
            print(f"{label + ' ' + name:<40}{low:>10.2f}{high:>10.2f}{high / low:>12.3f}")
        low, high = float(np.mean(without)), float(np.mean(with_desk))
        print(f"{label + ' mean':<40}{low:>10.2f}{high:>10.2f}{high / low:>12.3f}")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
