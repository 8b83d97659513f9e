"""The HTML pages and Atom feeds against a real index of the demo articles."""

import re
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

import pytest
from bs4 import BeautifulSoup

from web import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
RHINE = "2019-01-22-rhine-low-water-barges.txt"


class Page:
    """A parsed HTML page (BeautifulSoup): elements' attributes, and text by element id."""

    def __init__(self, html):
        self.html = html
        self.soup = BeautifulSoup(html, "html.parser")

    def find(self, tag=None, **attrs):
        """The attributes of every ``tag`` whose attributes include ``attrs``.

        ``class_`` is ``class``, ``aria_live`` is ``aria-live``; a class is compared whole.
        """
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        found = []
        for element in self.soup.find_all(tag or True):
            attributes = {
                name: " ".join(value) if isinstance(value, list) else value
                for name, value in element.attrs.items()
            }
            if all(attributes.get(key) == value for key, value in wanted.items()):
                found.append(attributes)
        return found

    def text(self, element_id):
        return " ".join(self.soup.find(id=element_id).get_text().split())


class Site:
    """GET pages and parse them."""

    def __init__(self, client):
        self.client = client

    def get(self, path, status=200, **params):
        response = self.client.get(path, query_string=params or None)
        assert response.status_code == status, response.get_data(as_text=True)[:2000]
        return response

    def page(self, path="/search", status=200, **params):
        response = self.get(path, status, **params)
        assert response.mimetype == "text/html"
        return Page(response.get_data(as_text=True))


@pytest.fixture()
def site(client):
    return Site(client)


def query_of(href):
    return parse_qs(urlsplit(href).query)


# --- the search page ---


def test_search_page_has_the_stable_hooks(site):
    page = site.page(q="heat")
    assert page.find("form", id="search-form", action="/search", method="get")
    assert page.find("input", id="q", name="q", value="heat")
    assert page.find(id="results") and page.find(id="timeline")
    (total,) = page.find(id="total")
    assert page.text("total") == f"{int(total['data-total'])} articles"
    assert page.find(id="total-status", aria_live="polite")
    assert page.find("a", class_="skip-link")


def test_results_for_a_query(site):
    page = site.page(q="Rhine barges")
    titles = [a["href"] for a in page.find("a") if a.get("href", "").startswith("/articles/")]
    assert titles[0] == f"/articles/{RHINE}"
    assert "<mark>Rhine</mark>" in page.html
    assert "Radosław Nowak" in page.html and "22 January 2019" in page.html


def test_snippets_keep_their_marks_and_escaping(site):
    html = site.page(q="Smith").html
    assert "<mark>Smith</mark> &amp; Sons" in html
    assert "&lt;mark&gt;" not in html


def test_user_input_is_escaped(site):
    html = site.page(q='<script>alert("x")</script>').html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_no_inline_script_or_style(site):
    for html in (site.page(q="heat", region="Europe").html, site.page(f"/articles/{RHINE}").html):
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert "<style" not in html
        assert not re.search(r"\sstyle=", html)
        assert not re.search(r"\son[a-z]+=", html)


def test_facets_are_checkboxes_with_counts_and_toggle_urls(site, demo_articles):
    page = site.page(region="Europe")
    (europe,) = page.find("input", type="checkbox", name="region", value="Europe")
    assert "checked" in europe
    assert "q" not in query_of(europe["data-toggle-url"])
    assert "region" not in query_of(europe["data-toggle-url"])
    (asia,) = page.find("input", name="region", value="Asia")
    assert "checked" not in asia
    assert query_of(asia["data-toggle-url"])["region"] == ["Europe", "Asia"]
    labels = re.findall(
        r'for="(facet-theme-\d+)"><span class="facet-name">([^<]+)</span> '
        r'<span class="count"><span class="visually-hidden">\(</span>(\d+)',
        page.html,
    )
    europe_articles = [a for a in demo_articles.values() if "Europe" in a.regions]
    for _, theme, count in labels:
        theme = theme.replace("&amp;", "&")
        assert int(count) == sum(theme in a.themes for a in europe_articles)


def test_facet_values_beyond_ten_are_behind_more_but_selected_ones_are_shown(site):
    page = site.page()
    more = page.html.split('<details class="facet-more"', 1)
    assert len(more) == 2 and 'name="theme"' in more[1]
    shown = re.findall(r'name="theme" value="([^"]+)"', more[0])
    assert len(shown) == 10
    hidden = re.findall(r'name="theme" value="([^"]+)"', more[1])
    selected_page = site.page(theme=hidden[-1])
    before_more = selected_page.html.split('<details class="facet-more"', 1)[0]
    assert f'name="theme" value="{hidden[-1]}" checked' in before_more


def test_active_filters_are_removable_chips(site):
    page = site.page(q="water", region="Europe", theme="Trade", **{"from": "2019-01-01"})
    chips = {a["aria-label"]: a["href"] for a in page.find("a", class_="chip") if "aria-label" in a}
    assert set(chips) == {
        "Remove filter Region: Europe",
        "Remove filter Theme: Trade",
        "Remove filter From 1 January 2019",
    }
    without_region = query_of(chips["Remove filter Region: Europe"])
    assert without_region == {"q": ["water"], "theme": ["Trade"], "from": ["2019-01-01"]}
    assert "from" not in query_of(chips["Remove filter From 1 January 2019"])


def test_pagination_links_and_pages_differ(site):
    first = site.page(per_page=5)
    (next_link,) = first.find("a", rel="next")
    assert query_of(next_link["href"]) == {"per_page": ["5"], "page": ["2"]}
    second = site.page(per_page=5, page=2)
    ids = [
        {a["href"] for a in p.find("a") if a.get("href", "").startswith("/articles/")}
        for p in (first, second)
    ]
    assert len(ids[0]) == len(ids[1]) == 5 and not ids[0] & ids[1]
    assert second.find("a", rel="prev") and second.find("a", aria_current="page")


def test_a_page_past_the_end_offers_the_first(site):
    page = site.page(page=50)
    assert "past the last result" in page.html
    assert page.find(id="results")


def sort_links(page):
    nav = page.html.split('<nav class="sort"', 1)[1].split("</nav>", 1)[0]
    return Page(nav).find("a")


def test_sort_links(site):
    links = sort_links(site.page(q="climate", sort="newest"))
    assert [a.get("aria-current") for a in links] == [None, "true", None]
    assert [query_of(a["href"]) for a in links] == [
        {"q": ["climate"]},
        {"q": ["climate"], "sort": ["newest"]},
        {"q": ["climate"], "sort": ["oldest"]},
    ]


def test_browsing_offers_date_sorts_only_and_is_newest_first(site):
    links = sort_links(site.page())
    assert [query_of(a["href"]).get("sort") for a in links] == [["newest"], ["oldest"]]
    assert links[0].get("aria-current") == "true"


def test_sorting_orders_results_by_date(site):
    for sort, newest_first in (("newest", True), ("oldest", False)):
        page = site.page(q="climate", sort=sort, per_page=50)
        dates = [t for t in re.findall(r'<time datetime="([\d-]+)"', page.html)]
        assert len(dates) > 3 and dates == sorted(dates, reverse=newest_first)


def test_no_results_shows_the_suggestion(site):
    page = site.page(q="climte", typos="0")
    assert page.text("total") == "0 articles"
    assert "No articles match" in page.html
    (link,) = [a for a in page.find("a") if query_of(a.get("href", "")).get("q") == ["climate"]]
    assert link


def test_a_misspelt_search_shows_what_it_searched_and_links_to_the_words_as_typed(site):
    page = site.page(q="ukriane")
    assert page.text("total") != "0 articles"
    assert page.text("corrected") == "Showing results for ukraine. Search instead for ukriane"
    (link,) = page.find("a", class_="search-instead")
    assert query_of(link["href"]) == {"q": ["ukriane"], "typos": ["0"]}
    as_typed = site.page(q="ukriane", typos="0")
    assert as_typed.text("total") == "0 articles"
    assert not as_typed.find("p", id="corrected")


def test_timeline_is_an_svg_of_linked_bars(site):
    page = site.page()
    assert page.find("svg", class_="timeline-chart", role="group")
    bars = page.find("a", class_="timeline-link")
    assert bars
    titles = re.findall(r"<title>(\d{4}): (\d+) articles?</title>", page.html)
    assert sum(int(count) for _, count in titles) == 40
    years = {year for year, count in titles if int(count)}
    for bar in bars:
        query = query_of(bar["href"])
        year = query["from"][0][:4]
        assert year in years
        assert query["from"] == [f"{year}-01-01"] and query["to"] == [f"{year}-12-31"]


def test_a_short_range_gets_a_monthly_timeline_within_the_range(site):
    page = site.page(**{"from": "2021-02-15", "to": "2021-12-31"})
    bars = page.find("a", class_="timeline-link")
    assert bars
    for bar in bars:
        query = query_of(bar["href"])
        assert query["from"][0] >= "2021-02-15" and query["to"][0] <= "2021-12-31"
        assert query["from"][0][:7] == query["to"][0][:7]  # one month


def test_partial_render_is_the_results_region_title_and_links(client):
    """What htmx asks for: the region (morphed in), the tab's title, the links outside it."""
    response = client.get("/search?q=heat&region=Europe", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    title, rest = html.split("</title>", 1)  # the first; the timeline has titles of its own
    assert title.strip() == "<title>“heat” · Europe — Article Search"
    region, links = rest.split('<link id="feed-alternate"')
    assert region.strip().startswith('<div id="search-region"')
    assert 'id="total"' in region and 'id="timeline"' in region
    assert 'name="region" value="Europe" checked' in region
    assert links.count('hx-swap-oob="true"') == 2 and 'id="search-links"' in links
    assert "HX-Request" in response.headers["Vary"]
    full = client.get("/search?q=heat&region=Europe").get_data(as_text=True)
    assert region.strip() in full  # the same template block renders both
    restoring = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in client.get("/search?q=heat", headers=restoring).get_data(as_text=True)


def test_a_bad_parameter_in_a_partial_is_a_400_fragment(client):
    response = client.get("/search?from=2024-02-01&to=2024-01-01", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "data-error-message" in html and "<html" not in html


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"per_page": "10000"},
        {"from": "notadate"},
        {"from": "2024-06-01", "to": "2024-01-01"},
        {"sort": "bogus"},
    ],
)
def test_bad_parameters_get_a_friendly_400_page(site, params):
    page = site.page(status=400, q="heat", **params)
    assert page.find("input", id="q", value="heat")
    message = page.html.split("data-error-message>", 1)[1].split("<", 1)[0]
    assert next(iter(params)) in message
    assert "Traceback" not in page.html


def test_a_missing_index_gets_a_friendly_503_page(tmp_path):
    client = create_app({"INDEX_DIR": tmp_path / "none", "TESTING": True}).test_client()
    response = client.get("/search?q=x")
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert "not available" in response.get_data(as_text=True)


def test_static_files_are_served(site):
    page = site.page()
    (stylesheet,) = page.find("link", rel="stylesheet")
    scripts = [script["src"] for script in page.find("script")]
    assert [urlsplit(src).path for src in scripts] == [
        "/static/htmx-2.0.11.min.js",
        "/static/idiomorph-ext-0.8.0.min.js",
        "/static/app.js",
    ]
    assert site.get(stylesheet["href"]).mimetype == "text/css"
    for src in scripts:
        assert "javascript" in site.get(src).mimetype
    assert site.get("/static/THIRD-PARTY-NOTICES.txt").status_code == 200
    assert page.find("meta", name="viewport")


# --- the article page ---


def test_article_page_shows_the_text_and_linked_metadata(site, demo_articles):
    article = demo_articles[RHINE]
    page = site.page(f"/articles/{RHINE}")
    assert page.text("article-title") == article.title
    assert "the water gauge at Kaub" in page.html
    links = [a["href"] for a in page.find("a")]
    assert "/search?q=author%3A%22Rados%C5%82aw+Nowak%22" in links
    assert "/search?region=Europe" in links
    for theme in article.themes:
        assert any(query_of(href).get("theme") == [theme] for href in links)
    assert "/search?from=2019-01-22&to=2019-01-22" in links
    related = page.html.split('id="related-heading"', 1)[1].split("</aside>", 1)[0]
    assert related.count('class="hit"') >= 1 and f"/articles/{RHINE}" not in related


def test_each_hit_shows_its_byline_and_its_regions_and_themes_as_tags(site, demo_articles):
    page = site.page("/search", q="rhine barges")
    hits = page.soup.find_all("li", class_="hit")
    assert hits and page.soup.find("li", class_="tag") and page.soup.find(class_="hit-authors")
    for hit in hits:
        article = demo_articles[hit.find("a")["href"].removeprefix("/articles/")]
        tags = [
            (tag["class"][1], " ".join(tag.get_text().split()))
            for tag in hit.find_all("li", class_="tag")
        ]
        assert tags == [("tag-region", f"Region: {value}") for value in article.regions] + [
            ("tag-theme", f"Theme: {value}") for value in article.themes
        ]
        if tags:
            assert hit.find("ul", class_="tags")["aria-label"] == "Regions and themes"
        byline = hit.find(class_="hit-authors")
        assert (byline.get_text() if byline else "") == (
            f"By {', '.join(article.authors)}" if article.authors else ""
        )


def test_article_page_lists_each_field_of_names_under_its_heading(site, demo_articles):
    article = next(a for a in demo_articles.values() if a.reports and a.regions and a.themes)
    page = site.page(f"/articles/{article.id}")
    listed = {
        " ".join(group.find("dt").get_text().split()): [a.get_text() for a in group.find_all("a")]
        for group in page.soup.find("dl", class_="article-meta").find_all("div")
        if group.find("dt").get_text() != "Original"
    }
    assert listed == {
        "Regions": list(article.regions),
        "Themes": list(article.themes),
        "Reports": list(article.reports),
    }


def test_article_report_links(site, demo_articles):
    article = next(a for a in demo_articles.values() if a.reports)
    page = site.page(f"/articles/{article.id}")
    report_links = page.find("a", class_="tag tag-report")
    assert len(report_links) == len(article.reports)
    for link, report in zip(report_links, article.reports, strict=True):
        assert report in query_of(link["href"])["q"][0]


def test_article_report_link_finds_the_report(site, client, demo_articles):
    article = next(a for a in demo_articles.values() if a.reports)
    page = site.page(f"/articles/{article.id}")
    link = page.find("a", class_="tag tag-report")[0]
    data = client.get("/api" + link["href"] + "&per_page=100").get_json()
    wanted = {a.id for a in demo_articles.values() if article.reports[0] in a.reports}
    assert {r["id"] for r in data["results"]} == wanted


def test_article_author_link_finds_the_author(site, client, demo_articles):
    article = demo_articles[RHINE]
    page = site.page(f"/articles/{RHINE}")
    (author_link,) = page.find("a", class_="author")
    data = client.get("/api" + author_link["href"]).get_json()
    assert data["total"] == sum("Radosław Nowak" in a.authors for a in demo_articles.values())
    assert article.id in {r["id"] for r in data["results"]}


@pytest.mark.parametrize(
    "path",
    [
        "/articles/no-such-article.txt",
        "/articles/../etc/passwd",
        "/articles/..%2F..%2Fetc%2Fpasswd",
        "/articles/%2e%2e/%2e%2e/etc/passwd",
        "/articles/a/../../b",
    ],
)
def test_unknown_or_climbing_article_ids_are_404_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Not found" in response.get_data(as_text=True)


# --- the Atom feed ---


def parse_feed(client, **params):
    response = client.get("/search.atom", query_string=params)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    return ET.fromstring(response.data)


def test_feed_is_well_formed_atom_newest_first(client, demo_articles):
    feed = parse_feed(client, region="Europe")
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}title").text.endswith("Europe")
    entries = feed.findall(f"{ATOM}entry")
    europe = [a for a in demo_articles.values() if "Europe" in a.regions]
    assert len(entries) == min(20, len(europe))
    updated = [e.find(f"{ATOM}updated").text for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert updated[0].startswith(max(a.date for a in europe).isoformat())
    for entry in entries:
        link = entry.find(f"{ATOM}link").get("href")
        assert urlsplit(link).path.startswith("/articles/")
        assert entry.find(f"{ATOM}id").text == link
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert query_of(self_link[0].get("href")) == {"region": ["Europe"]}


def test_feed_escapes_text_and_keeps_the_query(client):
    feed = parse_feed(client, q="Smith")
    (entry,) = feed.findall(f"{ATOM}entry")
    assert "Smith & Sons" in entry.find(f"{ATOM}title").text
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "html" and "<mark>Smith</mark> &amp; Sons" in summary.text


def test_feed_bad_parameter_is_400(client):
    assert client.get("/search.atom?from=nope").status_code == 400


def test_search_page_links_its_feed(site):
    page = site.page(q="heat", region="Europe")
    (alternate,) = page.find("link", rel="alternate", type="application/atom+xml")
    assert query_of(alternate["href"]) == {"q": ["heat"], "region": ["Europe"]}
