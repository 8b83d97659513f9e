"""Ranking must not get worse: judged searches over the demo archive, and the Cranfield bench.

Each judged search is typed as a reader would type it; its judgements were made
by reading the demo articles, not by looking at results. ``first`` are the
articles that must fill the top positions (in any order); ``related`` are
worth finding but may come after them. nDCG@10 over the whole set (gain 2 for
``first``, 1 for ``related``) must stay at or above ``NDCG_FLOOR``, the value
measured when the set was written: raise it when ranking improves.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

from search.engine import SearchEngine
from search.results import SearchRequest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "relevance.py"
NDCG_FLOOR = 0.9867  # measured 0.98678 with the framed requests added (issue 12)


@dataclass(frozen=True)
class Judged:
    q: str
    first: tuple[str, ...]
    related: tuple[str, ...] = ()

    def gains(self) -> dict[str, int]:
        return {**{a: 1 for a in self.related}, **{a: 2 for a in self.first}}


HEAT_PUMPS = (
    "2019-10-15-rural-households-heat-pump-grants.txt",
    "2022-04-12-installers-heat-pump-boom.txt",
    "2024-09-03-heat-pump-sales-stall-subsidy-cut.txt",
)
HEAT_WAVES = (
    "2021-07-06-record-heat-wave-northwest-hospitals.txt",
    "2023-07-18-heat-wave-halts-outdoor-work.txt",
)
COCOA_FARMERS = "2019-04-09-cocoa-farmers-floor-price.txt"
COCOA_PRICES = "2024-03-11-chocolate-makers-cocoa-prices-record.txt"
PESO = "2019-08-27-central-bank-raises-rates-peso.txt"
CENTRAL_BANKS = "2023-03-21-central-banks-hold-their-nerve.txt"
MALARIA = "2020-02-11-malaria-vaccine-trial-enrolment.txt"
DENGUE = "2023-10-24-dengue-vaccine-trial-results.txt"
RUNOFFS = (
    "2019-11-30-andean-runoff-surprise.txt",
    "2022-10-04-runoff-campaign-amazon-policing.txt",
)
WILDFIRE_SMOKE = "2023-09-12-wildfire-smoke-season-permanent.txt"
BUSHFIRE = "2020-07-21-bushfire-inquiry-warnings-unheeded.txt"
HERRING = "2019-06-18-baltic-herring-quota-cut.txt"
FISHERIES = "2022-02-15-fisheries-deal-lapses-fleets-limbo.txt"
HYDROPOWER = "2022-08-09-hydropower-shortfall-factory-shutdowns.txt"
FAILED_RAINS = "2022-06-28-failed-rains-empty-grain-stores.txt"
YOUTH_TURNOUT = "2024-05-14-youth-turnout-surge-parliament.txt"
COUNT = "2024-10-22-long-count-swing-county-clerks.txt"
DATA_CENTRES = "2025-05-06-data-centres-power-demand-grid.txt"
WINTER_GRID = "2021-11-23-winter-price-spike-power-grid.txt"
CASPIAN_PORT = "2020-12-08-how-sanctions-reshaped-caspian-port.txt"
DREDGING = "2024-01-09-harbour-board-dredging-sanction.txt"
DATA_BROKER = "2020-10-19-court-data-broker-smith-sons.txt"

JUDGED = (
    Judged("heat pump", HEAT_PUMPS),
    Judged("heat wave", HEAT_WAVES, (HYDROPOWER,)),
    Judged("heat pump subsidy cut", (HEAT_PUMPS[2],), HEAT_PUMPS[:2]),
    Judged("cocoa prices", (COCOA_PRICES, COCOA_FARMERS)),
    Judged("vaccine trial results", (DENGUE,), (MALARIA,)),
    Judged("central bank interest rates", (PESO, CENTRAL_BANKS)),
    Judged("presidential runoff", RUNOFFS),
    Judged("wildfire smoke", (WILDFIRE_SMOKE,), (BUSHFIRE, HEAT_WAVES[0])),
    Judged("Why are cocoa farmers worried about prices?", (COCOA_FARMERS,), (COCOA_PRICES,)),
    Judged("night trains", ("2021-09-14-severin-night-trains-regional-rail.txt",)),
    Judged("fishing quotas in the Baltic", (HERRING,), (FISHERIES,)),
    Judged(
        "What are island nations asking for on shipping emissions?",
        ("2025-01-28-island-nations-shipping-emissions-levy.txt",),
    ),
    Judged("data centres power grid", (DATA_CENTRES,), (WINTER_GRID,)),
    Judged(
        "Who decides on lithium contracts on the salt flats?",
        ("2021-01-26-salt-flat-communities-lithium.txt",),
    ),
    Judged(
        "dockworkers strike over automation",
        ("2020-05-06-dockworkers-walk-out-automated-cranes.txt",),
    ),
    Judged("drought and failed harvests in Africa", (FAILED_RAINS,), (COCOA_PRICES,)),
    Judged("election turnout", (YOUTH_TURNOUT,), (RUNOFFS[0], COUNT)),
    Judged("heat-pump sales: did the subsidy cut stall them?", (HEAT_PUMPS[2],), HEAT_PUMPS[:2]),
    Judged("CENTRAL BANK RATES OR THE PESO", (PESO,), (CENTRAL_BANKS,)),
    Judged("electricity prices", (WINTER_GRID,), (HEAT_PUMPS[2], DATA_CENTRES)),
    Judged("inflation", (CENTRAL_BANKS,), (PESO,)),
    Judged("sanctions", (CASPIAN_PORT,), (DREDGING,)),
    Judged("Smith & Sons", (DATA_BROKER,)),
    Judged("court ruling on data privacy", (DATA_BROKER,)),
    Judged("How did the heat wave affect outdoor workers?", (HEAT_WAVES[1],), (HEAT_WAVES[0],)),
    Judged("heat pump grants", (HEAT_PUMPS[0],), HEAT_PUMPS[1:]),
    Judged("leaf rust", ("2021-03-04-coffee-leaf-rust-returns.txt",)),
    # Requests framed in words: the framing ("interested", "articles", "stories",
    # "find") must not outrank the subject.
    Judged("I am interested in articles about cocoa prices", (COCOA_PRICES, COCOA_FARMERS)),
    Judged("Please find stories on fishing quotas in the Baltic", (HERRING,), (FISHERIES,)),
    Judged(
        "I would like to read news about vaccine trials against malaria or dengue",
        (MALARIA, DENGUE),
    ),
    Judged("Tell me about heat pump grants for rural households", (HEAT_PUMPS[0],), HEAT_PUMPS[1:]),
)


def ndcg_at_10(ranking: list[str], gains: dict[str, int]) -> float:
    dcg = sum(gains.get(a, 0) / math.log2(i + 2) for i, a in enumerate(ranking[:10]))
    ideal = sorted(gains.values(), reverse=True)[:10]
    return dcg / sum(g / math.log2(i + 2) for i, g in enumerate(ideal))


def ranking(engine: SearchEngine, q: str) -> list[str]:
    return [hit.id for hit in engine.search(SearchRequest(q=q, per_page=10)).hits]


@pytest.mark.parametrize("judged", JUDGED, ids=[j.q for j in JUDGED])
def test_the_must_come_first_articles_come_first(engine, demo_articles, judged):
    assert set(judged.gains()) <= set(demo_articles)  # the judged articles still exist
    top = ranking(engine, judged.q)[: len(judged.first)]
    assert set(top) == set(judged.first)


def test_judged_ndcg_does_not_fall(engine):
    scores = [ndcg_at_10(ranking(engine, j.q), j.gains()) for j in JUDGED]
    assert sum(scores) / len(scores) >= NDCG_FLOOR - 1e-9


@pytest.mark.slow
def test_the_web_page_shows_the_measured_ranking(client, engine):
    for judged in JUDGED:
        measured = ranking(engine, judged.q)
        api = client.get("/api/search", query_string={"q": judged.q, "per_page": 10})
        assert [hit["id"] for hit in api.get_json()["results"]] == measured
        page = client.get("/search", query_string={"q": judged.q}).get_data(as_text=True)
        links = re.findall(r'<h3 class="hit-title"><a href="/articles/([^"]+)"', page)
        assert [unquote(link) for link in links] == measured


# --- the relevance benchmark, end to end on a small part of two collections ---


@pytest.fixture(scope="module")
def relevance_bench():
    spec = importlib.util.spec_from_file_location("relevance_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCH.parent))  # as ``python bench/relevance.py`` runs
        spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_relevance_bench_runs_end_to_end(shared_dir, relevance_bench, tmp_path, capsys):
    corpora = shared_dir / "corpora"
    if not (corpora / "cranfield" / "cran.all.1400").is_file():
        pytest.skip("no Cranfield collection in the shared folder")
    if not (corpora / "cacm" / "cacm.all").is_file():
        pytest.skip("no CACM collection in the shared folder")
    saved = tmp_path / "scores.json"
    arguments = ["--collections", "cranfield,cacm", "--docs", "300", "--queries", "20"]
    status = relevance_bench.main([*arguments, "--save", str(saved)])
    out = capsys.readouterr().out
    assert status == 0, out  # no query errors
    rows = [line.split() for line in out.splitlines()]
    ours = [row for row in rows if row[:1] == ["article-search"]]
    fts5 = [row for row in rows if row[:2] == ["FTS5", "bm25"]]
    assert len(ours) == len(fts5) == 2  # one row each per collection
    assert all(row[4] == "0" for row in ours)  # errors
    assert all(0 < float(row[1]) <= 1 for row in ours) and all(0 < float(r[2]) <= 1 for r in fts5)
    assert any(row[:1] == ["mean"] for row in rows)
    assert "paired randomisation p =" in out
    # The same run against its saved scores: no change, and the test says so (p = 1).
    assert relevance_bench.main([*arguments, "--against", str(saved)]) == 0
    assert out.count("Cranfield") and "p = 1.000" in capsys.readouterr().out
