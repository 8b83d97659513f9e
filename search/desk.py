"""The editors' desk: synonyms, rules (best bets, hidden results) and freshness, kept in SQLite.

The desk is ``<index folder>/desk.sqlite`` (WAL, one transaction per change,
safe with any number of processes: writers take SQLite's write lock with
``BEGIN IMMEDIATE`` and wait up to 5 s for one another). Every change is a
row of the change log with who (the editor's name the caller passes), when,
what before and what after; ``restore(N)`` brings back the desk as it was
right after change N in one change, itself logged and so undoable too.

Shapes (the JSON of ``/api/admin/...``; ``from_json`` validates, ``to_json``
answers):

- synonym, multi-way: ``{"words": ["kyiv", "kiev"]}``; one-way:
  ``{"from": ["nato"], "to": ["north atlantic treaty organization"]}``
  (a search for a ``from`` phrase also finds the ``to`` ones, not back).
  Each entry is a word or a phrase of any length.
- rule: ``{"query": "elections", "match": "exact"|"contains"|"prefix",
  "filters": {"theme": ["Elections"]}, "pin": [ids], "hide": [ids],
  "starts_at": ISO-8601|null, "ends_at": ISO-8601|null, "note": "..."}``
  (``match`` defaults to ``exact``; times without a zone are UTC; answered
  with a ``Z``).
- freshness: ``{"half_life_days": 365, "weight": 0.0}``.

Answers add ``"id"`` (an integer, never reused) to synonyms and rules.

Public API (``web/`` and ``index/`` use these, nothing else):

- ``Desk(index_dir)``: the desk of an index folder (the file is made on the
  first change). Reads: ``state()`` -> ``DeskState`` (``.synonyms``,
  ``.rules``, ``.freshness``, ``.to_json()``), ``synonym(id)``, ``rule(id)``,
  ``revision()``. Changes, each taking ``editor`` (a name, logged) and
  returning what it made or changed: ``add_synonym(data, editor)``,
  ``update_synonym(id, data, editor)``, ``remove_synonym(id, editor)``,
  ``add_rule(data, editor)``, ``update_rule(id, data, editor)``,
  ``remove_rule(id, editor)``, ``set_freshness(data, editor)``,
  ``restore(number, editor)``. Log: ``history(limit=None)`` -> ``[Change]``
  newest first (``.to_json()``). ``copy_to(path)``: a consistent copy for a
  replica (SQLite's backup API).
- ``DeskError`` (a ValueError): bad input, an unknown id or number, or a
  change asked of a replica's copy; its message is fit for a 400 (or 404
  for ``DeskNotFoundError``).
- ``is_replica(index_dir)``: True when the folder's desk is a copy received
  from ``article-search publish`` (a replica has no desk of its own).
- Searching with it: ``SearchEngine.search`` applies the desk unless
  ``SearchRequest(desk=False)`` (the preview's "without the desk"; never
  from a reader's URL, since a rule may hide an article for a reason) or
  ``synonyms=False`` (the reader's "search without synonyms"); the result's
  ``synonyms_applied`` (``AppliedSynonym``: id, word, read_as) and
  ``rules_applied`` (rule ids) say what fired, each ``Hit.pinned`` whether a
  rule put it there.
- ``DeskWatcher(index_dir)``: what a searching process holds; ``current()``
  returns the desk's state, re-read only when it changed (checked at most
  every ``CHECK_SECONDS``), so a change is live everywhere within a second.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.facets import KNOWN_FACETS

DESK_FILE = "desk.sqlite"
# How often a searching process asks SQLite whether the desk changed: a change is
# live on every worker within this (plus its reading), well inside the 2 s asked.
CHECK_SECONDS = 0.5
BUSY_MS = 5000
MAX_PHRASE_CHARS = 200
MAX_PHRASES = 100
MAX_IDS = 100
MAX_NOTE_CHARS = 2000
MATCHES = ("exact", "contains", "prefix")
# Freshness is off by default: an empty desk changes no ranking (see docs/desk.md).
DEFAULT_HALF_LIFE_DAYS = 365.0
DEFAULT_WEIGHT = 0.0
MAX_HALF_LIFE_DAYS = 100 * 365.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS synonyms (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rules (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changes (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    editor TEXT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    kind TEXT NOT NULL,
    item INTEGER,
    before TEXT,
    after TEXT
);
"""


class DeskError(ValueError):
    """A desk change or read that cannot be done; the message says why (fit for a 400)."""


class DeskNotFoundError(DeskError):
    """No synonym, rule or change has that id or number (a 404)."""


def _fail(message: str) -> DeskError:
    return DeskError(message)


def _object(data: Any, what: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _fail(f"a {what} is a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _fail(f"a {what} has no field {unknown[0]!r} (fields: {', '.join(sorted(allowed))})")
    return data


def _text(value: Any, what: str, limit: int, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise _fail(f"{what} must be a string")
    text = " ".join(value.split())
    if not text and not empty:
        raise _fail(f"{what} must not be empty")
    if len(text) > limit:
        raise _fail(f"{what} is longer than {limit} characters")
    return text


def _phrases(value: Any, what: str, at_least: int) -> tuple[str, ...]:
    """Words or phrases: trimmed, each with a letter or digit, no repeats (case aside)."""
    if not isinstance(value, list) or not value:
        raise _fail(f"{what} must be a non-empty list of words or phrases")
    if len(value) > MAX_PHRASES:
        raise _fail(f"{what} holds more than {MAX_PHRASES} entries")
    phrases: dict[str, str] = {}
    for item in value:
        phrase = _text(item, f"each of {what}", MAX_PHRASE_CHARS)
        if not any(ch.isalnum() for ch in phrase):
            raise _fail(f"{what}: {phrase!r} has no letter or digit")
        phrases.setdefault(phrase.casefold(), phrase)
    if len(phrases) < at_least:
        raise _fail(f"{what} must hold at least {at_least} different words or phrases")
    return tuple(phrases.values())


def _ids(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise _fail(f"{what} must be a list of article ids (strings)")
    if len(value) > MAX_IDS:
        raise _fail(f"{what} holds more than {MAX_IDS} ids")
    if len(set(value)) != len(value):
        raise _fail(f"{what} names an article twice")
    return tuple(value)


def _time(value: Any, what: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _fail(f"{what} must be an ISO-8601 date and time, or null")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise _fail(f"{what} must be an ISO-8601 date and time, not {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(f"{what} must be a number")
    if not low <= value <= high:
        raise _fail(f"{what} must be between {low:g} and {high:g}")
    return float(value)


@dataclass(frozen=True)
class Synonym:
    """Multi-way (``words``: each finds every other) or one-way (``sources`` find ``targets``)."""

    id: int | None
    words: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Any, id: int | None = None) -> Synonym:
        body = _object(data, "synonym", {"id", "words", "from", "to"})
        if "words" in body:
            if "from" in body or "to" in body:
                raise _fail('a synonym has either "words" (multi-way) or "from" and "to" (one-way)')
            return cls(id, words=_phrases(body["words"], "words", 2))
        if "from" not in body or "to" not in body:
            raise _fail('a synonym needs "words" (multi-way) or "from" and "to" (one-way)')
        sources = _phrases(body["from"], "from", 1)
        targets = _phrases(body["to"], "to", 1)
        if {s.casefold() for s in sources} & {t.casefold() for t in targets}:
            raise _fail('"from" and "to" share a word or phrase')
        return cls(id, sources=sources, targets=targets)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {} if self.id is None else {"id": self.id}
        if self.words:
            body["words"] = list(self.words)
        else:
            body["from"], body["to"] = list(self.sources), list(self.targets)
        return body

    def expansions(self) -> list[tuple[str, tuple[str, ...]]]:
        """(phrase, the phrases a search for it also finds), for every phrase that expands."""
        if self.words:
            return [(word, tuple(w for w in self.words if w != word)) for word in self.words]
        return [(source, self.targets) for source in self.sources]


@dataclass(frozen=True)
class Rule:
    """A best bet: when the query triggers it (and its facet values are selected, and it is
    within its time window), ``pin`` goes first in that order and ``hide`` goes away."""

    id: int | None
    query: str
    match: str = "exact"
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    pin: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    note: str = ""

    @classmethod
    def from_json(cls, data: Any, id: int | None = None) -> Rule:
        body = _object(
            data,
            "rule",
            {"id", "query", "match", "filters", "pin", "hide", "starts_at", "ends_at", "note"},
        )
        query = _text(body.get("query"), "query", MAX_PHRASE_CHARS)
        if not any(ch.isalnum() for ch in query):
            raise _fail("query has no letter or digit")
        match = body.get("match", "exact")
        if match not in MATCHES:
            raise _fail(f"match must be one of {', '.join(MATCHES)}")
        filters = _object(body.get("filters", {}), "rule's filters", set(KNOWN_FACETS))
        facet_values = {
            name: _phrases(values, f"filters.{name}", 1) for name, values in filters.items()
        }
        pin, hide = _ids(body.get("pin", []), "pin"), _ids(body.get("hide", []), "hide")
        if not pin and not hide:
            raise _fail("a rule pins or hides at least one article")
        if set(pin) & set(hide):
            raise _fail("a rule cannot both pin and hide the same article")
        starts_at = _time(body.get("starts_at"), "starts_at")
        ends_at = _time(body.get("ends_at"), "ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            raise _fail("ends_at must come after starts_at")
        note = _text(body.get("note", ""), "note", MAX_NOTE_CHARS, empty=True)
        return cls(id, query, match, facet_values, pin, hide, starts_at, ends_at, note)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {} if self.id is None else {"id": self.id}
        body.update(
            query=self.query,
            match=self.match,
            filters={name: list(values) for name, values in self.filters.items()},
            pin=list(self.pin),
            hide=list(self.hide),
            starts_at=_iso(self.starts_at),
            ends_at=_iso(self.ends_at),
            note=self.note,
        )
        return body

    def active(self, now: dt.datetime) -> bool:
        """Within its time window at ``now`` (an aware datetime): starts on time, ends on time."""
        return (self.starts_at is None or self.starts_at <= now) and (
            self.ends_at is None or now < self.ends_at
        )


@dataclass(frozen=True)
class Freshness:
    """Relevance order's decay on an article's date: a share ``weight`` of the score halves
    every ``half_life_days`` of age; ``weight`` 0 (the default) is no decay."""

    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    weight: float = DEFAULT_WEIGHT

    @classmethod
    def from_json(cls, data: Any) -> Freshness:
        body = _object(data, "freshness setting", {"half_life_days", "weight"})
        if "half_life_days" not in body and "weight" not in body:
            raise _fail("freshness needs half_life_days, weight or both")
        half_life = body.get("half_life_days", DEFAULT_HALF_LIFE_DAYS)
        return cls(
            _number(half_life, "half_life_days", 1 / 24, MAX_HALF_LIFE_DAYS),
            _number(body.get("weight", DEFAULT_WEIGHT), "weight", 0.0, 1.0),
        )

    def to_json(self) -> dict[str, Any]:
        return {"half_life_days": self.half_life_days, "weight": self.weight}


@dataclass(frozen=True)
class DeskState:
    """The whole desk at one moment."""

    synonyms: tuple[Synonym, ...] = ()
    rules: tuple[Rule, ...] = ()
    freshness: Freshness = Freshness()
    revision: int = 0

    @property
    def empty(self) -> bool:
        """Nothing that could change a search."""
        return not self.synonyms and not self.rules and self.freshness.weight == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "synonyms": [synonym.to_json() for synonym in self.synonyms],
            "rules": [rule.to_json() for rule in self.rules],
            "freshness": self.freshness.to_json(),
        }


@dataclass(frozen=True)
class Change:
    """One row of the change log: ``before``/``after`` are the item's JSON (None when it did
    not exist), or the whole desk's for a restore."""

    number: int
    editor: str
    at: dt.datetime
    action: str  # add, update, remove, set, restore
    kind: str  # synonym, rule, freshness, desk
    item: int | None
    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "editor": self.editor,
            "at": _iso(self.at),
            "action": self.action,
            "kind": self.kind,
            "id": self.item,
            "before": self.before,
            "after": self.after,
        }

    def summary(self) -> str:
        """One line for the CLI's history."""
        what = self.kind if self.item is None else f"{self.kind} {self.item}"
        shown = self.after if self.after is not None else self.before
        if self.kind == "desk":
            shown = f"the desk as after change {self.after.get('restored')}"
        elif isinstance(shown, dict):
            shown = json.dumps({k: v for k, v in shown.items() if k != "id"}, ensure_ascii=False)
        return f"{self.number:>5}  {_iso(self.at)}  {self.editor}  {self.action} {what}: {shown}"


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False
    )
    connection.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    return connection


def is_replica(index_dir: Path | str) -> bool:
    """True when the index folder's desk is a copy received from a publish."""
    path = Path(index_dir) / DESK_FILE
    if not path.exists():
        return False
    connection = _connect(path)
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = 'replica'").fetchone()
    except sqlite3.DatabaseError:
        return False
    finally:
        connection.close()
    return bool(row and row[0] == "1")


class Desk:
    """The desk of one index folder: reads, changes (each logged) and restores."""

    def __init__(self, index_dir: Path | str) -> None:
        self.path = Path(index_dir) / DESK_FILE
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    # -- connection ------------------------------------------------------------------------

    def _db(self, *, create: bool) -> sqlite3.Connection | None:
        """The connection; None when there is no desk file yet and ``create`` is False."""
        if self._connection is None:
            if not create and not self.path.exists():
                return None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = _connect(self.path)
            if not is_replica_connection(connection):
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
                connection.executescript(_SCHEMA)
            self._connection = connection
        return self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _apply_change(self, change):
        """Run ``change(connection)`` in one write transaction, logged; what it returns."""
        with self._lock:
            db = self._db(create=True)
            if is_replica_connection(db):
                raise _fail("this is a replica's copy of the desk: change it on the indexing host")
            db.execute("BEGIN IMMEDIATE")
            try:
                result = change(db)
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('revision', '1') ON CONFLICT(key) "
                    "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return result

    # -- reads -----------------------------------------------------------------------------

    def state(self) -> DeskState:
        with self._lock:
            db = self._db(create=False)
            if db is None:
                return DeskState()
            db.execute("BEGIN")
            try:
                return _read_state(db)
            finally:
                db.execute("COMMIT")

    def revision(self) -> int:
        with self._lock:
            db = self._db(create=False)
            return 0 if db is None else _revision(db)

    def synonym(self, id: int) -> Synonym:
        return self._item("synonym", id)

    def rule(self, id: int) -> Rule:
        return self._item("rule", id)

    def _item(self, kind: str, id: int):
        with self._lock:
            db = self._db(create=False)
            body = None if db is None else _body(db, kind, id)
        if body is None:
            raise DeskNotFoundError(f"no {kind} {id}")
        return _ITEM_TYPES[kind].from_json(body, id)

    def history(self, limit: int | None = None) -> list[Change]:
        """The change log, newest first."""
        with self._lock:
            db = self._db(create=False)
            if db is None:
                return []
            rows = db.execute(
                "SELECT number, editor, at, action, kind, item, before, after FROM changes "
                "ORDER BY number DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [
            Change(
                number,
                editor,
                dt.datetime.fromisoformat(at),
                action,
                kind,
                item,
                _loads(before),
                _loads(after),
            )
            for number, editor, at, action, kind, item, before, after in rows
        ]

    # -- changes ---------------------------------------------------------------------------

    def add_synonym(self, data: Any, editor: str) -> Synonym:
        return self._put("synonym", None, Synonym.from_json(data), editor)

    def update_synonym(self, id: int, data: Any, editor: str) -> Synonym:
        return self._put("synonym", id, Synonym.from_json(data), editor)

    def remove_synonym(self, id: int, editor: str) -> None:
        self._remove("synonym", id, editor)

    def add_rule(self, data: Any, editor: str) -> Rule:
        return self._put("rule", None, Rule.from_json(data), editor)

    def update_rule(self, id: int, data: Any, editor: str) -> Rule:
        return self._put("rule", id, Rule.from_json(data), editor)

    def remove_rule(self, id: int, editor: str) -> None:
        self._remove("rule", id, editor)

    def set_freshness(self, data: Any, editor: str) -> Freshness:
        freshness = Freshness.from_json(data)
        editor = _editor(editor)

        def change(db):
            before = _freshness(db).to_json()
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('freshness', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (json.dumps(freshness.to_json()),),
            )
            _log(db, editor, "set", "freshness", None, before, freshness.to_json())
            return freshness

        return self._apply_change(change)

    def restore(self, number: int, editor: str) -> Change:
        """Bring back the desk as it was right after change ``number`` (0: the empty desk)."""
        editor = _editor(editor)

        def change(db):
            newest = db.execute("SELECT MAX(number) FROM changes").fetchone()[0] or 0
            if not isinstance(number, int) or not 0 <= number <= newest:
                raise DeskNotFoundError(f"no change {number} (the log runs 1 to {newest})")
            before = _read_state(db).to_json()
            later = db.execute(
                "SELECT kind, item, before FROM changes WHERE number > ? ORDER BY number DESC",
                (number,),
            ).fetchall()
            for kind, item, undone in later:
                _undo(db, kind, item, _loads(undone))
            after = _read_state(db).to_json()
            after["restored"] = number
            before["restored"] = None
            return _log(db, editor, "restore", "desk", None, before, after)

        return self._apply_change(change)

    def copy_to(self, target: Path | str) -> None:
        """A consistent copy of the desk at ``target`` (SQLite's backup API, not a file copy:
        the WAL may hold committed changes the main file has not), marked as a replica's,
        in rollback-journal mode so the one file is the whole desk."""
        target = Path(target)
        target.unlink(missing_ok=True)
        copy = sqlite3.connect(target, isolation_level=None)
        try:
            with self._lock:
                db = self._db(create=True)
                db.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
            copy.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('replica', '1')")
        finally:
            copy.close()

    def _put(self, kind: str, id: int | None, item, editor: str):
        editor = _editor(editor)
        table = _TABLES[kind]

        def change(db):
            before = None
            if id is not None:
                before = _body(db, kind, id)
                if before is None:
                    raise DeskNotFoundError(f"no {kind} {id}")
            body = json.dumps({k: v for k, v in item.to_json().items() if k != "id"})
            if id is None:
                new_id = db.execute(f"INSERT INTO {table} (body) VALUES (?)", (body,)).lastrowid
            else:
                db.execute(f"UPDATE {table} SET body = ? WHERE id = ?", (body, id))
                new_id = id
            made = type(item).from_json(json.loads(body), new_id)
            action = "add" if id is None else "update"
            _log(db, editor, action, kind, new_id, _with_id(before, id), made.to_json())
            return made

        return self._apply_change(change)

    def _remove(self, kind: str, id: int, editor: str) -> None:
        editor = _editor(editor)

        def change(db):
            before = _body(db, kind, id)
            if before is None:
                raise DeskNotFoundError(f"no {kind} {id}")
            db.execute(f"DELETE FROM {_TABLES[kind]} WHERE id = ?", (id,))
            _log(db, editor, "remove", kind, id, _with_id(before, id), None)

        self._apply_change(change)


_TABLES = {"synonym": "synonyms", "rule": "rules"}
_ITEM_TYPES = {"synonym": Synonym, "rule": Rule}


def is_replica_connection(db: sqlite3.Connection) -> bool:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'replica'").fetchone()
    except sqlite3.OperationalError:  # no meta table yet: a new desk
        return False
    return bool(row and row[0] == "1")


def _editor(editor: Any) -> str:
    return _text(editor, "the editor's name", 200)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _with_id(body: dict | None, id: int | None) -> dict | None:
    return None if body is None else {"id": id, **body}


def _body(db: sqlite3.Connection, kind: str, id: int) -> dict | None:
    row = db.execute(f"SELECT body FROM {_TABLES[kind]} WHERE id = ?", (id,)).fetchone()
    return None if row is None else json.loads(row[0])


def _revision(db: sqlite3.Connection) -> int:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0]) if row else 0


def _freshness(db: sqlite3.Connection) -> Freshness:
    row = db.execute("SELECT value FROM meta WHERE key = 'freshness'").fetchone()
    return Freshness.from_json(json.loads(row[0])) if row else Freshness()


def _read_state(db: sqlite3.Connection) -> DeskState:
    """The desk as stored. Rows were validated when written: read as they are (a worker
    reads 10,000 synonyms at every change)."""
    synonyms = tuple(
        _stored_synonym(id, json.loads(body))
        for id, body in db.execute("SELECT id, body FROM synonyms ORDER BY id")
    )
    rules = tuple(
        _stored_rule(id, json.loads(body))
        for id, body in db.execute("SELECT id, body FROM rules ORDER BY id")
    )
    return DeskState(synonyms, rules, _freshness(db), _revision(db))


def _stored_synonym(id: int, body: dict) -> Synonym:
    if "words" in body:
        return Synonym(id, words=tuple(body["words"]))
    return Synonym(id, sources=tuple(body["from"]), targets=tuple(body["to"]))


def _stored_rule(id: int, body: dict) -> Rule:
    starts_at, ends_at = (_time(body[key], key) for key in ("starts_at", "ends_at"))
    filters = {name: tuple(values) for name, values in body["filters"].items()}
    pin, hide = tuple(body["pin"]), tuple(body["hide"])
    return Rule(
        id, body["query"], body["match"], filters, pin, hide, starts_at, ends_at, body["note"]
    )


def _log(db, editor: str, action: str, kind: str, item, before, after) -> Change:
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    number = db.execute(
        "INSERT INTO changes (editor, at, action, kind, item, before, after) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (editor, at.isoformat(), action, kind, item, _dumps(before), _dumps(after)),
    ).lastrowid
    return Change(number, editor, at, action, kind, item, before, after)


def _dumps(body: Any) -> str | None:
    return None if body is None else json.dumps(body, ensure_ascii=False)


def _undo(db: sqlite3.Connection, kind: str, item: int | None, before: Any) -> None:
    """Put back what one logged change replaced."""
    if kind == "freshness":
        stored = json.dumps(before)
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('freshness', ?)", (stored,))
    elif kind == "desk":
        db.execute("DELETE FROM synonyms")
        db.execute("DELETE FROM rules")
        for name in ("synonym", "rule"):
            for body in before[_TABLES[name]]:
                _put_back(db, name, body["id"], body)
        _undo(db, "freshness", None, before["freshness"])
    elif before is None:
        db.execute(f"DELETE FROM {_TABLES[kind]} WHERE id = ?", (item,))
    else:
        _put_back(db, kind, item, before)


def _put_back(db: sqlite3.Connection, kind: str, id: int, body: dict) -> None:
    stored = json.dumps({k: v for k, v in body.items() if k != "id"})
    db.execute(f"INSERT OR REPLACE INTO {_TABLES[kind]} (id, body) VALUES (?, ?)", (id, stored))


class DeskWatcher:
    """A searching process's view of the desk: ``current()`` re-reads the desk only when it
    changed, asking at most every ``CHECK_SECONDS``. Called under the engine's lock
    (search.engine's threading rule).

    SQLite's ``PRAGMA data_version`` tells a connection, for the cost of a page
    read, whether another connection committed since it last looked; a new
    file in the desk's place (a replica's published copy) is seen by its inode.
    """

    def __init__(self, index_dir: Path | str, *, check_seconds: float = CHECK_SECONDS) -> None:
        self.path = Path(index_dir) / DESK_FILE
        self._check_seconds = check_seconds
        self._state = DeskState()
        self._seen: tuple | None = None  # (inode, data_version) of what _state was read from
        self._checked = -math.inf
        self._connection: sqlite3.Connection | None = None
        self._inode: int | None = None

    def current(self) -> DeskState:
        if time.monotonic() - self._checked >= self._check_seconds:
            self._refresh()
            self._checked = time.monotonic()
        return self._state

    def _refresh(self) -> None:
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            self._close()
            self._state = DeskState()
            return
        try:
            if inode != self._inode:
                self._close()
                self._connection, self._inode = _connect(self.path), inode
            db = self._connection
            seen = (inode, db.execute("PRAGMA data_version").fetchone()[0])
            if seen != self._seen:
                db.execute("BEGIN")
                try:
                    self._state = _read_state(db)
                finally:
                    db.execute("COMMIT")
                self._seen = seen
        except sqlite3.OperationalError:  # a desk being made, or locked past the timeout
            self._close()  # keep serving the state last read; try again next check

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        # data_version is per connection: a new one's says nothing about the old one's
        self._connection, self._inode, self._seen = None, None, None
