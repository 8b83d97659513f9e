"""The search page in headless Chromium against a real gunicorn serving the demo index.

Drives Debian's chromium (never a downloaded one): live results while typing,
facets and timeline without a page load, Back/Forward, keyboard focus, the
article page, and screenshots kept in tests/artifacts/ for a human to look at.
"""

import datetime as dt
import re
import shutil
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.conftest import (
    EDITOR_NAME,
    EDITOR_PASSWORD,
    chromium_path,
    matching_demo_articles,
    serving,
)

pytestmark = [pytest.mark.browser, pytest.mark.server]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 5_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def test_chromium_is_installed():
    chromium_path()


def _is_favicon(url: str) -> bool:
    return urlsplit(url).path == "/favicon.ico"


# htmx logs a request it aborted itself, for a newer one (hx-sync="this:replace"), as an error.
HTMX_ABORT = re.compile(r"^htmx:(afterRequest|sendAbort), ")


def _is_problem(message) -> bool:
    if message.type != "error" or _is_favicon(message.location.get("url", "")):
        return False
    return not HTMX_ABORT.match(message.text)


@pytest.fixture()
def page(browser, live_server):
    """A fresh desktop-sized page; fails the test on any script error or failed request."""
    # en-US fixes the order of the date fields' segments (month/day/year) for typing.
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    # A Content-Security-Policy violation (the server's policy is enforced) is a console
    # error as well as this event; the event names what was refused.
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if _is_problem(message) else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not _is_favicon(response.url)
            else None
        ),
    )
    yield page
    context.close()
    assert problems == [], problems


class SearchPage:
    """What the tests read off and do to the search page."""

    def __init__(self, page: Page):
        self.page = page
        self.total = page.locator("#total")
        self.hit_titles = page.locator("#results > li .hit-title")

    def mark(self) -> None:
        """Set a marker on window: it survives only if no full page load happens."""
        self.page.evaluate("window.__marker = 1")

    def assert_no_page_load(self) -> None:
        assert self.page.evaluate("window.__marker") == 1, "a full page load happened"

    def expect_results(self, result: dict) -> None:
        """The page shows the API's answer: total, and the titles in order."""
        expect(self.total).to_have_attribute("data-total", str(result["total"]))
        expect(self.total).to_have_text(re.compile(rf"^{result['total']:,} articles?$"))
        expect(self.hit_titles).to_have_text([hit["title"] for hit in result["results"]])
        expect(self.page.locator("#search-form")).to_have_attribute("data-state", "idle")

    def box(self, facet: str, value: str):
        return self.page.locator(f'#facet-{facet} input[type="checkbox"][value="{value}"]')

    def shown_count(self, facet: str, value: str) -> int:
        label = self.page.locator(f'#facet-{facet} .facet-value:has(input[value="{value}"]) .count')
        return int(re.search(r"\d[\d,]*", label.inner_text()).group().replace(",", ""))

    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.page.url).query)


def test_typing_updates_results_without_enter(page, live_server):
    page.goto("/")
    ui = SearchPage(page)
    ui.mark()
    ui.expect_results(live_server.search())

    page.locator("#q").focus()
    page.keyboard.type("heat", delay=120)
    heat = live_server.search(q="heat")
    assert heat["total"] == len(matching_demo_articles("heat"))
    ui.expect_results(heat)
    expect(page).to_have_url(re.compile(r"/search\?q=heat$"))

    page.keyboard.type(" pump", delay=120)
    heat_pump = live_server.search(q="heat pump")
    assert heat_pump["results"] != heat["results"]  # so the list must visibly change
    ui.expect_results(heat_pump)
    expect(page).to_have_url(re.compile(r"/search\?q=heat\+pump$"))
    expect(page.locator("#q")).to_have_value("heat pump")
    ui.assert_no_page_load()


def test_a_keystrokes_results_keep_the_facets_dimmed_until_the_reader_pauses(page, live_server):
    """A keystroke's answer comes without counts: the facets and the timeline on screen stay,
    the same elements in the same place, dimmed and inert; once the reader pauses, the same
    search is asked for with its counts, and nothing below them moves when they come."""
    page.goto("/")
    ui = SearchPage(page)
    ui.expect_results(live_server.search())
    asked = []
    page.on(
        "request",
        lambda r: asked.append((r.url, r.headers.get("x-typing"))) if "/search?" in r.url else None,
    )
    page.evaluate(
        """() => {
        window.__seen = [];
        document.getElementById('facet-region').kept = true;
        document.getElementById('timeline').kept = true;
        new MutationObserver(() => {
            const facet = document.getElementById('facet-region');
            window.__seen.push({
                stale: facet.classList.contains('is-stale') && facet.inert,
                timelineStale: document.getElementById('timeline').classList.contains('is-stale'),
                total: document.getElementById('total').dataset.total,
                top: Math.round(document.getElementById('results').getBoundingClientRect().top),
            });
        }).observe(document.getElementById('search-region'),
                   {subtree: true, childList: true, attributes: true});
    }"""
    )
    ui.mark()
    page.locator("#q").focus()
    page.keyboard.type("heat", delay=120)
    heat = live_server.search(q="heat")
    assert heat["total"] != live_server.search()["total"]  # so the counts must change
    ui.expect_results(heat)
    total = str(heat["total"])
    page.wait_for_function(
        f"() => __seen.some(s => s.stale && s.total === '{total}')"
        " && !document.querySelector('#search-region .is-stale, #search-region [data-deferred]')"
    )
    seen = [s for s in page.evaluate("window.__seen") if s["total"] == total]
    assert any(s["stale"] and s["timelineStale"] for s in seen)
    assert not seen[-1]["stale"] and not seen[-1]["timelineStale"]
    assert len({s["top"] for s in seen}) == 1, seen  # the results did not move
    assert page.evaluate("document.getElementById('facet-region').kept") is True
    assert page.evaluate("document.getElementById('timeline').kept") is True
    for facet in ("region", "theme"):
        for value in heat["facets"][facet]:
            assert ui.shown_count(facet, value["value"]) == value["count"]
    heat_query = {"q": ["heat"]}
    heat_asks = [typing for url, typing in asked if parse_qs(urlsplit(url).query) == heat_query]
    assert heat_asks[0] == "1" and heat_asks[-1] is None, asked
    expect(page).to_have_url(re.compile(r"/search\?q=heat$"))
    ui.assert_no_page_load()


def test_region_checkbox_narrows_to_its_count_without_page_load(page, live_server, demo_articles):
    page.goto("/search?q=heat")
    ui = SearchPage(page)
    ui.expect_results(live_server.search(q="heat"))
    ui.mark()
    shown = ui.shown_count("region", "Europe")
    truth = {
        article_id
        for article_id in matching_demo_articles("heat")
        if "Europe" in demo_articles[article_id].regions
    }
    assert shown == len(truth) > 0

    # The live region stays the same element (morphed, not replaced), so its change is read out.
    page.evaluate("document.getElementById('total-status').kept = true")
    ui.box("region", "Europe").check()
    europe = live_server.search(q="heat", region="Europe")
    assert europe["total"] == shown
    ui.expect_results(europe)
    assert page.evaluate("document.getElementById('total-status').kept") is True
    expect(ui.box("region", "Europe")).to_be_checked()
    assert ui.shown_count("region", "Europe") == shown  # its own selection does not shrink it
    assert ui.query() == {"q": ["heat"], "region": ["Europe"]}
    expect(page.locator(".chips")).to_contain_text("Region: Europe")
    ui.assert_no_page_load()


def test_back_and_forward_restore_query_boxes_and_total(page, live_server):
    page.goto("/")
    ui = SearchPage(page)
    ui.mark()
    browse = live_server.search()
    page.locator("#q").focus()
    page.keyboard.type("heat", delay=120)
    heat = live_server.search(q="heat")
    ui.expect_results(heat)
    page.keyboard.press("Escape")  # close the completions, which cover the facets
    ui.box("region", "Europe").check()
    europe = live_server.search(q="heat", region="Europe")
    ui.expect_results(europe)
    theme = europe["facets"]["theme"][0]["value"]
    ui.box("theme", theme).check()
    both = live_server.search(q="heat", region="Europe", theme=theme)
    ui.expect_results(both)

    page.go_back()
    ui.expect_results(europe)
    expect(ui.box("region", "Europe")).to_be_checked()
    expect(ui.box("theme", theme)).not_to_be_checked()

    page.go_back()
    ui.expect_results(heat)
    expect(page.locator("#q")).to_have_value("heat")
    expect(page.locator("#filters input:checked")).to_have_count(0)

    page.go_back()
    ui.expect_results(browse)
    expect(page.locator("#q")).to_have_value("")

    page.go_forward()
    ui.expect_results(heat)
    expect(page.locator("#q")).to_have_value("heat")
    page.go_forward()
    ui.expect_results(europe)
    expect(ui.box("region", "Europe")).to_be_checked()
    ui.assert_no_page_load()


def test_screenshots_desktop_and_phone(page, live_server):
    """Kept in tests/artifacts/ for people to look at; the checks catch gross breakage."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto("/search?q=heat")
    ui = SearchPage(page)
    ui.expect_results(live_server.search(q="heat"))
    filters = page.locator("#filters").bounding_box()
    results = page.locator("#results").bounding_box()
    assert filters["x"] + filters["width"] <= results["x"], "filters are not a sidebar"
    page.screenshot(path=ARTIFACTS / "search-desktop.png", full_page=True)

    article_href = page.locator("#results .hit-title a").first.get_attribute("href")
    page.goto(article_href)
    page.screenshot(path=ARTIFACTS / "article-desktop.png", full_page=True)

    page.set_viewport_size(PHONE)
    page.goto("/search?q=heat")
    ui.expect_results(live_server.search(q="heat"))
    expect(page.locator("#filters")).not_to_have_attribute("open", "")
    overflow = "document.documentElement.scrollWidth - window.innerWidth"
    assert page.evaluate(overflow) <= 0, "the search page scrolls sideways on a phone"
    page.screenshot(path=ARTIFACTS / "search-phone.png", full_page=True)
    page.goto(article_href)
    assert page.evaluate(overflow) <= 0, "the article page scrolls sideways on a phone"
    page.screenshot(path=ARTIFACTS / "article-phone.png", full_page=True)


FOCUS_STYLE = """element => {
  const style = getComputedStyle(element);
  return {
    focusVisible: element.matches(':focus-visible'),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== 'none',
  };
}"""


def tab_to(page: Page, selector: str, most: int = 40) -> list[str]:
    """Press Tab until ``selector`` has focus; returns what got focus on the way."""
    visited = []
    for _ in range(most):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.id || e.getAttribute('href') || e.tagName; }"
        )
        visited.append(focused)
        if page.evaluate(f"() => document.activeElement.matches({selector!r})"):
            return visited
    pytest.fail(f"Tab never reached {selector}; focus went {visited}")


def assert_visible_focus(page: Page, what: str) -> None:
    style = page.locator(":focus").evaluate(FOCUS_STYLE)
    assert style["focusVisible"] and (style["outline"] or style["shadow"]), (what, style)


def test_keyboard_reaches_search_box_and_facets_with_visible_focus(page, live_server):
    page.goto("/search?q=heat")
    ui = SearchPage(page)
    ui.expect_results(live_server.search(q="heat"))

    tab_to(page, "#q")
    assert_visible_focus(page, "search box")
    visited = tab_to(page, '#facet-region input[type="checkbox"]')
    assert_visible_focus(page, "region checkbox")
    value = page.evaluate("document.activeElement.value")
    assert len(visited) <= 4, f"too many stops between the search box and the facets: {visited}"

    page.keyboard.press("Space")
    ui.expect_results(live_server.search(q="heat", region=value))
    # The region was re-rendered; focus is back on the same checkbox, still visible.
    assert page.evaluate("document.activeElement.value") == value
    expect(ui.box("region", value)).to_be_checked()
    assert_visible_focus(page, "region checkbox after the update")

    tab_to(page, "#facet-theme input[type='checkbox']")
    assert_visible_focus(page, "theme checkbox")


def test_article_page_links_metadata_and_related(page, live_server):
    page.goto("/search?q=heat")
    first = page.locator("#results .hit-title a").first
    article_id = first.get_attribute("href").removeprefix("/articles/")
    first.click()
    expect(page).to_have_url(re.compile(re.escape(f"/articles/{article_id}") + "$"))
    article = live_server.json(f"/api/articles/{article_id}")
    expect(page.locator("h1")).to_have_text(article["title"])

    authors = page.locator(".byline a.author")
    expect(authors).to_have_text(article["authors"])
    for link, name in zip(authors.all(), article["authors"], strict=True):
        assert parse_qs(urlsplit(link.get_attribute("href")).query) == {"q": [f'author:"{name}"']}
    expect(page.locator(".article-meta a.tag-region")).to_have_text(article["regions"])
    expect(page.locator(".article-meta a.tag-theme")).to_have_text(article["themes"])
    date_link = page.locator(".dateline a.date")
    assert parse_qs(urlsplit(date_link.get_attribute("href")).query) == {
        "from": [article["date"]],
        "to": [article["date"]],
    }

    related = page.locator(".related .hit-title a")
    assert article["related"], "the demo article has no related articles"
    expect(related).to_have_text([item["title"] for item in article["related"]])
    assert article_id not in [item["id"] for item in article["related"]]

    region = article["regions"][0]
    page.locator(".article-meta a.tag-region", has_text=region).click()
    ui = SearchPage(page)
    ui.expect_results(live_server.search(region=region))
    expect(ui.box("region", region)).to_be_checked()

    page.go_back()
    page.locator(".related .hit-title a").first.click()
    expect(page.locator("h1")).to_have_text(article["related"][0]["title"])


def test_timeline_bar_narrows_the_date_range(page, live_server):
    heat = live_server.search(q="heat")
    bucket = max(heat["timeline"], key=lambda bucket: bucket["count"])
    assert 0 < bucket["count"] < heat["total"]
    page.goto("/search?q=heat")
    ui = SearchPage(page)
    ui.expect_results(heat)
    ui.mark()

    bar = page.locator(f'#timeline a.timeline-link[aria-label^="{bucket["label"]}:"]')
    shown = int(re.match(r"[^:]+: (\d+) articles?", bar.get_attribute("aria-label")).group(1))
    assert shown == bucket["count"]
    bar.click()

    narrowed = live_server.search(q="heat", **{"from": bucket["from"], "to": bucket["to"]})
    assert narrowed["total"] == shown
    ui.expect_results(narrowed)
    assert ui.query() == {"q": ["heat"], "from": [bucket["from"]], "to": [bucket["to"]]}
    expect(page.locator("#from")).to_have_value(bucket["from"])
    expect(page.locator("#to")).to_have_value(bucket["to"])
    ui.assert_no_page_load()


def test_dates_typed_by_keyboard_apply_once_complete(page, live_server):
    heat = live_server.search(q="heat")
    page.goto("/search?q=heat")
    ui = SearchPage(page)
    ui.expect_results(heat)
    ui.mark()

    # mm dd yyyy: each year digit makes a valid date early (0002, 0020, 0202, 2022).
    page.locator("#from").focus()
    page.keyboard.type("01012022", delay=120)
    page.keyboard.press("Tab")  # to the field's calendar button
    page.keyboard.press("Tab")  # to "To"
    expect(page.locator("#to")).to_be_focused()
    page.keyboard.type("12312023", delay=120)
    dates = {"from": "2022-01-01", "to": "2023-12-31"}
    narrowed = live_server.search(q="heat", **dates)
    assert narrowed["total"] != heat["total"]
    ui.expect_results(narrowed)
    expect(page.locator("#from")).to_have_value(dates["from"])
    expect(page.locator("#to")).to_have_value(dates["to"])
    assert ui.query() == {"q": ["heat"], "from": [dates["from"]], "to": [dates["to"]]}

    page.go_back()  # one history entry for the dates, not one per keystroke
    ui.expect_results(heat)
    expect(page.locator("#from")).to_have_value("")
    ui.assert_no_page_load()


def test_each_letter_from_the_third_shows_the_articles_of_the_word_being_typed(page, live_server):
    page.goto("/")
    ui = SearchPage(page)
    ui.mark()
    word = "hospitals"
    finished = live_server.search(q=word + " ")  # a space after it: the whole word only
    assert finished["total"] == len(matching_demo_articles(word)) > 1
    wanted = {hit["title"] for hit in finished["results"]}
    page.locator("#q").focus()
    page.keyboard.type(word[:2], delay=60)
    for letter in word[2:]:
        page.keyboard.type(letter)
        typed = page.locator("#q").input_value()
        expect(page).to_have_url(re.compile(rf"/search\?q={typed}$"))
        state = live_server.search(q=typed)
        ui.expect_results(state)
        shown = set(ui.hit_titles.all_inner_texts())
        assert wanted <= shown, (typed, wanted - shown)
    ui.assert_no_page_load()


def test_a_typo_shows_the_corrected_results_and_searches_as_typed_on_request(page, live_server):
    page.goto("/")
    ui = SearchPage(page)
    ui.mark()
    page.locator("#q").focus()
    page.keyboard.type("ukriane", delay=60)
    corrected = live_server.search(q="ukriane")
    assert corrected["showing_results_for"] == "ukraine" and corrected["total"] > 0
    ids = [hit["id"] for hit in live_server.search(q="ukraine ")["results"]]
    assert [hit["id"] for hit in corrected["results"]] == ids
    ui.expect_results(corrected)
    note = page.locator("#corrected")
    expect(note).to_have_text("Showing results for ukraine. Search instead for ukriane")
    page.locator("#q").blur()  # closes the completions (Escape would empty a search box)
    expect(page.locator("#q-suggestions")).to_be_hidden()

    note.locator("a.search-instead").click()
    as_typed = live_server.search(q="ukriane", typos="0")
    assert as_typed["total"] == 0
    ui.expect_results(as_typed)
    expect(page.locator("#corrected")).to_have_count(0)
    assert ui.query() == {"q": ["ukriane"], "typos": ["0"]}
    expect(page.locator("#q")).to_have_value("ukriane")

    page.go_back()
    ui.expect_results(corrected)
    expect(page.locator("#corrected")).to_be_visible()
    assert ui.query() == {"q": ["ukriane"]}
    page.go_forward()
    ui.expect_results(as_typed)
    ui.assert_no_page_load()


def test_completions_by_keyboard_put_the_servers_query_in_the_box(page, live_server):
    page.goto("/")
    ui = SearchPage(page)
    ui.mark()
    box, listbox = page.locator("#q"), page.locator("#q-suggestions")
    options = listbox.locator("[role=option]")
    box.focus()
    page.keyboard.type("heat cli", delay=60)
    suggestions = live_server.json("/api/suggest", {"q": "heat cli"})["suggestions"]
    expect(options).to_have_count(len(suggestions))
    expect(box).to_have_attribute("aria-expanded", "true")
    chosen = next(i for i, s in enumerate(suggestions) if s["kind"] == "theme")
    for _ in range(chosen + 1):
        page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", f"q-option-{chosen}")
    expect(options.nth(chosen)).to_have_attribute("aria-selected", "true")
    expect(options.nth(chosen).locator(".suggestion-kind")).to_have_text("Theme")

    page.keyboard.press("Enter")
    query = suggestions[chosen]["query"]  # heat theme:"..."
    expect(box).to_have_value(query)
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    ui.expect_results(live_server.search(q=query))
    assert ui.query() == {"q": [query]}

    page.keyboard.type(" eu", delay=60)
    expect(options.first).to_be_visible()
    page.keyboard.press("Escape")  # closes the list and keeps the text
    expect(listbox).to_be_hidden()
    expect(box).to_have_value(query + " eu")
    expect(box).to_be_focused()
    ui.assert_no_page_load()


def test_a_link_or_back_drops_a_keystrokes_pending_search(page, live_server):
    """A keystroke's search waits out the typing delay; a link clicked or Back pressed
    meanwhile asks for another state, and the keystroke's search must not replace it."""
    asked, held = [], []
    page.on("request", lambda request: asked.append(request.url))
    page.clock.install()
    page.goto("/search?q=heat")
    ui = SearchPage(page)
    heat = live_server.search(q="heat")
    ui.expect_results(heat)
    ui.mark()
    page.clock.pause_at(dt.datetime.now() + dt.timedelta(minutes=1))  # timers wait for us

    def type_then(letter: str, action, answer: str) -> None:
        """Type a letter, then act; the keystroke's delay passes while the answer is held."""
        pattern = re.compile(answer)
        page.route(pattern, lambda route: held.append(route))
        page.locator("#q").focus()
        page.keyboard.press("End")
        page.keyboard.type(letter)  # searched after the delay unless dropped
        action()
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not held:
            assert time.monotonic() < deadline, f"no request for {answer} was made: {asked}"
            page.wait_for_timeout(50)
        page.clock.run_for(5_000)
        page.wait_for_timeout(300)
        held.pop().continue_()
        page.unroute(pattern)

    type_then("s", lambda: page.locator(".sort a", has_text="Newest").click(), r"sort=newest")
    newest = live_server.search(q="heat", sort="newest")
    ui.expect_results(newest)
    assert ui.query() == {"q": ["heat"], "sort": ["newest"]}
    expect(page.locator("#q")).to_have_value("heat")

    type_then("x", page.go_back, r"/search\?q=heat$")  # the focus stays in the box
    ui.expect_results(heat)
    assert ui.query() == {"q": ["heat"]}
    expect(page.locator("#q")).to_have_value("heat")
    assert not [url for url in asked if "heats" in url or "heatx" in url], asked
    ui.assert_no_page_load()


def test_the_page_works_without_javascript(browser, live_server):
    context = browser.new_context(
        viewport=DESKTOP, base_url=live_server.url, java_script_enabled=False
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/")
    page.locator("#q").fill("heat")
    page.locator("#q").press("Enter")
    ui = SearchPage(page)
    heat = live_server.search(q="heat")
    expect(ui.total).to_have_attribute("data-total", str(heat["total"]))
    expect(ui.hit_titles).to_have_text([hit["title"] for hit in heat["results"]])
    assert ui.query() == {"q": ["heat"]}  # a plain form submission (empty dates too)

    page.locator(".sort a", has_text="Newest").click()
    newest = live_server.search(q="heat", sort="newest")
    expect(ui.hit_titles).to_have_text([hit["title"] for hit in newest["results"]])
    ui.box("region", "Europe").check()
    page.locator("button.apply").click()
    europe = live_server.search(q="heat", sort="newest", region="Europe")
    expect(ui.total).to_have_attribute("data-total", str(europe["total"]))
    assert ui.query() == {"q": ["heat"], "region": ["Europe"], "sort": ["newest"]}
    context.close()


def test_a_page_link_moves_focus_to_the_results(page, live_server):
    page.goto("/")
    ui = SearchPage(page)
    ui.expect_results(live_server.search())
    ui.mark()
    page.locator(".pagination a[rel=next]").click()
    ui.expect_results(live_server.search(page="2"))
    expect(page.locator("#results-heading")).to_be_focused()
    assert ui.query() == {"page": ["2"]}
    ui.assert_no_page_load()


def axe_violations(page: Page) -> list[str]:
    """axe-core's violations on the page as loaded, one line each: rule, impact, where."""
    results = Axe().run(page).response
    return [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in results["violations"]
    ]


@pytest.mark.parametrize(
    "path",
    ["/", "/search?q=heat", "/search?q=heat&region=Europe&sort=newest", "/search?q=zzzzqqq"],
)
def test_search_pages_pass_an_accessibility_audit(page, path):
    page.goto(path)
    expect(page.locator("h1")).to_have_count(1)
    assert axe_violations(page) == []


def test_article_page_passes_an_accessibility_audit(page):
    page.goto("/search?q=heat")
    page.locator("#results .hit-title a").first.click()
    expect(page.locator("h1")).to_have_count(1)
    assert axe_violations(page) == []


# --- The editors' desk (/admin): sign in, add a synonym through the page, preview, read ---

BARGES = "Low Water on the Rhine Leaves Barges Half Loaded"


@pytest.fixture(scope="module")
def desk_server(demo_index, tmp_path_factory):
    """A real serve of a copy of the demo index, with the editor anna."""
    from search.editors import EditorStore

    folder = tmp_path_factory.mktemp("browser-desk")
    index_dir = folder / "index"
    shutil.copytree(demo_index, index_dir, symlinks=True)
    EditorStore(index_dir).add(EDITOR_NAME, EDITOR_PASSWORD)
    with serving(index_dir, folder) as server:
        yield server


@pytest.fixture()
def desk_page(browser, desk_server):
    """A fresh page on the desk's server, failing the test on any script error or failed request."""
    from search.desk import Desk

    Desk(desk_server.index_dir).restore(0, "test")
    context = browser.new_context(viewport=DESKTOP, base_url=desk_server.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda m: problems.append(m.text) if _is_problem(m) else None)
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    yield page
    context.close()
    assert problems == [], problems


def sign_in_by_keyboard(page: Page) -> None:
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"/admin/sign-in\?next=/admin$"))
    expect(page.locator("#name")).to_be_focused()
    page.keyboard.type(EDITOR_NAME)
    page.keyboard.press("Tab")
    page.keyboard.type(EDITOR_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.locator(".desk-editor")).to_have_text(f"Signed in as {EDITOR_NAME}")


def test_an_editor_adds_a_synonym_previews_it_and_readers_find_it(desk_page, browser, desk_server):
    page = desk_page
    sign_in_by_keyboard(page)
    page.get_by_label("Words or phrases that mean the same").fill("barges, lighters")
    page.get_by_role("button", name="Add synonym").click()
    expect(page.locator(".desk-notice")).to_have_text(re.compile(r"^Synonym \d+ added\.$"))
    expect(page.locator("#synonyms .desk-words")).to_have_text("barges, lighters")

    page.get_by_label("What readers get for").fill("lighters")
    page.get_by_label("What readers get for").press("Enter")
    expect(page.locator("#preview-with .desk-fired")).to_contain_text("lighters → barges")
    expect(page.locator("#preview-with li").first).to_contain_text(BARGES)
    expect(page.locator("#preview-without .desk-empty")).to_have_text("No articles.")
    expect(page.locator("#preview-without li")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "desk-desktop.png", full_page=True)

    # A reader (no cookie, another browser context) finds it with the synonym, and is told.
    reader = browser.new_context(base_url=desk_server.url)
    reading = reader.new_page()
    reading.goto("/search?q=lighters")
    expect(reading.locator("#results .hit-title").first).to_have_text(BARGES, timeout=TIMEOUT_MS)
    expect(reading.locator("#synonyms-note")).to_contain_text("lighters")
    assert reader.cookies() == []
    reader.close()

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".desk-notice")).to_have_text("You have signed out.")
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"/admin/sign-in"))


def test_desk_pages_pass_an_accessibility_audit(desk_page):
    page = desk_page
    page.goto("/admin/sign-in")
    expect(page.locator("h1")).to_have_count(1)
    assert axe_violations(page) == []
    sign_in_by_keyboard(page)
    page.get_by_label("Words or phrases that mean the same").fill("barges, lighters")
    page.get_by_role("button", name="Add synonym").click()
    page.locator("#new-rule-query").fill("grain")  # the form is open while there is no rule
    page.locator("#new-rule-pin").fill("2019-06-18-baltic-herring-quota-cut.txt")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator(".desk-notice")).to_have_text(re.compile(r"^Rule \d+ added\.$"))
    for path in ("/admin?q=grain+lighters", "/admin?filter=barges", "/admin/history"):
        page.goto(path)
        expect(page.locator("h1")).to_have_count(1)
        assert axe_violations(page) == [], path
    for link in ("Edit synonym", "Edit rule"):
        page.goto("/admin")
        page.get_by_role("link", name=re.compile(f"^{link} \\d+$")).click()
        expect(page.locator("h1")).to_have_count(1)
        assert axe_violations(page) == [], link
