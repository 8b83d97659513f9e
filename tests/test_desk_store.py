"""The desk's store (search.desk): validation, the change log, restore, several processes."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from search.desk import Desk, DeskError, DeskNotFoundError, DeskWatcher, is_replica


def test_shapes_round_trip(tmp_path):
    desk = Desk(tmp_path)
    multi = desk.add_synonym({"words": [" Kyiv ", "kiev", "KIEV"]}, "ana")
    one_way = desk.add_synonym(
        {"from": ["nato"], "to": ["north atlantic  treaty organization"]}, "ana"
    )
    rule = desk.add_rule(
        {
            "query": "Elections",
            "match": "contains",
            "filters": {"theme": ["Elections"]},
            "pin": ["a", "b"],
            "hide": ["c"],
            "starts_at": "2026-01-01T10:00:00+01:00",
            "ends_at": "2026-02-01",
            "note": "count",
        },
        "ben",
    )
    assert multi.to_json() == {"id": multi.id, "words": ["Kyiv", "kiev"]}
    assert one_way.to_json() == {
        "id": one_way.id,
        "from": ["nato"],
        "to": ["north atlantic treaty organization"],
    }
    assert rule.to_json() == {
        "id": rule.id,
        "query": "Elections",
        "match": "contains",
        "filters": {"theme": ["Elections"]},
        "pin": ["a", "b"],
        "hide": ["c"],
        "starts_at": "2026-01-01T09:00:00Z",
        "ends_at": "2026-02-01T00:00:00Z",
        "note": "count",
    }
    assert desk.set_freshness({"half_life_days": 30, "weight": 0.25}, "ben").to_json() == {
        "half_life_days": 30.0,
        "weight": 0.25,
    }
    state = Desk(tmp_path).state()  # another connection reads what was committed
    assert [s.id for s in state.synonyms] == [multi.id, one_way.id]
    assert state.rules[0] == rule
    assert state.freshness.weight == 0.25 and not state.empty


@pytest.mark.parametrize(
    "data, says",
    [
        ({"words": ["kyiv"]}, "at least 2"),
        ({"words": ["kyiv", "KYIV"]}, "at least 2"),
        ({"words": ["kyiv", "kiev"], "from": ["x"]}, "either"),
        ({"from": ["nato"]}, "needs"),
        ({"from": ["nato"], "to": ["NATO"]}, "share"),
        ({"words": ["kyiv", 3]}, "string"),
        ({"words": ["kyiv", "--"]}, "no letter"),
        ({"words": "kyiv, kiev"}, "list"),
        ({"wrods": ["a", "b"]}, "no field 'wrods'"),
        ([], "JSON object"),
    ],
)
def test_bad_synonyms_are_refused_clearly(tmp_path, data, says):
    desk = Desk(tmp_path)
    with pytest.raises(DeskError, match=says):
        desk.add_synonym(data, "ana")
    assert desk.history() == [] and desk.state().synonyms == ()


@pytest.mark.parametrize(
    "data, says",
    [
        ({"query": "x", "pin": []}, "pins or hides"),
        ({"query": " ", "pin": ["a"]}, "empty"),
        ({"query": "x", "match": "fuzzy", "pin": ["a"]}, "match must be"),
        ({"query": "x", "pin": ["a", "a"]}, "twice"),
        ({"query": "x", "pin": ["a"], "hide": ["a"]}, "both"),
        ({"query": "x", "pin": ["a"], "filters": {"colour": ["red"]}}, "no field 'colour'"),
        ({"query": "x", "pin": ["a"], "starts_at": "soon"}, "ISO-8601"),
        ({"query": "x", "pin": ["a"], "starts_at": "2026-02-01", "ends_at": "2026-01-01"}, "after"),
        # Found by schemathesis: a falsy note of another type was taken as no note.
        ({"query": "x", "pin": ["a"], "note": False}, "note must be a string"),
        ({"query": "x", "pin": ["a"], "note": None}, "note must be a string"),
        # Likewise a falsy match, filters or list of ids of another type than the schema's.
        ({"query": "x", "pin": ["a"], "match": ""}, "match must be"),
        ({"query": "x", "pin": ["a"], "filters": False}, "filters"),
        ({"query": "x", "pin": ["a"], "hide": None}, "hide must be a list"),
    ],
)
def test_bad_rules_are_refused_clearly(tmp_path, data, says):
    with pytest.raises(DeskError, match=says):
        Desk(tmp_path).add_rule(data, "ana")


@pytest.mark.parametrize(
    "data", [{"weight": 2}, {"weight": True}, {"half_life_days": 0}, {}, {"weight": float("nan")}]
)
def test_bad_freshness_is_refused(tmp_path, data):
    with pytest.raises(DeskError):
        Desk(tmp_path).set_freshness(data, "ana")


def test_history_and_restore(tmp_path):
    desk = Desk(tmp_path)
    kyiv = desk.add_synonym({"words": ["kyiv", "kiev"]}, "ana")  # 1
    rule = desk.add_rule({"query": "elections", "pin": ["a"]}, "ana")  # 2
    desk.update_synonym(kyiv.id, {"words": ["kyiv", "kiev", "kyjiw"]}, "ben")  # 3
    desk.set_freshness({"weight": 0.3}, "ben")  # 4
    desk.remove_rule(rule.id, "ben")  # 5
    desk.add_synonym({"from": ["nato"], "to": ["alliance"]}, "cy")  # 6
    log = desk.history()
    assert [c.number for c in log] == [6, 5, 4, 3, 2, 1]
    assert log[2].to_json()["before"] == {"half_life_days": 365.0, "weight": 0.0}
    assert log[3].before == {"id": kyiv.id, "words": ["kyiv", "kiev"]}
    assert log[3].after == {"id": kyiv.id, "words": ["kyiv", "kiev", "kyjiw"]}
    assert log[1].action == "remove" and log[1].after is None and log[1].editor == "ben"

    restored = desk.restore(2, "dee")
    state = desk.state()
    assert restored.number == 7 and restored.kind == "desk" and restored.editor == "dee"
    assert [s.to_json() for s in state.synonyms] == [{"id": kyiv.id, "words": ["kyiv", "kiev"]}]
    assert [r.id for r in state.rules] == [rule.id]  # the removed rule is back, same id
    assert state.freshness.weight == 0.0
    # The restore is a change like any other: restoring to just before it undoes it.
    desk.restore(6, "dee")
    assert len(desk.state().synonyms) == 2 and desk.state().rules == ()
    assert desk.state().freshness.weight == 0.3
    desk.restore(0, "dee")
    assert desk.state().empty
    with pytest.raises(DeskNotFoundError):
        desk.restore(99, "dee")
    with pytest.raises(DeskNotFoundError):
        desk.remove_synonym(12345, "dee")


def test_a_failed_change_leaves_nothing(tmp_path):
    desk = Desk(tmp_path)
    desk.add_synonym({"words": ["kyiv", "kiev"]}, "ana")
    revision = desk.revision()
    with pytest.raises(DeskNotFoundError):
        desk.update_rule(7, {"query": "x", "pin": ["a"]}, "ana")
    assert desk.revision() == revision and len(desk.history()) == 1


def _add_synonyms(folder, editor, count):
    desk = Desk(folder)
    for n in range(count):
        desk.add_synonym({"words": [f"{editor}{n}", f"other{editor}{n}"]}, editor)


@pytest.mark.slow
def test_several_processes_write_without_losing_a_change(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_add_synonyms, args=(tmp_path, f"e{n}", 40)) for n in (1, 2, 3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    desk = Desk(tmp_path)
    assert len(desk.state().synonyms) == 120 and len(desk.history()) == 120
    assert desk.revision() == 120
    journal = sqlite3.connect(desk.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_live_desk_sees_changes_and_replaced_files(tmp_path):
    live = DeskWatcher(tmp_path, check_seconds=0)
    assert live.current().empty  # no file yet, and reading makes none
    assert not (tmp_path / "desk.sqlite").exists()
    desk = Desk(tmp_path)
    desk.add_synonym({"words": ["kyiv", "kiev"]}, "ana")
    assert len(live.current().synonyms) == 1
    desk.set_freshness({"weight": 0.5}, "ana")
    assert live.current().freshness.weight == 0.5

    # A replica's copy replaces the file: seen by its inode, and it refuses changes.
    other = tmp_path / "other"
    Desk(other).add_rule({"query": "x", "pin": ["a"]}, "ana")
    Desk(other).copy_to(tmp_path / "incoming.sqlite")
    desk.close()
    (tmp_path / "incoming.sqlite").replace(tmp_path / "desk.sqlite")
    for leftover in ("desk.sqlite-wal", "desk.sqlite-shm"):
        (tmp_path / leftover).unlink(missing_ok=True)
    state = live.current()
    assert state.synonyms == () and len(state.rules) == 1
    assert is_replica(tmp_path) and not is_replica(other)
    with pytest.raises(DeskError, match="replica"):
        Desk(tmp_path).add_synonym({"words": ["a", "b"]}, "ana")


def test_cli_history_and_restore(tmp_path, capsys):
    from index.cli import main

    desk = Desk(tmp_path)
    desk.add_synonym({"words": ["kyiv", "kiev"]}, "ana")
    desk.add_rule({"query": "elections", "pin": ["a"]}, "ben")
    assert main(["desk", "history", "--index", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "ben  add rule" in lines[0] and "ana  add synonym" in lines[1]
    assert main(["desk", "restore", "1", "--editor", "cy", "--index", str(tmp_path)]) == 0
    assert "recorded as change 3" in capsys.readouterr().out
    assert desk.state().rules == () and len(desk.state().synonyms) == 1
    assert main(["desk", "restore", "9", "--index", str(tmp_path)]) == 2
    assert "no change 9" in capsys.readouterr().err
    assert main(["desk", "history", "--json", "--limit", "1", "--index", str(tmp_path)]) == 0
    assert '"action": "restore"' in capsys.readouterr().out
