"""Fixtures shared by the test modules."""

import itertools
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

from bench.harness import Server

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


def pytest_collection_modifyitems(items) -> None:
    """Mark a test that uses the session's browser or server, whatever module it is in.

    Modules that start servers of their own carry ``pytestmark`` (markers: pyproject.toml).
    """
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if "browser" in used:
            item.add_marker(pytest.mark.browser)
        if used & {"browser", "live_server"}:
            item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared data folder beside the project (sample article, corpora); skip if absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared data folder {SHARED_DIR} is absent")
    return SHARED_DIR


# --- Editors' secrets: hashed cheaply in this process ---

CHEAP_SCRYPT_N = 2**10


@pytest.fixture(autouse=True, scope="session")
def production_scrypt_n() -> Iterator[int]:
    """Editors' passwords and tokens hashed at scrypt N = 2**10 in the test process.

    At the production cost (search.secret_hash.SCRYPT_N, about 0.2 s a hash) the
    desk's sign-in tests spent most of their time hashing. A stored hash names its
    own cost, so checking works the same at any; tests/test_secret_hash.py checks
    the production cost itself, and servers and commands the tests start use it.
    Yields the production N.
    """
    from search import secret_hash

    production = secret_hash.SCRYPT_N
    secret_hash.SCRYPT_N = CHEAP_SCRYPT_N
    yield production
    secret_hash.SCRYPT_N = production


# --- Web front end: a real index of the demo articles, built once per session ---

DEMO_ARTICLES = Path(__file__).resolve().parents[1] / "demo" / "articles"


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory) -> Path:
    """A temporary index folder holding every demo article (built once per session)."""
    from index.indexer import index_paths

    index_dir = tmp_path_factory.mktemp("demo-index")
    report = index_paths(index_dir, [DEMO_ARTICLES], procs=1)
    assert not report.problems, report.problems
    return index_dir


@pytest.fixture(scope="session")
def demo_articles():
    """The demo articles as parsed from their files, by id: the truth tests compare with."""
    from index.formats.text_export import read_text_export

    return {
        path.name: read_text_export(path, path.name) for path in sorted(DEMO_ARTICLES.glob("*.txt"))
    }


@pytest.fixture(scope="session")
def engine(demo_index):
    """One search engine on the demo index, shared read-only by every test that searches it.

    Modules with an index of their own override this fixture with their own ``engine``.
    """
    from search.engine import SearchEngine

    return SearchEngine(demo_index)


@pytest.fixture(scope="session")
def reuters_dir(shared_dir) -> Path:
    """The Reuters-21578 corpus in ../shared (JSON Lines and text exports); skip if absent."""
    path = shared_dir / "corpora" / "reuters21578"
    if not (path / "articles.jsonl").is_file() or not (path / "text").is_dir():
        pytest.skip(f"the Reuters-21578 corpus is absent from {path}")
    return path


@pytest.fixture(scope="session")
def app(demo_index):
    """One app on the demo index for the session, as one worker serves many requests: its
    engine opened once. Each test gets its own ``client`` (no cookies carried over)."""
    from web import create_app

    return create_app({"INDEX_DIR": demo_index, "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


# --- A real server: `article-search serve` (gunicorn) as a subprocess ---

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SERVER_START_SECONDS = 20
_SERVERS_STARTED = itertools.count(1)  # names each server's log


def article_search_command() -> str:
    """The venv's ``article-search`` script (beside the Python running the tests)."""
    beside = Path(sys.executable).with_name("article-search")
    if beside.exists():
        return str(beside)
    return str(PROJECT_ROOT / ".venv" / "bin" / "article-search")


def cli(*args: str, timeout: float = 300, **options) -> subprocess.CompletedProcess:
    """Run ``article-search ARGS`` to the end (at most ``timeout`` s), capturing its text output."""
    command = [article_search_command(), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, **options)


@dataclass
class LiveServer:
    """A running ``article-search serve``: its base URL, index folder and log."""

    url: str
    index_dir: Path
    log: Path
    process: subprocess.Popen

    def get(self, path: str, params=None, timeout: float = 10) -> tuple[int, bytes]:
        """GET ``path`` (with ``params``); returns (status, body), also for 4xx/5xx."""
        query = f"?{urlencode(params, doseq=True)}" if params else ""
        try:
            with urlopen(f"{self.url}{path}{query}", timeout=timeout) as response:
                return response.status, response.read()
        except HTTPError as error:
            return error.code, error.read()

    def json(self, path: str, params=None) -> dict:
        status, body = self.get(path, params)
        assert status == 200, f"GET {path} {params}: {status} {body[:300]!r}\n{self.log_tail()}"
        return json.loads(body)

    def search(self, **params) -> dict:
        return self.json("/api/search", params)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "server log:\n" + "\n".join(text.splitlines()[-lines:])


@contextmanager
def serving(index_dir: Path, workdir: Path, workers: int = 2) -> Iterator[LiveServer]:
    """Run ``article-search serve`` on a free loopback port until the block ends.

    bench/harness.py's Server: its own session (process group), killed whole at
    the end and with the test run; its own XDG_RUNTIME_DIR, so gunicorn's control
    socket is not the user's ~/.gunicorn/gunicorn.ctl.
    """
    log = Path(workdir) / f"server-{next(_SERVERS_STARTED)}.log"
    server = Server.article_search(Path(index_dir), workers, log=log)
    live = LiveServer(server.url, Path(index_dir), log, server.process)
    try:
        try:
            server.wait_healthy(SERVER_START_SECONDS)
        except RuntimeError as error:
            pytest.fail(f"article-search serve did not start: {error}\n{live.log_tail()}")
        yield live
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server(demo_index, tmp_path_factory) -> Iterator[LiveServer]:
    """A real gunicorn (``article-search serve``, 2 workers) serving the demo index.

    Read-only: tests that change an index start their own server with ``serving``.
    """
    with serving(demo_index, tmp_path_factory.mktemp("live-server")) as server:
        yield server


def matching_demo_articles(word: str) -> set[str]:
    """Ids of the demo articles whose title, body or authors hold ``word`` (as analysed).

    The truth a one-word search is checked against, computed without the search core.
    """
    from index.formats.text_export import read_text_export
    from search.schema import english_analyzer

    analyzer = english_analyzer()
    (term,) = [token.text for token in analyzer(word)]
    found = set()
    for path in DEMO_ARTICLES.glob("*.txt"):
        article = read_text_export(path, path.name)
        text = "\n".join([article.title, article.body, *article.authors])
        if term in {token.text for token in analyzer(text)}:
            found.add(article.id)
    return found


# --- Headless Chromium (Debian's, never a downloaded one), one per session ---

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "chromium is not installed, so the browser tests cannot run. "
            "Run `make test`: it installs Debian's chromium first (`make browser-deps`).",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; each test opens its own context in it."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# --- The editors' desk: a copy of the demo index with an editor, and a client that signs in ---

EDITOR_NAME = "anna"
EDITOR_PASSWORD = "correct horse battery staple"


@pytest.fixture()
def desk_index(demo_index, tmp_path) -> Path:
    """A copy of the demo index (the desk writes into its folder) with the editor anna."""
    from search.editors import EditorStore

    index_dir = tmp_path / "desk-index"
    shutil.copytree(demo_index, index_dir, symlinks=True)
    EditorStore(index_dir).add(EDITOR_NAME, EDITOR_PASSWORD)
    return index_dir


@pytest.fixture()
def desk_app(desk_index):
    from web import create_app

    return create_app({"INDEX_DIR": desk_index, "TESTING": True})


class DeskClient:
    """A Flask test client that signs in to the desk the way a browser does (form and CSRF)."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str = "/admin/sign-in") -> str:
        """The CSRF token of the form at ``path`` (the session's)."""
        import re

        page = self.client.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
        assert found, f"no CSRF token in {path} ({page.status_code})"
        return found.group(1)

    def sign_in(self, name: str = EDITOR_NAME, password: str = EDITOR_PASSWORD, **headers):
        token = self.csrf()
        form = {"csrf_token": token, "name": name, "password": password}
        return self.client.post("/admin/sign-in", data=form, headers=headers)


@pytest.fixture()
def desk(desk_app) -> DeskClient:
    return DeskClient(desk_app.test_client())
