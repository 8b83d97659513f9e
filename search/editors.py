"""Editors' accounts on the indexing host: passwords, API tokens, sign-in sessions, failed sign-ins.

One SQLite database, ``editors.sqlite`` in the index folder (WAL, created
0600), apart from the desk's: ``article-search publish`` copies index
generations and the desk, never this file, so a replica holds no account.
A replica (search.desk.is_replica: its desk is a copy received from a
publish) has no desk of its own, and no editor can be made there.

Nothing secret is stored in clear. Passwords and API tokens are kept as slow
salted hashes (search.secret_hash); a session id (32 random bytes, as
unguessable as a key) is kept as its SHA-256, a failed sign-in's name and
client address likewise (a password typed into the name box must not land
on disk). A token reads ``ast_<id>_<secret>``: the id finds its row, the
secret is checked against the row's hash; a process remembers the tokens it
has checked (by their SHA-256) so automation does not pay scrypt per call,
and still reads the row each time, so a revoked token stops at once.

Failed sign-ins are rows with a time, shared by every process (gunicorn's
workers): past ``ACCOUNT_FAILURES`` for one name, or ``CLIENT_FAILURES``
from one client, within ``FAILURE_WINDOW_SECONDS``, sign-ins for that name
or from that client are refused, without checking the password, until the
window has passed the oldest of those failures.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from search.desk import is_replica
from search.secret_hash import hash_secret, spend_verification, verify_secret

EDITORS_DB = "editors.sqlite"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "ast"
SESSION_SECONDS = 8 * 3600  # a working day, whatever happens
SESSION_IDLE_SECONDS = 3600  # and no more than an hour away from the desk
ACCOUNT_FAILURES = 5
CLIENT_FAILURES = 20
FAILURE_WINDOW_SECONDS = 15 * 60
TOUCH_SECONDS = 60  # last-seen and last-used times are written at most once a minute
SCHEMA = """
CREATE TABLE IF NOT EXISTS editors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_sign_in_at REAL
);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    editor_id INTEGER NOT NULL REFERENCES editors(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    editor_id INTEGER NOT NULL REFERENCES editors(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    last_seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sign_in_failures (
    scope TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_failures_by_key ON sign_in_failures (scope, key_hash, at);
"""


class EditorError(ValueError):
    """A name, password or account the operator can fix; the message says how."""


@dataclass(frozen=True)
class Editor:
    id: int
    name: str


@dataclass(frozen=True)
class EditorSummary:
    name: str
    created_at: float
    tokens: int
    last_sign_in_at: float | None


def require_valid_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise EditorError(
            f"an editor's name is 1 to 64 letters, digits, '.', '_', '@' or '-', "
            f"starting with a letter or digit: {name[:80]!r} is not"
        )
    return name


def require_valid_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise EditorError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise EditorError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    return password


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EditorStore:
    """The accounts database of one index folder; each call opens its own connection."""

    def __init__(self, index_dir: Path | str):
        self.index_dir = Path(index_dir)
        self.path = self.index_dir / EDITORS_DB
        self._checked_tokens: dict[str, str] = {}  # token id -> SHA-256 of the token checked

    @contextmanager
    def _connection(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            if not create:
                raise EditorError(
                    f"no editors in {self.index_dir} yet: `editors add NAME` makes one"
                )
            # Made 0600 before SQLite opens it; its -wal and -shm files take its mode.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        with closing(sqlite3.connect(self.path, timeout=10)) as connection:
            connection.execute("PRAGMA foreign_keys = ON")
            if connection.execute("PRAGMA user_version").fetchone()[0] == 0:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.executescript(SCHEMA + "PRAGMA user_version = 1;")
            with connection:  # one transaction: committed, or rolled back on error
                yield connection

    # --- accounts (the CLI) ---

    def add(self, name: str, password: str) -> Editor:
        require_valid_name(name)
        require_valid_password(password)
        if is_replica(self.index_dir):
            raise EditorError(
                f"{self.index_dir} is a replica (it receives publishes): "
                "make editors on the indexing host"
            )
        password_hash = hash_secret(password)
        with self._connection(create=True) as db:
            try:
                cursor = db.execute(
                    "INSERT INTO editors (name, password_hash, created_at) VALUES (?, ?, ?)",
                    (name, password_hash, time.time()),
                )
            except sqlite3.IntegrityError:
                raise EditorError(f"there is already an editor named {name!r}") from None
        return Editor(cursor.lastrowid, name)

    def set_password(self, name: str, password: str) -> int:
        """Give ``name`` a new password and end their open sessions (signed out at once,
        wherever they were signed in); how many sessions were ended. API tokens stay."""
        require_valid_password(password)
        password_hash = hash_secret(password)
        with self._connection() as db:
            editor_id = self._editor_id(db, name)
            db.execute(
                "UPDATE editors SET password_hash = ? WHERE id = ?", (password_hash, editor_id)
            )
            return db.execute("DELETE FROM sessions WHERE editor_id = ?", (editor_id,)).rowcount

    def remove(self, name: str) -> None:
        """Remove an editor with their tokens and sessions (signed out at once)."""
        with self._connection() as db:
            if db.execute("DELETE FROM editors WHERE name = ?", (name,)).rowcount == 0:
                raise EditorError(f"there is no editor named {name!r}")

    def editors(self) -> list[EditorSummary]:
        if not self.path.exists():
            return []
        with self._connection() as db:
            rows = db.execute(
                "SELECT name, created_at, last_sign_in_at, "
                "(SELECT count(*) FROM tokens WHERE editor_id = editors.id) "
                "FROM editors ORDER BY name"
            ).fetchall()
        return [EditorSummary(name, made, tokens, signed) for name, made, signed, tokens in rows]

    def _editor_id(self, db: sqlite3.Connection, name: str) -> int:
        row = db.execute("SELECT id FROM editors WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise EditorError(f"there is no editor named {name!r}")
        return row[0]

    def new_token(self, name: str) -> str:
        """A new API token for ``name``, to show once: only its hash is kept."""
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        token = f"{TOKEN_PREFIX}_{token_id}_{secret}"
        token_hash = hash_secret(token)
        with self._connection() as db:
            db.execute(
                "INSERT INTO tokens (id, editor_id, token_hash, created_at) VALUES (?, ?, ?, ?)",
                (token_id, self._editor_id(db, name), token_hash, time.time()),
            )
        return token

    def revoke_tokens(self, name: str) -> int:
        """Revoke every API token of ``name``; how many there were."""
        with self._connection() as db:
            editor_id = self._editor_id(db, name)
            return db.execute("DELETE FROM tokens WHERE editor_id = ?", (editor_id,)).rowcount

    # --- signing in (the web app) ---

    def check_password(self, name: str, password: str) -> Editor | None:
        """The editor ``name`` if ``password`` is theirs; as slow for an unknown name."""
        row = None
        if self.path.exists() and NAME_PATTERN.fullmatch(name):
            with self._connection() as db:
                row = db.execute(
                    "SELECT id, name, password_hash FROM editors WHERE name = ?", (name,)
                ).fetchone()
        if row is None:
            spend_verification(password)
            return None
        if not verify_secret(password, row[2]):
            return None
        with self._connection() as db:
            db.execute("UPDATE editors SET last_sign_in_at = ? WHERE id = ?", (time.time(), row[0]))
        return Editor(row[0], row[1])

    def check_token(self, token: str) -> Editor | None:
        """The editor whose unrevoked API token ``token`` is, else None."""
        prefix, _, rest = token.partition("_")
        token_id, _, secret = rest.partition("_")
        if prefix != TOKEN_PREFIX or not token_id or not secret or not self.path.exists():
            return None
        with self._connection() as db:
            row = db.execute(
                "SELECT editors.id, editors.name, tokens.token_hash, tokens.last_used_at "
                "FROM tokens JOIN editors ON editors.id = tokens.editor_id WHERE tokens.id = ?",
                (token_id,),
            ).fetchone()
        if row is None:
            spend_verification(token)
            return None
        editor_id, name, token_hash, last_used = row
        digest = _digest(token)
        remembered = self._checked_tokens.get(token_id)
        if not (remembered and hmac.compare_digest(remembered, digest)):
            if not verify_secret(token, token_hash):
                return None
            self._checked_tokens[token_id] = digest
        now = time.time()
        if last_used is None or now - last_used > TOUCH_SECONDS:
            with self._connection() as db:
                db.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now, token_id))
        return Editor(editor_id, name)

    def start_session(self, editor: Editor) -> str:
        """A new session id for ``editor`` (for their cookie); expired sessions are cleared."""
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        with self._connection() as db:
            db.execute(
                "DELETE FROM sessions WHERE created_at < ? OR last_seen_at < ?",
                (now - SESSION_SECONDS, now - SESSION_IDLE_SECONDS),
            )
            db.execute(
                "INSERT INTO sessions (id_hash, editor_id, created_at, last_seen_at) "
                "VALUES (?, ?, ?, ?)",
                (_digest(session_id), editor.id, now, now),
            )
        return session_id

    def session_editor(self, session_id: str) -> Editor | None:
        """The editor signed in with ``session_id``, if the session has not expired."""
        if not self.path.exists():
            return None
        now = time.time()
        with self._connection() as db:
            row = db.execute(
                "SELECT editors.id, editors.name, sessions.created_at, sessions.last_seen_at "
                "FROM sessions JOIN editors ON editors.id = sessions.editor_id "
                "WHERE sessions.id_hash = ?",
                (_digest(session_id),),
            ).fetchone()
            if row is None:
                return None
            editor_id, name, created, last_seen = row
            if now - created > SESSION_SECONDS or now - last_seen > SESSION_IDLE_SECONDS:
                db.execute("DELETE FROM sessions WHERE id_hash = ?", (_digest(session_id),))
                return None
            if now - last_seen > TOUCH_SECONDS:
                db.execute(
                    "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?",
                    (now, _digest(session_id)),
                )
        return Editor(editor_id, name)

    def end_session(self, session_id: str) -> None:
        if self.path.exists():
            with self._connection() as db:
                db.execute("DELETE FROM sessions WHERE id_hash = ?", (_digest(session_id),))

    # --- failed sign-ins ---

    @staticmethod
    def _failure_keys(name: str, client: str) -> tuple[tuple[str, str, int], ...]:
        return (
            ("account", _digest(name.lower()), ACCOUNT_FAILURES),
            ("client", _digest(client), CLIENT_FAILURES),
        )

    def sign_in_locked_for(self, name: str, client: str) -> float:
        """Seconds until ``name`` may try from ``client`` again; 0 when it may now."""
        if not self.path.exists():
            return 0.0
        now = time.time()
        wait = 0.0
        with self._connection() as db:
            for scope, key_hash, limit in self._failure_keys(name, client):
                times = db.execute(
                    "SELECT at FROM sign_in_failures WHERE scope = ? AND key_hash = ? AND at > ? "
                    "ORDER BY at DESC LIMIT ?",
                    (scope, key_hash, now - FAILURE_WINDOW_SECONDS, limit),
                ).fetchall()
                if len(times) >= limit:
                    wait = max(wait, times[-1][0] + FAILURE_WINDOW_SECONDS - now)
        return wait

    def record_failure(self, name: str, client: str) -> tuple[int, int]:
        """Count a failed sign-in; the failures in the window for the name and the client."""
        now = time.time()
        counts = []
        with self._connection(create=True) as db:
            db.execute(
                "DELETE FROM sign_in_failures WHERE at <= ?", (now - FAILURE_WINDOW_SECONDS,)
            )
            for scope, key_hash, _ in self._failure_keys(name, client):
                db.execute(
                    "INSERT INTO sign_in_failures (scope, key_hash, at) VALUES (?, ?, ?)",
                    (scope, key_hash, now),
                )
                counts.append(
                    db.execute(
                        "SELECT count(*) FROM sign_in_failures WHERE scope = ? AND key_hash = ?",
                        (scope, key_hash),
                    ).fetchone()[0]
                )
        return counts[0], counts[1]

    def clear_failures(self, name: str) -> None:
        """Forget the failed sign-ins for ``name`` (it has just signed in)."""
        scope, key_hash, _ = self._failure_keys(name, "")[0]
        if not self.path.exists():
            return
        with self._connection() as db:
            db.execute(
                "DELETE FROM sign_in_failures WHERE scope = ? AND key_hash = ?", (scope, key_hash)
            )
