"""Fixtures shared by the test modules."""

from pathlib import Path

import pytest

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared data folder beside the project (sample article, corpora); skip if absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared data folder {SHARED_DIR} is absent")
    return SHARED_DIR


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


@pytest.fixture()
def app(demo_index):
    from web import create_app

    return create_app({"INDEX_DIR": demo_index, "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()
