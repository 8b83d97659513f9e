"""Read replicas on loopback: two served copies of the index, a publish between them,
searches throughout with zero errors, /healthz naming the generation each one serves."""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest

from index.indexer import index_paths
from index.publish import generation_name, publish
from search.storage.index_folder import INDEX_NAME, IndexFolder
from search.whoosh_internals import toc_filename
from tests.conftest import cli, serving
from tests.generated_corpus import write_articles

pytestmark = [
    pytest.mark.skipif(
        shutil.which("rsync") is None, reason="rsync (Debian's package; make test installs it)"
    ),
    pytest.mark.slow,
]
SWITCH_SECONDS = 20


def _healthz(server) -> dict:
    return server.json("/healthz")


def _served_by(index_dir) -> str:
    """The generation /healthz names on the primary: a replica serving it says the same."""
    return IndexFolder(index_dir).served().generation.name


def _wait_for_generation(server, generation: str) -> dict:
    deadline = time.monotonic() + SWITCH_SECONDS
    while time.monotonic() < deadline:
        health = _healthz(server)
        if health["generation"] == generation:
            return health
        time.sleep(0.1)
    pytest.fail(f"{server.url} still serves {_healthz(server)['generation']}, not {generation}")


@pytest.mark.server
def test_two_replicas_switch_generation_without_an_error(tmp_path):
    articles, primary = tmp_path / "articles", tmp_path / "primary"
    write_articles(articles, 200, paragraphs=(1, 2))
    index_paths(primary, [articles], procs=1)
    replicas = [tmp_path / "replica-a", tmp_path / "replica-b"]
    first, first_served = generation_name(primary), _served_by(primary)
    for replica in replicas:
        assert publish(primary, str(replica)) == first
        assert publish(primary, str(replica)) == first  # nothing new: nothing copied

    with serving(replicas[0], tmp_path) as one, serving(replicas[1], tmp_path) as two:
        for server in (one, two):
            assert _wait_for_generation(server, first_served)["documents"] == 200
        stop, failures, answered = threading.Event(), [], [0]

        def search_all_along(server, query: str) -> None:
            while not stop.is_set():
                try:
                    status, _ = server.get("/api/search", {"q": query})
                except OSError as error:
                    failures.append(f"{server.url}: {error}")
                    continue
                if status != 200:
                    failures.append(f"{server.url}: {status}")
                answered[0] += 1

        clients = [
            threading.Thread(target=search_all_along, args=(server, query))
            for server in (one, two)
            for query in ("kari", "tosa melvin")
        ]
        for client in clients:
            client.start()
        try:
            write_articles(articles, 20, start=200, seed=5)
            indexed = cli("index", str(articles), "--index", str(primary))
            assert indexed.returncode == 0, indexed.stderr
            second, second_served = generation_name(primary), _served_by(primary)
            assert second != first
            # The publish command, as a timer would run it after the indexer.
            done = cli("publish", "--index", str(primary), str(replicas[0]))
            assert done.returncode == 0, done.stderr
            assert f"serving {second}" in done.stdout
            assert _wait_for_generation(one, second_served)["documents"] == 220
            assert _healthz(two)["generation"] == first_served  # not published there yet
            time.sleep(1)
            publish(primary, str(replicas[1]))
            assert _wait_for_generation(two, second_served)["documents"] == 220
            time.sleep(1)
        finally:
            stop.set()
            for client in clients:
                client.join()
        assert not failures, failures[:5]
        assert answered[0] > 20
        for server in (one, two):
            assert server.search(q="", per_page=1)["total"] == 220

    for replica in replicas:
        # The copy served and the one before it; no half-copied folder left.
        kept = sorted(os.listdir(replica / "builds"))
        assert kept == sorted([first, second])
        assert os.readlink(replica / "current") == f"builds/{second}"
        # Unchanged segment files were hard-linked, not copied again.
        old_files = {p.name: p.stat().st_ino for p in (replica / "builds" / first).iterdir()}
        shared = [
            p
            for p in (replica / "builds" / second).iterdir()
            if old_files.get(p.name) == p.stat().st_ino
        ]
        assert shared


def test_a_copy_cut_short_is_never_served(tmp_path):
    """rsync dying half way (a dropped connection) leaves the replica serving what it served."""
    articles, primary, replica = tmp_path / "articles", tmp_path / "primary", tmp_path / "replica"
    write_articles(articles, 30, paragraphs=(1, 1))
    index_paths(primary, [articles], procs=1)
    first = publish(primary, str(replica))
    write_articles(articles, 5, start=30, seed=5)
    index_paths(primary, [articles], procs=1)
    # An rsync that copies all but the table of contents, then fails as a cut link does.
    cut = tmp_path / "cut-rsync"
    cut.mkdir()
    (cut / "rsync").write_text(
        f'#!/bin/sh\n{shutil.which("rsync")} --exclude "*.toc" "$@"\nexit 12\n'
    )
    (cut / "rsync").chmod(0o755)
    env = {**os.environ, "PATH": f"{cut}{os.pathsep}{os.environ['PATH']}"}
    done = cli("publish", "--index", str(primary), str(replica), env=env)
    assert done.returncode == 2
    assert "rsync" in done.stderr
    assert os.readlink(replica / "current") == f"builds/{first}"
    # The next publish completes, and the cut copy is gone.
    second = publish(primary, str(replica))
    assert os.readlink(replica / "current") == f"builds/{second}"
    assert sorted(os.listdir(replica / "builds")) == sorted([first, second])


def test_a_damaged_newest_generation_is_never_published(tmp_path):
    """The replica gets the generation the primary serves, not a newer damaged one."""
    articles, primary, replica = tmp_path / "articles", tmp_path / "primary", tmp_path / "replica"
    write_articles(articles, 30, paragraphs=(1, 1))
    index_paths(primary, [articles], procs=1)
    intact = IndexFolder(primary).served().generation
    before = set(os.listdir(IndexFolder(primary).live_build()))
    write_articles(articles, 5, start=30, seed=5)
    index_paths(primary, [articles], procs=1)
    newest = IndexFolder(primary).served().generation.number
    segment = next(
        name
        for name in sorted(set(os.listdir(IndexFolder(primary).live_build())) - before)
        if name[0] != "_"
    )
    (IndexFolder(primary).live_build() / segment).write_bytes(b"")  # a power cut, after the commit
    assert IndexFolder(primary).served().generation == intact

    assert publish(primary, str(replica)) == intact.copy_name

    copy = replica / "builds" / intact.copy_name
    assert os.readlink(replica / "current") == f"builds/{intact.copy_name}"
    assert not (copy / toc_filename(INDEX_NAME, newest)).exists()
    served = IndexFolder(replica).served()
    assert (served.generation.number, served.damaged) == (intact.number, ())
    assert served.generation.name == intact.name  # as the primary's /healthz says


def test_publish_carries_the_desk_and_nothing_else_of_the_folder(tmp_path):
    from search.desk import DESK_FILE, Desk, DeskError, is_replica

    articles, primary, replica = tmp_path / "articles", tmp_path / "primary", tmp_path / "replica"
    write_articles(articles, 20, paragraphs=(1, 1))
    index_paths(primary, [articles], procs=1)
    desk = Desk(primary)
    desk.add_synonym({"words": ["kyiv", "kiev"]}, "ana")
    (primary / "editors.sqlite").write_text("secret accounts")  # whatever else the folder holds
    name = publish(primary, str(replica))
    assert Desk(replica).state().to_json() == desk.state().to_json()
    assert is_replica(replica) and not is_replica(primary)
    assert sorted(p.name for p in replica.iterdir()) == ["builds", "current", DESK_FILE]
    with pytest.raises(DeskError, match="replica"):
        Desk(replica).add_rule({"query": "x", "pin": ["a"]}, "ana")

    # A desk change with no new generation still travels with the next publish.
    desk.add_rule({"query": "elections", "pin": ["a"]}, "ana")
    assert publish(primary, str(replica)) == name
    assert [r.query for r in Desk(replica).state().rules] == ["elections"]


def test_a_published_replica_gets_no_accounts_and_no_desk(tmp_path, desk_index):
    from search.editors import EDITORS_DB
    from web import create_app

    create_app({"INDEX_DIR": desk_index}).test_client().get("/admin/sign-in")  # makes the key
    replica = tmp_path / "replica"
    publish(desk_index, str(replica))
    copied = {path.name for path in replica.rglob("*")}
    assert EDITORS_DB not in copied and "secret_key" not in copied
    assert "secret_key" in {path.name for path in desk_index.iterdir()}
    client = create_app({"INDEX_DIR": replica}).test_client()
    assert client.get("/api/search", query_string={"q": "water"}).status_code == 200
    for path in ("/admin", "/admin/sign-in", "/api/admin/me"):
        assert client.get(path).status_code == 404, path
