"""The JSON API against a real index of the demo articles: results, facets, errors, OpenAPI."""

import datetime as dt
import re
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.query import MAX_CLAUSES
from search.results import MAX_PAGE, MAX_PER_PAGE
from web import create_app

DEMO = Path(__file__).resolve().parents[1] / "demo" / "articles"


class Api:
    """GET a JSON route and check it answered as documented."""

    def __init__(self, client):
        self.client = client

    def get(self, path, status=200, **params):
        response = self.client.get(path, query_string=params)
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        return response.get_json()

    def search(self, status=200, **params):
        return self.get("/api/search", status, **params)


@pytest.fixture()
def api(client):
    return Api(client)


def matches(article, regions=(), themes=()):
    return (not regions or set(article.regions) & set(regions)) and (
        not themes or set(article.themes) & set(themes)
    )


def expected_counts(articles, facet, regions=(), themes=()):
    """Disjunctive counts: every selection applied except the facet's own.

    A selected value is listed even when nothing has it.
    """
    counts = dict.fromkeys(regions if facet == "region" else themes, 0)
    for article in articles:
        if facet == "region" and matches(article, themes=themes):
            values = article.regions
        elif facet == "theme" and matches(article, regions=regions):
            values = article.themes
        else:
            continue
        for value in values:
            counts[value] = counts.get(value, 0) + 1
    return counts


def counts_of(data, facet):
    return {v["value"]: v["count"] for v in data["facets"][facet]}


# --- search ---


def test_search_returns_the_documented_shape(api):
    data = api.search(q="heat pump")
    assert set(data) >= {
        "query",
        "total",
        "page",
        "per_page",
        "results",
        "facets",
        "suggestion",
        "took_ms",
    }
    assert data["query"] == "heat pump" and data["page"] == 1 and data["per_page"] == 10
    assert data["total"] >= len(data["results"]) > 0
    first = data["results"][0]
    assert set(first) == {
        "id",
        "title",
        "url",
        "date",
        "authors",
        "regions",
        "themes",
        "reports",
        "source",
        "snippet",
        "score",
        "pinned",
    }
    assert "heat" in first["title"].lower() or "heat" in first["snippet"].lower()
    assert isinstance(first["score"], float)


def test_snippets_are_escaped_html_with_marks(api):
    data = api.search(q="Smith")
    snippet = data["results"][0]["snippet"]
    assert "<mark>Smith</mark> &amp; Sons" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


def test_browse_counts_match_the_articles(api, demo_articles):
    data = api.search(per_page=MAX_PER_PAGE)
    assert data["total"] == len(demo_articles)
    articles = demo_articles.values()
    assert counts_of(data, "region") == expected_counts(articles, "region")
    assert counts_of(data, "theme") == expected_counts(articles, "theme")


@pytest.mark.parametrize(
    ("regions", "themes"),
    [
        (["Europe"], []),
        ([], ["Energy"]),
        (["Europe", "Asia"], ["Energy"]),
        (["Latin America & Caribbean"], ["Economy", "Trade"]),
    ],
)
def test_facet_counts_are_disjunctive(api, demo_articles, regions, themes):
    data = api.search(region=regions, theme=themes, per_page=MAX_PER_PAGE)
    articles = list(demo_articles.values())
    wanted = [a for a in articles if matches(a, regions, themes)]
    assert data["total"] == len(wanted)
    assert {r["id"] for r in data["results"]} == {a.id for a in wanted}
    assert counts_of(data, "region") == expected_counts(articles, "region", regions, themes)
    assert counts_of(data, "theme") == expected_counts(articles, "theme", regions, themes)
    for facet, selected in (("region", regions), ("theme", themes)):
        ticked = {v["value"] for v in data["facets"][facet] if v["selected"]}
        assert ticked == set(selected)


def test_a_facet_count_is_what_ticking_it_gives(api):
    data = api.search(q="climate", theme="Energy")
    for value in data["facets"]["region"][:4]:
        narrowed = api.search(q="climate", theme="Energy", region=value["value"])
        assert narrowed["total"] == value["count"]


@pytest.mark.parametrize("q", ["climat", "heat pump", ""])
def test_counts_0_leaves_out_the_counts_and_nothing_else(api, q):
    """What the search page asks while the reader types: the same total and results,
    selections applied, without facet counts and the timeline."""
    counted = api.search(q=q, theme="Energy", per_page=MAX_PER_PAGE)
    typing = api.search(q=q, theme="Energy", per_page=MAX_PER_PAGE, counts="0")
    assert counted["counted"] is True and typing["counted"] is False
    assert counted["facets"]["region"] and counted["timeline"]
    assert typing["facets"] == {} and typing["facets_unlisted"] == {}
    assert typing["timeline"] == [] and typing["facets_timed_out"] == []
    assert typing["total"] == counted["total"] > 0
    assert typing["results"] == counted["results"]
    assert typing["completions"] == counted["completions"]


def test_pagination_is_consistent(api, demo_articles):
    first = api.search(per_page=7)
    second = api.search(per_page=7, page=2)
    assert first["total"] == second["total"] == len(demo_articles)
    ids_1 = [r["id"] for r in first["results"]]
    ids_2 = [r["id"] for r in second["results"]]
    assert len(ids_1) == len(ids_2) == 7 and not set(ids_1) & set(ids_2)
    seen = []
    for page in range(1, -(-len(demo_articles) // 7) + 1):
        seen += [r["id"] for r in api.search(per_page=7, page=page)["results"]]
    assert sorted(seen) == sorted(demo_articles)
    assert api.search(per_page=7, page=99)["results"] == []


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sorting_by_date(api, sort):
    dates = [r["date"] for r in api.search(q="climate", sort=sort, per_page=50)["results"]]
    assert len(dates) > 3
    assert dates == sorted(dates, reverse=sort == "newest")


def test_an_empty_query_browses_newest_first(api, demo_articles):
    dates = [r["date"] for r in api.search(per_page=MAX_PER_PAGE)["results"]]
    assert dates == sorted((a.date.isoformat() for a in demo_articles.values()), reverse=True)


def test_date_filters(api, demo_articles):
    data = api.search(**{"from": "2021-01-01", "to": "2022-06-30"}, per_page=MAX_PER_PAGE)
    wanted = {
        a.id
        for a in demo_articles.values()
        if dt.date(2021, 1, 1) <= a.date <= dt.date(2022, 6, 30)
    }
    assert {r["id"] for r in data["results"]} == wanted
    assert sum(b["count"] for b in data["timeline"]) == data["total"]


def test_a_misspelling_gets_a_suggestion(api):
    data = api.search(q="climte", typos="0")
    assert data["total"] == 0 and data["suggestion"] == "climate"
    assert data["corrections"] == [] and data["showing_results_for"] is None


def test_a_misspelling_is_searched_as_corrected(api):
    data = api.search(q="climte")
    assert data["total"] == api.search(q="climate ")["total"] > 0
    assert data["corrections"] == [{"word": "climte", "read_as": ["climate"]}]
    assert data["showing_results_for"] == "climate"
    assert data["suggestion"] is None


def test_the_word_being_typed_is_completed_unless_whole_words_are_asked(api):
    data = api.search(q="ukr")
    assert data["total"] > 0 and data["completions"] == [{"word": "ukr", "read_as": ["ukraine"]}]
    assert "<mark>Ukraine</mark>" in " ".join(hit["snippet"] for hit in data["results"])
    assert api.search(q="ukr", prefix="0", semantic="0")["total"] == 0
    assert api.search(q="ukr ", semantic="0")["total"] == 0  # a space after it: a finished word


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page": 0}, "page"),
        ({"page": MAX_PAGE + 1}, "page"),
        ({"page": "abc"}, "page"),
        ({"per_page": 10000}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"from": "notadate"}, "from"),
        ({"to": "2024-13-01"}, "to"),
        ({"from": "2024-06-01", "to": "2024-01-01"}, "from"),
        ({"sort": "bogus"}, "sort"),
    ],
)
def test_bad_parameters_are_400_with_a_clear_message(api, params, parameter):
    data = api.search(status=400, **params)
    assert data["error"]["parameter"] == parameter
    assert parameter in data["error"]["message"]


@pytest.mark.parametrize(
    "q", ["\x00", '"', "-", "OR", "title:", "((", "a" * 5000, "<script>", "region:"]
)
def test_odd_queries_never_fail(api, q):
    api.search(q=q)


def test_a_pasted_page_is_searched_not_refused(api, client):
    pasted = "Heat pump sales stalled after the subsidy cut, installers said. " * 60
    data = api.search(q=pasted)
    assert data["truncated"] and data["total"] > 0
    assert data["query"].strip() == pasted.strip()
    assert 0 < data["searched_characters"] < len(pasted)
    assert api.search(q="heat pump")["truncated"] is False
    page = client.get("/search", query_string={"q": pasted}).get_data(as_text=True)
    assert "only its first part was searched" in page


# --- suggest, articles, health ---


def test_suggest(api):
    data = api.get("/api/suggest", q="cli")
    assert data["query"] == "cli"
    texts = [s["text"] for s in data["suggestions"]]
    assert "Climate and Environment" in texts and "climate" in texts
    assert {s["kind"] for s in data["suggestions"]} <= {
        "title",
        "author",
        "region",
        "theme",
        "term",
    }
    assert len(api.get("/api/suggest", q="cli", limit=2)["suggestions"]) <= 2
    assert api.get("/api/suggest")["suggestions"] == []
    assert api.get("/api/suggest", 400, limit=0)["error"]["parameter"] == "limit"


def test_a_suggestion_says_what_choosing_it_puts_in_the_box(api):
    """The page's script puts ``query`` in the box and shows ``label``: no rule of its own."""
    found = api.get("/api/suggest", q="heat cli")["suggestions"]
    by_kind = {s["kind"]: s for s in found}
    theme, term = by_kind["theme"], by_kind["term"]
    assert theme["label"] == "Theme" and term["label"] == ""
    assert theme["query"] == f'heat theme:"{theme["text"]}"'  # after the words before it
    assert term["query"] == term["text"] and term["text"].startswith("heat cli")
    titles = api.get("/api/suggest", q="hea")["suggestions"]
    title = next(s for s in titles if s["kind"] == "title")
    assert title["label"] == "Article"
    assert title["query"] == '"{}"'.format(title["text"].replace('"', " "))


def test_article_json(api, demo_articles):
    article = demo_articles["2019-01-22-rhine-low-water-barges.txt"]
    data = api.get(f"/api/articles/{article.id}")
    assert data["title"] == article.title and data["body"] == article.body
    assert data["regions"] == list(article.regions) and data["date"] == "2019-01-22"
    assert data["page_url"] == f"/articles/{article.id}"
    assert data["related"] and all(r["id"] != article.id for r in data["related"])


def test_unknown_article_is_a_json_404(api):
    assert api.get("/api/articles/no/such.txt", 404)["error"]["message"]
    assert api.get("/api/articles/../etc/passwd", 404)["error"]["message"]
    assert api.get("/api/nothing-here", 404)["error"]["message"]


def test_healthz(api, demo_articles):
    data = api.get("/healthz")
    assert data["status"] == "ok" and data["documents"] == len(demo_articles)
    assert data["generation"]


def test_a_missing_index_is_a_json_503(tmp_path):
    client = create_app({"INDEX_DIR": tmp_path / "none", "TESTING": True}).test_client()
    for path in ("/healthz", "/api/search?q=x", "/api/suggest?q=x", "/api/articles/a.txt"):
        response = client.get(path)
        assert response.status_code == 503 and response.get_json()["error"]["message"]
        assert response.headers["Retry-After"]


def test_a_newer_index_generation_is_served_without_a_restart(tmp_path):
    from index.indexer import index_paths

    articles = tmp_path / "articles"
    articles.mkdir()
    source = sorted(DEMO.glob("*.txt"))
    for path in source[:3]:
        shutil.copy(path, articles / path.name)
    index_dir = tmp_path / "index"
    index_paths(index_dir, [articles], procs=1)
    client = create_app({"INDEX_DIR": index_dir, "TESTING": True}).test_client()
    before = client.get("/healthz").get_json()
    assert before["documents"] == 3
    shutil.copy(source[3], articles / source[3].name)
    index_paths(index_dir, [articles], procs=1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        after = client.get("/healthz").get_json()
        if after["documents"] == 4:
            break
        time.sleep(0.1)
    assert after["documents"] == 4 and after["generation"] != before["generation"]


def test_article_ids_with_slashes(tmp_path):
    from index.indexer import index_paths

    folder = tmp_path / "articles" / "00"
    folder.mkdir(parents=True)
    source = sorted(DEMO.glob("*.txt"))[0]
    shutil.copy(source, folder / "reuters-1.txt")
    index_paths(tmp_path / "index", [tmp_path / "articles"], procs=1)
    client = create_app({"INDEX_DIR": tmp_path / "index", "TESTING": True}).test_client()
    hit = client.get("/api/search").get_json()["results"][0]
    assert hit["id"] == "00/reuters-1.txt"
    assert client.get("/api/articles/00/reuters-1.txt").get_json()["id"] == hit["id"]
    page = client.get("/articles/00/reuters-1.txt")
    assert page.status_code == 200
    assert 'href="/articles/00/reuters-1.txt"' in client.get("/search").get_data(as_text=True)


# --- security headers ---


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/search?q=heat",
        "/api/search",
        "/api/search?page=0",
        "/healthz",
        "/nope",
        "/search.atom",
    ],
)
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]


def test_debug_is_off_whatever_the_environment_says(monkeypatch, demo_index):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app({"INDEX_DIR": demo_index})
    assert not app.debug and not app.config["DEBUG"]
    assert create_app({"INDEX_DIR": demo_index, "DEBUG": True}).debug


def test_the_index_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ARTICLE_SEARCH_INDEX", str(tmp_path))
    assert create_app().config["INDEX_DIR"] == str(tmp_path)


# --- OpenAPI ---


def _follow(document, node):
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def validate(document, schema, value, where="$"):
    """A small OpenAPI 3.0 schema check: type, nullable, required, properties, items, enum."""
    schema = _follow(document, schema)
    if value is None:
        assert schema.get("nullable"), f"{where} is null"
        return
    if "oneOf" in schema:
        assert any(_valid(document, s, value) for s in schema["oneOf"]), where
        return
    kind = schema.get("type")
    if kind:
        assert isinstance(value, TYPES[kind]), f"{where}: {value!r} is not {kind}"
        assert not (kind in ("integer", "number") and isinstance(value, bool)), where
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "minimum" in schema:
        assert value >= schema["minimum"], where
    if "maximum" in schema:
        assert value <= schema["maximum"], where
    for name in schema.get("required", ()):
        assert name in value, f"{where}.{name} is missing"
    if kind == "object" and "properties" in schema:
        undocumented = set(value) - set(schema["properties"])
        assert not undocumented, f"{where} has members the document does not describe"
    for name, sub in schema.get("properties", {}).items():
        if isinstance(value, dict) and name in value:
            validate(document, sub, value[name], f"{where}.{name}")
    if kind == "array":
        for i, item in enumerate(value):
            validate(document, schema["items"], item, f"{where}[{i}]")


def _valid(document, schema, value):
    try:
        validate(document, schema, value)
    except AssertionError:
        return False
    return True


@pytest.fixture()
def openapi(api):
    return api.get("/openapi.json")


def test_openapi_documents_every_json_route(app, openapi):
    assert openapi["openapi"].startswith("3.0")
    # Path variables compared by place, not name: <path:article_id> is {id}.
    documented = {re.sub(r"\{\w+\}", "{id}", path): path for path in openapi["paths"]}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?\w+>", "{id}", rule.rule)
        if rule.rule.startswith(("/api/", "/healthz", "/openapi.json")):
            assert path in documented, f"{rule.rule} is not in /openapi.json"
            methods = {method.lower() for method in rule.methods - {"HEAD", "OPTIONS"}}
            assert methods <= set(openapi["paths"][documented[path]]), rule.rule
    public = {path for path in openapi["paths"] if not path.startswith("/api/admin")}
    assert public == {
        "/api/search",
        "/api/suggest",
        "/api/articles/{id}",
        "/api/events",
        "/healthz",
        "/openapi.json",
    }


def test_openapi_gives_every_admin_route_its_security_schemes(openapi):
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["cookieAuth"]["in"] == "cookie"
    admin = {path: ops for path, ops in openapi["paths"].items() if path.startswith("/api/admin")}
    assert "/api/admin/me" in admin
    for path, operations in admin.items():
        for method, operation in operations.items():
            assert operation["security"] == [{"bearerAuth": []}, {"cookieAuth": []}], (path, method)
            assert "401" in operation["responses"], (path, method)
    for path, operations in openapi["paths"].items():
        if not path.startswith("/api/admin"):
            assert all("security" not in op for op in operations.values()), path


def _references(node):
    """Every ``$ref`` in an OpenAPI document (or a part of it)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def test_openapi_references_resolve(openapi):
    references = set(_references(openapi))
    assert references  # the shapes are shared through components, so there are some
    for reference in references:
        assert reference.startswith("#/components/"), reference
        target = openapi
        for part in reference.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, f"{reference} resolves to nothing"
            target = target[part]
        assert isinstance(target, dict) and target, f"{reference} is not a definition: {target!r}"


def test_openapi_states_the_parameter_limits(openapi):
    parameters = {
        p["name"]: p["schema"]
        for p in (_follow(openapi, p) for p in openapi["paths"]["/api/search"]["get"]["parameters"])
    }
    assert set(parameters) == {
        *("q", "region", "theme", "from", "to", "sort", "page", "per_page", "prefix", "typos"),
        "synonyms",
        "semantic",
        "counts",
    }
    assert parameters["page"]["minimum"] == 1 and parameters["page"]["maximum"] == MAX_PAGE
    assert parameters["per_page"]["maximum"] == MAX_PER_PAGE
    assert parameters["sort"]["enum"] == ["relevance", "newest", "oldest"]
    assert (
        "maxLength" not in parameters["q"]
        and str(MAX_CLAUSES) in openapi["components"]["parameters"]["q"]["description"]
    )
    assert {"type": "string", "format": "date"} in parameters["from"]["oneOf"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/search?q=heat+pump&region=Europe", "200"),
        ("/api/search?sort=newest&per_page=3", "200"),
        ("/api/search?page=0", "400"),
        ("/api/suggest?q=cli", "200"),
        ("/api/articles/2019-01-22-rhine-low-water-barges.txt", "200"),
        ("/api/articles/nope", "404"),
        ("/healthz", "200"),
    ],
)
def test_responses_match_the_openapi_schemas(client, openapi, path, status):
    response = client.get(path)
    assert str(response.status_code) == status
    template = re.sub(r"^/api/articles/.*", "/api/articles/{id}", path.split("?")[0])
    documented = openapi["paths"][template]["get"]["responses"][status]
    schema = documented["content"]["application/json"]["schema"]
    validate(openapi, schema, response.get_json())


PARAMETER_NAMES = ["q", "region", "theme", "from", "to", "sort", "page", "per_page", "limit"]


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.lists(st.tuples(st.sampled_from(PARAMETER_NAMES), st.text(max_size=20)), max_size=5),
    path=st.sampled_from(["/api/search", "/api/suggest", "/search", "/search.atom"]),
)
def test_any_parameter_values_give_an_answer_or_a_400_never_a_500(client, params, path):
    response = client.get(path, query_string=params)
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:500]
    if path.startswith("/api/") and response.status_code == 400:
        assert response.get_json()["error"]["parameter"] in PARAMETER_NAMES
