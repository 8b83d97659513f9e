"""Hostile users: script in articles and queries is shown as text everywhere, in the real
browser; every response carries the security headers; nothing writes, nothing reaches
outside the index, and no request can turn debugging on.

The browser checks run Chromium with the Content-Security-Policy *bypassed*, so an
escaping mistake would execute rather than be caught by the CSP, and once more with the
CSP enforced, to show the pages need nothing it forbids.
"""

from __future__ import annotations

import http.client
import json
import shutil
from urllib.parse import quote, urlencode, urlsplit
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import DEMO_ARTICLES, cli, serving

pytestmark = pytest.mark.server

MARK = "zyxhostile"  # a word only the hostile articles contain


def payload(where: str) -> str:
    """Markup that would run script if it ever reached the page unescaped."""
    return (
        f'<script>window.__xss="{where}"</script><img src=x onerror=window.__xss=1>'
        f"<svg/onload=window.__xss=2>'\"&amp;</textarea></title>{{{{7*7}}}}"
    )


HOSTILE_ID = "hostile/<b>one</b>\"'.json"
HOSTILE = {
    "id": HOSTILE_ID,
    "url": "javascript:window.__xss='url'",
    "title": f"Title {payload('title')} {MARK}",
    "authors": [f"Ann {payload('author')} Zyxauthor"],
    "source": f"Source {payload('source')}",
    "date": "2024-03-11",
    "regions": [f"Region {payload('region')} Zyxregion"],
    "themes": [f"Theme {payload('theme')} Zyxtheme"],
    "reports": [f"Report {payload('report')} Zyxreport"],
    "body": f"Body {payload('body')} {MARK} and a control character \x01 and \x0b too.",
    "author_bio": f"Bio {payload('bio')}",
    "image_caption": f"Caption {payload('caption')}",
}
TEXT_EXPORT = f"""\
Text {payload("text-title")} {MARK}

By [Bob {payload("text-author")}](#)

Evil {payload("text-source")} Wire, March 12, 2024

Region: [Zyxregion {payload("text-region")}](#)

Theme: [Zyxtheme {payload("text-theme")}](#)

{MARK} body {payload("text-body")} with the text export.
"""
INJECTED = "img[src='x'], svg[onload], script:not([src]), [onerror], [onload]"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hostile-server")
    articles = workdir / "articles"
    shutil.copytree(DEMO_ARTICLES, articles)
    (articles / "hostile.jsonl").write_text(json.dumps(HOSTILE) + "\n")
    (articles / f"hostile {MARK}.txt").write_text(TEXT_EXPORT)
    index_dir = workdir / "index"
    run = cli("index", str(articles), "--index", str(index_dir), "--procs", "1")
    assert run.returncode == 0, run.stderr
    with serving(index_dir, workdir) as server:
        yield server


def page_urls(server) -> dict[str, str]:
    region = HOSTILE["regions"][0]
    return {
        "search with snippets and facets": f"/search?q={MARK}",
        "facet selected, chip shown": "/search?" + urlencode({"q": MARK, "region": region}),
        "script in the query": "/search?" + urlencode({"q": payload("query")}),
        "script in a bad request's query": "/search?"
        + urlencode({"q": payload("query400"), "page": "0"}),
        "article page (JSON Lines)": "/articles/" + quote(HOSTILE_ID),
        "article page (text export)": "/articles/" + quote(f"hostile {MARK}.txt"),
        "browse, newest first": "/search?sort=newest",
    }


def check_page(page, url: str) -> str:
    response = page.goto(url, wait_until="networkidle")
    assert response is not None
    assert page.evaluate("window.__xss") is None, f"{url}: script ran"
    assert page.evaluate(f"document.querySelectorAll({INJECTED!r}).length") == 0, url
    return page.evaluate("document.body.innerText")


def test_script_in_articles_and_queries_is_text_in_the_browser(browser, hostile_server):
    context = browser.new_context(base_url=hostile_server.url, bypass_csp=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    urls = page_urls(hostile_server)
    shown = {name: check_page(page, url) for name, url in urls.items()}

    results = shown["search with snippets and facets"]
    for text in (HOSTILE["title"], HOSTILE["regions"][0], HOSTILE["themes"][0]):
        assert text in results  # title (marked), facet values: as written, as text
    assert payload("body") in results  # the snippet
    assert payload("text-title") in results
    assert "Region: " + HOSTILE["regions"][0] in shown["facet selected, chip shown"]
    assert payload("query") in shown["script in the query"]
    assert "page must be a whole number" in shown["script in a bad request's query"]
    page.goto(urls["script in a bad request's query"])
    assert page.locator("input[name=q]").input_value() == payload("query400")
    article = shown["article page (JSON Lines)"]
    for field in ("title", "source", "author_bio", "image_caption"):
        assert HOSTILE[field] in article, field
    for field in ("authors", "regions", "themes", "reports"):
        assert HOSTILE[field][0] in article, field
    assert payload("body") in article
    # A javascript: URL is not made a link.
    assert page.evaluate("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    text_article = shown["article page (text export)"]
    for where in ("text-title", "text-author", "text-source", "text-region", "text-body"):
        assert payload(where) in text_article, where

    # The tab title and the search box of a search for script.
    page.goto(urls["script in the query"])
    assert page.title() == f"“{payload('query')}” — Article Search"
    assert page.locator("#q").input_value() == payload("query")

    # Suggestions, built by app.js from /api/suggest while typing.
    page.goto("/search")
    for prefix, expected in (
        ("zyxr", HOSTILE["regions"][0]),
        ("zyxt", HOSTILE["themes"][0]),
        ("zyxa", HOSTILE["authors"][0]),
        ("zyxh", HOSTILE["title"]),
    ):
        page.locator("#q").fill("")
        page.locator("#q").press_sequentially(prefix, delay=30)
        option = page.locator("#q-suggestions [role=option]", has_text=expected)
        option.wait_for()
        assert option.first.locator("span").first.inner_text() == expected
    assert page.evaluate("window.__xss") is None
    assert page.evaluate(f"document.querySelectorAll({INJECTED!r}).length") == 0

    # Live results (fetched and swapped in by app.js) for a query full of script.
    page.locator("#q").fill(payload("live") + " " + MARK)
    page.locator("#search-form[data-state=idle]").wait_for()
    assert page.evaluate("window.__xss") is None
    assert page.evaluate(f"document.querySelectorAll({INJECTED!r}).length") == 0
    assert dialogs == []
    context.close()


def test_pages_need_nothing_the_content_security_policy_forbids(browser, hostile_server):
    context = browser.new_context(base_url=hostile_server.url)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for url in page_urls(hostile_server).values():
        page.goto(url, wait_until="networkidle")
    page.goto("/search")
    page.locator("#q").press_sequentially(MARK[:4], delay=30)
    page.locator("#q-suggestions [role=option]").first.wait_for()
    assert violations == []
    context.close()


def test_the_feed_carries_script_as_text_and_stays_well_formed(hostile_server):
    status, body = hostile_server.get("/search.atom", {"q": MARK})
    assert status == 200
    feed = ET.fromstring(body)  # well-formed despite \x01 and \x0b in the article
    atom = "{http://www.w3.org/2005/Atom}"
    entries = {e.findtext(f"{atom}title"): e for e in feed.iter(f"{atom}entry")}
    assert HOSTILE["title"] in entries
    entry = entries[HOSTILE["title"]]
    assert [a.findtext(f"{atom}name") for a in entry.iter(f"{atom}author")] == HOSTILE["authors"]
    terms = {c.get("term") for c in entry.iter(f"{atom}category")}
    assert {HOSTILE["regions"][0], HOSTILE["themes"][0]} <= terms
    # The summary is escaped HTML (type="html"): once unescaped it is still inert text.
    summary = entry.findtext(f"{atom}summary")
    assert "<script>" not in summary and "&lt;script&gt;" in summary
    assert payload("query") not in body.decode()
    status, body = hostile_server.get("/search.atom", {"q": payload("feed-query")})
    assert status == 200
    title = ET.fromstring(body).findtext(f"{atom}title")
    assert payload("feed-query") in title


# --- headers, writes, paths, debug: on the real server ---


def raw_get(server, path: str, method: str = "GET", headers: dict | None = None):
    """A request with the path sent exactly as given (no client normalisation)."""
    host = urlsplit(server.url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    connection.putrequest(method, path, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


SECURITY_HEADER_PATHS = [
    "/",
    f"/search?q={MARK}",
    "/search?page=0",
    "/api/search?q=x",
    "/api/search?page=0",
    "/api/suggest?q=zyx",
    "/api/articles/" + quote(HOSTILE_ID),
    "/api/articles/nope",
    "/articles/" + quote(HOSTILE_ID),
    "/articles/nope",
    "/search.atom",
    "/healthz",
    "/openapi.json",
    "/static/app.js",
    "/static/app.css",
    "/no/such/page",
]


@pytest.mark.parametrize("path", SECURITY_HEADER_PATHS)
def test_every_response_carries_the_security_headers(hostile_server, path):
    response, _ = raw_get(hostile_server, path)
    assert response.status in (200, 400, 404)
    csp = response.getheader("Content-Security-Policy")
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert "unsafe" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Referrer-Policy") == "strict-origin-when-cross-origin"
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("Content-Type").split(";")[0] in (
        "text/html",
        "application/json",
        "application/atom+xml",
        "text/javascript",
        "text/css",
    )


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/", "/search", "/api/search", "/api/articles/x", "/healthz"])
def test_no_route_writes(hostile_server, method, path):
    before = sorted(p.name for p in hostile_server.index_dir.rglob("*"))
    response, _ = raw_get(hostile_server, path, method, {"Content-Length": "0"})
    assert response.status == 405
    assert sorted(p.name for p in hostile_server.index_dir.rglob("*")) == before


TRAVERSALS = [
    "/articles/../../../../etc/passwd",
    "/articles/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/articles/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/articles/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/articles/..\\..\\..\\..\\etc\\passwd",
    "/articles//etc/passwd",
    "/articles/%2Fetc%2Fpasswd",
    "/articles/hostile/../../../../etc/passwd",
    "/articles/..%00/etc/passwd",
    "/articles/builds/..%2F..%2Findexer.lock",
    "/api/articles/../../../../etc/passwd",
    "/api/articles/..%2f..%2f..%2fetc%2fpasswd",
    "/api/articles/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/../../../../etc/passwd",
    "/static/..%2f..%2f..%2fpyproject.toml",
    "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/..%2f__init__.py",
    "/static/%2e%2e%2fapi.py",
    "/../../../../etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_cannot_reach_outside_the_index(hostile_server, path):
    response, body = raw_get(hostile_server, path)
    if response.status == 308:  # doubled slashes merged: a redirect to a path of the same route
        location = urlsplit(response.getheader("Location"))
        assert location.netloc == urlsplit(hostile_server.url).netloc
        assert location.path.startswith(path[: path.index("/", 1) + 1]), location
        response, body = raw_get(hostile_server, location.path)
    assert response.status in (400, 404), (path, response.status, body[:200])
    for secret in (b"root:", b"[project]", b"import ", b"indexer", b"def "):
        assert secret not in body, (path, secret)


@pytest.mark.parametrize(
    "path",
    [
        "/?__debugger__=yes&cmd=resource&f=debugger.js",
        "/search?__debugger__=yes&cmd=printpin&s=x",
        "/console",
        "/?debug=1",
        "/search?debug=true&q=x",
    ],
)
def test_no_request_turns_debugging_on(hostile_server, path):
    response, body = raw_get(hostile_server, path, headers={"X-Debug": "1", "Debug": "1"})
    assert response.status in (200, 404)
    text = body.decode("utf-8", "replace")
    assert "Werkzeug" not in text and "debugger" not in text.lower() and "Traceback" not in text


def test_an_unexpected_error_shows_no_traceback_even_with_flask_debug_set(monkeypatch, demo_index):
    from web import create_app

    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("FLASK_ENV", "development")
    app = create_app({"INDEX_DIR": demo_index})

    def broken():
        raise RuntimeError("secret detail /etc/passwd")

    app.add_url_rule("/broken", view_func=broken)
    app.add_url_rule("/api/broken", view_func=broken, endpoint="api_broken")
    client = app.test_client()
    for path in ("/broken", "/api/broken", "/broken?__debugger__=yes&cmd=resource&f=x"):
        response = client.get(path, headers={"X-Debug": "1"})
        text = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "secret detail" not in text and "Traceback" not in text
        assert "Werkzeug Debugger" not in text
    assert not app.debug


def test_the_servers_own_error_pages_echo_no_markup(hostile_server):
    """gunicorn answers a malformed request itself (no Flask, no headers of ours)."""
    import socket

    host = urlsplit(hostile_server.url)
    for request in (
        b"GET /<script>window.__xss=1</script> HTTP/1.1 junk\r\nHost: x\r\n\r\n",
        b"<script>window.__xss=1</script>\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad<script>: y\r\n\r\n",
    ):
        with socket.create_connection((host.hostname, host.port), timeout=10) as connection:
            connection.sendall(request)
            reply = b""
            while chunk := connection.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
        assert b"<script>" not in reply
